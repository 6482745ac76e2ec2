package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"framecast.dev/server/internal/store/storetest"
	"framecast.dev/shared/api"
	"framecast.dev/shared/seal"
	"framecast.dev/shared/testenv"
)

// TestTwoReplicas runs two framecast-server processes on one PostgreSQL
// database and one S3 bucket (versitygw), each with its own data dir,
// and sends one recording's requests to them alternately, as a load
// balancer without session affinity would.
func TestTwoReplicas(t *testing.T) {
	s3 := testenv.S3(t)
	kek := make([]byte, 32)
	rand.Read(kek)
	env := []string{
		"FRAMECAST_DATABASE_URL=" + storetest.URL(t, storetest.Postgres),
		"FRAMECAST_BLOB_URL=" + s3.URL(),
		"FRAMECAST_S3_ACCESS_KEY=" + s3.AccessKey,
		"FRAMECAST_S3_SECRET_KEY=" + s3.SecretKey,
		"FRAMECAST_KEK=" + hex.EncodeToString(kek),
	}
	a, b := startServer(t, env...), startServer(t, env...)
	ca := api.NewClient("http://"+a.addr, placeholderToken)
	cb := api.NewClient("http://"+b.addr, placeholderToken)
	ctx := context.Background()
	defer func() {
		if t.Failed() {
			t.Logf("replica A:\n%s\nreplica B:\n%s", a.stderr.String(), b.stderr.String())
		}
	}()

	// A recording: an init segment and five media segments. The last two
	// are larger than the server's read buffer, so their requests reach
	// the handler (and take the segment's lease) before the body is in.
	key, rec := seal.NewKey(), seal.NewRecordingID()
	plain := map[api.SegmentIndex][]byte{api.InitSegment: random(700)}
	sealed := map[api.SegmentIndex][]byte{}
	for i, n := range []int{3000, seal.ChunkSize + 10, 2500, 5 * seal.ChunkSize, 4 * seal.ChunkSize} {
		plain[api.SegmentIndex(i)] = random(n)
	}
	for i, p := range plain {
		sealed[i] = sealBytes(t, key, rec, i, p)
	}

	v, created, err := ca.CreateVideo(ctx, api.CreateVideoRequest{Title: "two replicas", RecordingID: rec.String()})
	if err != nil || !created {
		t.Fatalf("create on A: %v created=%v", err, created)
	}
	// The retried create reaches B and finds the same video.
	again, created, err := cb.CreateVideo(ctx, api.CreateVideoRequest{Title: "two replicas", RecordingID: rec.String()})
	if err != nil || created || again.ID != v.ID {
		t.Fatalf("create retried on B = %+v created=%v err=%v", again, created, err)
	}

	put := func(c *api.Client, i api.SegmentIndex) api.Segment {
		t.Helper()
		s, err := c.PutSegment(ctx, v.ID, i, sum(sealed[i]), int64(len(sealed[i])), bytes.NewReader(sealed[i]))
		if err != nil || !s.Stored {
			t.Fatalf("put segment %s: %+v, %v", i, s, err)
		}
		return s
	}
	put(ca, api.InitSegment)
	put(cb, 0)
	put(ca, 1)
	put(cb, 2)
	// B stored segment 0; A knows without a copy.
	if s := put(ca, 0); s.Offset != int64(len(sealed[0])) {
		t.Fatalf("repeated put on A = %+v", s)
	}

	// Segment 3: the connection to A dies a third of the way in; B tells
	// where it stands and takes the rest.
	s3b := sealed[3]
	cut := len(s3b) / 3
	conn := rawPut(t, a.addr, v.ID, 3, s3b)
	conn.Write(s3b[:cut])
	time.Sleep(100 * time.Millisecond)
	conn.Close()
	var st api.UploadState
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err = cb.SegmentState(ctx, v.ID, 3)
		if err == nil && st.Offset == int64(cut) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("HEAD on B after the cut on A = %+v, %v; want offset %d", st, err, cut)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if seg, err := cb.PatchSegment(ctx, v.ID, 3, sum(s3b), int64(len(s3b)), int64(cut), bytes.NewReader(s3b[cut:])); err != nil || !seg.Stored {
		t.Fatalf("PATCH on B = %+v, %v", seg, err)
	}
	if st, err := ca.SegmentState(ctx, v.ID, 3); err != nil || !st.Stored() {
		t.Fatalf("HEAD on A after B stored it = %+v, %v", st, err)
	}

	// Segment 4: a stale request on B holds the segment (its client went
	// silent); a new upload on A takes it over through the database.
	s4 := sealed[4]
	stale := rawPut(t, b.addr, v.ID, 4, s4)
	stale.Write(s4[:20000])
	time.Sleep(300 * time.Millisecond) // B's handler holds the lease now
	start := time.Now()
	put(ca, 4)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("takeover across replicas took %v", d)
	} else {
		t.Logf("takeover across replicas: %v", d.Round(time.Millisecond))
	}
	stale.SetReadDeadline(time.Now().Add(5 * time.Second))
	if resp, err := http.ReadResponse(bufio.NewReader(stale), nil); err != nil {
		t.Errorf("the stale upload on B got no answer: %v", err)
	} else if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("the stale upload on B: status %d, want 400 (interrupted)", resp.StatusCode)
	}
	stale.Close()

	durations := []float64{2, 2, 2, 2, 1.25}
	fv, err := cb.Finalize(ctx, v.ID, api.FinalizeRequest{SegmentCount: 5, Init: true, SegmentDurations: durations, DataKey: key[:]})
	if err != nil || fv.State != api.StateReady {
		t.Fatalf("finalize on B = %+v, %v", fv, err)
	}

	// A plays what B finalized and both stored, from the shared bucket.
	slug := fv.ShareURL[strings.LastIndex(fv.ShareURL, "/v/")+3:]
	body := get(t, "http://"+a.addr+"/v/"+slug+"/playlist.m3u8")
	for i := range 5 {
		if !strings.Contains(string(body), fmt.Sprintf("seg/%d.m4s", i)) {
			t.Fatalf("playlist from A lacks segment %d:\n%s", i, body)
		}
	}
	if got := get(t, "http://"+a.addr+"/v/"+slug+"/init.mp4"); !bytes.Equal(got, plain[api.InitSegment]) {
		t.Fatal("init.mp4 from A differs from what was recorded")
	}
	for i := range 5 {
		if got := get(t, fmt.Sprintf("http://%s/v/%s/seg/%d.m4s", a.addr, slug, i)); !bytes.Equal(got, plain[api.SegmentIndex(i)]) {
			t.Fatalf("segment %d from A: %d bytes, want the %d recorded", i, len(got), len(plain[api.SegmentIndex(i)]))
		}
	}

	// Nothing stayed behind: no staged parts in the bucket, no uploads in
	// either data dir.
	var staged []string
	filepath.WalkDir(filepath.Join(s3.Dir, s3.Bucket, "uploads"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			staged = append(staged, p)
		}
		return nil
	})
	if len(staged) != 0 {
		t.Errorf("staged parts left in the bucket: %v", staged)
	}
	for _, s := range []*server{a, b} {
		if entries, _ := os.ReadDir(filepath.Join(s.data, "spool")); len(entries) != 0 {
			t.Errorf("spool files left in %s: %v", s.data, entries)
		}
		if _, err := os.Stat(filepath.Join(s.data, "blobs")); err == nil {
			t.Errorf("%s has local blobs; everything should be in the bucket", s.data)
		}
	}
}

// rawPut starts a PUT of a segment and leaves the body to the caller.
func rawPut(t *testing.T, addr, videoID string, i api.SegmentIndex, b []byte) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n%s: %s\r\n%s: %d\r\nContent-Length: %d\r\n\r\n",
		api.SegmentPath(videoID, i), placeholderToken, api.HeaderSHA256, sum(b), api.HeaderUploadLength, len(b), len(b))
	return conn
}

func get(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d, %v", url, resp.StatusCode, err)
	}
	return b
}

func sealBytes(t *testing.T, key seal.Key, rec seal.RecordingID, i api.SegmentIndex, plain []byte) []byte {
	t.Helper()
	sealed, err := seal.Seal(plain, key, rec, i.SealIndex())
	if err != nil {
		t.Fatal(err)
	}
	return sealed
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
