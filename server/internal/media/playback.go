package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"framecast.dev/server/internal/store"
	"framecast.dev/shared/api"
	"framecast.dev/shared/seal"
)

// Playable returns the playable video with this slug. Unknown and unfinished
// videos are the same KindNotFound, so a slug guess learns nothing.
func (s *Service) Playable(ctx context.Context, slug string) (store.Video, error) {
	notFound := fail(KindNotFound, "There is no video at this address.")
	if !ValidSlug(slug) {
		return store.Video{}, notFound
	}
	v, err := s.store.VideoBySlug(ctx, slug)
	if errors.Is(err, store.ErrNotFound) || err == nil && !v.Playable() {
		return store.Video{}, notFound
	}
	return v, err
}

// Playlist is the HLS playlist of a playable video: VOD once ready; while
// an import is still processed (Growing), an EVENT playlist of the
// segments published so far, without an end (players reload it), that
// starts playing at the beginning, not at its live edge. URIs are
// relative to the playlist's own URL (/v/<slug>/playlist.m3u8).
func Playlist(v store.Video) string {
	var b strings.Builder
	target := 1.0
	for _, d := range v.Durations {
		target = max(target, math.Ceil(d))
	}
	// Version 7 for EXT-X-MAP with fMP4; 3 is enough without it.
	version := 3
	if v.HasInit {
		version = 7
	}
	kind := "VOD"
	if v.Growing() {
		kind = "EVENT"
	}
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:%d\n#EXT-X-TARGETDURATION:%d\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:%s\n#EXT-X-INDEPENDENT-SEGMENTS\n", version, int(target), kind)
	if v.Growing() {
		b.WriteString("#EXT-X-START:TIME-OFFSET=0\n")
	}
	if v.HasInit {
		b.WriteString("#EXT-X-MAP:URI=\"init.mp4\"\n")
	}
	for i, d := range v.Durations {
		fmt.Fprintf(&b, "#EXTINF:%.6f,\nseg/%d.m4s\n", d, i)
	}
	if !v.Growing() {
		b.WriteString("#EXT-X-ENDLIST\n")
	}
	return b.String()
}

// OpenSegment opens a stored segment of a playable video for streaming. The
// first chunk is opened before returning, so a segment that fails
// authentication at the start is an error here, before any answer is
// sent. A failure further in ends the stream with an error: the reader
// never yields a byte that was not authenticated.
func (s *Service) OpenSegment(ctx context.Context, v store.Video, index api.SegmentIndex) (io.ReadCloser, int64, error) {
	notFound := fail(KindNotFound, "There is no such segment.")
	switch {
	case index == api.InitSegment && !v.HasInit:
		return nil, 0, notFound
	case index != api.InitSegment && (index < 0 || int(index) >= v.SegmentCount):
		return nil, 0, notFound
	}
	seg, err := s.store.Segment(ctx, v.ID, int(index))
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, notFound
	}
	if err != nil {
		return nil, 0, err
	}
	plain, err := seal.PlainSize(seg.Size)
	if err != nil {
		return nil, 0, s.corrupt(v, index, err)
	}
	dek, err := seal.UnwrapKey(s.kek, v.WrappedKey, purpose(v.ID))
	if err != nil {
		return nil, 0, fmt.Errorf("video %s: unwrap data key: %w", v.ID, err)
	}
	rec, err := seal.ParseRecordingID(v.RecordingID)
	if err != nil {
		return nil, 0, fmt.Errorf("video %s: %w", v.ID, err)
	}
	rc, err := s.blobs.Get(ctx, blobKey(v.ID, index, seg.SHA256))
	if err != nil {
		return nil, 0, s.corrupt(v, index, err)
	}
	r, err := seal.NewReader(rc, dek, rec, index.SealIndex())
	if err != nil {
		rc.Close()
		return nil, 0, s.corrupt(v, index, err)
	}
	first := make([]byte, min(plain, seal.ChunkSize))
	if _, err := io.ReadFull(r, first); err != nil {
		rc.Close()
		return nil, 0, s.corrupt(v, index, err)
	}
	return &openedSegment{
		r:     io.MultiReader(bytes.NewReader(first), r),
		close: rc.Close,
		fail:  func(err error) { s.corrupt(v, index, err) },
	}, plain, nil
}

// corrupt logs a segment that cannot be served. The video id and index go
// to the log, never the key or the slug.
func (s *Service) corrupt(v store.Video, index api.SegmentIndex, err error) error {
	s.metrics.openFailures.Inc()
	s.log.Error("stored segment failed to open; not serving it", "video_id", v.ID, "index", index.String(), "err", err)
	return &Error{Kind: KindCorrupt, Err: err, Message: "This part of the video is damaged and cannot be played."}
}

type openedSegment struct {
	r      io.Reader
	close  func() error
	fail   func(error)
	failed bool
}

func (o *openedSegment) Read(p []byte) (int, error) {
	n, err := o.r.Read(p)
	if err != nil && err != io.EOF && !o.failed {
		o.failed = true
		o.fail(err)
	}
	return n, err
}

func (o *openedSegment) Close() error { return o.close() }
