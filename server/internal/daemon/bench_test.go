package daemon

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"

	"framecast.dev/server/internal/store"
	"framecast.dev/shared/api"
	"framecast.dev/shared/seal"
)

// BenchmarkStopToPlayable measures, on the server side, what happens after
// Stop: the last segment's PUT, finalize, and a viewer fetching the
// playlist and the last segment. It must stay flat in the recording's
// length (segments of 2 s: 10 s, 2 min and 10 min recordings).
func BenchmarkStopToPlayable(b *testing.B) {
	for _, n := range []int{5, 60, 300} {
		b.Run(fmt.Sprintf("segments=%d", n), func(b *testing.B) {
			ts := start(b)
			ctx := context.Background()
			plain := randomBytes(256 << 10)
			for b.Loop() {
				b.StopTimer()
				key, rec := seal.NewKey(), seal.NewRecordingID()
				v, _, err := ts.client.CreateVideo(ctx, api.CreateVideoRequest{RecordingID: rec.String()})
				if err != nil {
					b.Fatal(err)
				}
				// Segment 0 (the one finalize opens to check the key) and the
				// last go through HTTP; the rows of the ones in between are
				// inserted in one transaction, as uploading hundreds of
				// fsynced segments per iteration would make the run last
				// minutes without changing what is measured.
				first := sealSegment(b, key, rec, 0, plain)
				if _, err := ts.client.PutSegment(ctx, v.ID, 0, sum(first), int64(len(first)), bytes.NewReader(first)); err != nil {
					b.Fatal(err)
				}
				fillSegments(b, ts, v.ID, 1, n-1)
				last := sealSegment(b, key, rec, api.SegmentIndex(n-1), plain)
				durations := make([]float64, n)
				for i := range durations {
					durations[i] = 2
				}
				b.StartTimer()

				if _, err := ts.client.PutSegment(ctx, v.ID, api.SegmentIndex(n-1), sum(last), int64(len(last)), bytes.NewReader(last)); err != nil {
					b.Fatal(err)
				}
				v, err = ts.client.Finalize(ctx, v.ID, api.FinalizeRequest{SegmentCount: n, SegmentDurations: durations, DataKey: key[:]})
				if err != nil {
					b.Fatal(err)
				}
				for _, p := range []string{"/playlist.m3u8", fmt.Sprintf("/seg/%d.m4s", n-1)} {
					resp, err := http.Get(v.ShareURL + p)
					if err != nil {
						b.Fatal(err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Fatalf("GET %s: %d", p, resp.StatusCode)
					}
				}
			}
		})
	}
}

// fillSegments records segments [from, to) as stored without blobs.
func fillSegments(b *testing.B, ts *testServer, videoID string, from, to int) {
	db := ts.d.store.(*store.SQLite).DB()
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	for i := from; i < to; i++ {
		if _, err := tx.Exec(`INSERT INTO segments (video_id, idx, size, sha256, created_at) VALUES (?, ?, 1, 'x', 0)`, videoID, i); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkPutSegment is the server's ingest throughput for 2 MiB sealed
// segments over loopback (hash, seal header check, fsynced staging, blob
// store, database row).
func BenchmarkPutSegment(b *testing.B) {
	ts := start(b)
	ctx := context.Background()
	key, rec := seal.NewKey(), seal.NewRecordingID()
	v, _, err := ts.client.CreateVideo(ctx, api.CreateVideoRequest{RecordingID: rec.String()})
	if err != nil {
		b.Fatal(err)
	}
	plain := randomBytes(2 << 20)
	sealed := sealSegment(b, key, rec, 0, plain)
	b.SetBytes(int64(len(sealed)))
	i := 0
	for b.Loop() {
		b.StopTimer()
		if i > 0 {
			sealed = sealSegment(b, key, rec, api.SegmentIndex(i), plain)
		}
		b.StartTimer()
		if _, err := ts.client.PutSegment(ctx, v.ID, api.SegmentIndex(i), sum(sealed), int64(len(sealed)), bytes.NewReader(sealed)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
