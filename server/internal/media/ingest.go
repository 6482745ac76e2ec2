package media

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"framecast.dev/server/internal/store"
	"framecast.dev/shared/api"
	"framecast.dev/shared/seal"
)

// Upload is one PUT or PATCH of a segment.
type Upload struct {
	VideoID string
	Index   api.SegmentIndex
	SHA256  string // hex, as announced by the client
	Length  int64  // total sealed length
	// Resume marks a PATCH: the body continues at Offset. Otherwise (PUT)
	// the upload starts over at byte 0.
	Resume bool
	Offset int64
	// BodyLength is the declared length of this request's body, or -1.
	BodyLength int64
	// Abort stops this request if another one takes the segment over
	// (closes its connection). May be nil.
	Abort func()
}

// Progress is where a segment's upload stands.
type Progress struct {
	Index  api.SegmentIndex
	SHA256 string
	Length int64
	Offset int64 // bytes held; == Length once stored
	Stored bool
	// New is true when this call stored the segment (201), false when it
	// was already stored (200).
	New bool
}

func (s *Service) checkUpload(u *Upload) error {
	u.SHA256 = strings.ToLower(u.SHA256)
	if b, err := hex.DecodeString(u.SHA256); err != nil || len(b) != sha256.Size {
		return fail(KindInvalid, "The %s header must be the 64-hex-digit SHA-256 of the sealed segment.", api.HeaderSHA256)
	}
	if !u.Index.Valid() {
		return fail(KindInvalid, "Segment index %d is out of range.", u.Index)
	}
	if u.Length > s.maxSegment {
		return fail(KindTooLarge, "The segment is %d bytes; the limit is %d.", u.Length, s.maxSegment)
	}
	if _, err := seal.PlainSize(u.Length); err != nil {
		return fail(KindBadSeal, "%d bytes cannot be a sealed segment.", u.Length)
	}
	if u.Offset < 0 || u.Offset > u.Length {
		return fail(KindInvalid, "Upload-Offset %d is outside the segment.", u.Offset)
	}
	if u.BodyLength >= 0 && u.Offset+u.BodyLength > u.Length {
		return fail(KindInvalid, "The body (%d bytes from offset %d) runs past Upload-Length %d.", u.BodyLength, u.Offset, u.Length)
	}
	return nil
}

// stored answers for an index that already has a row: same hash is a
// harmless repeat, another hash a conflict.
func storedProgress(seg store.Segment, sha string) (Progress, error) {
	if seg.SHA256 != sha {
		return Progress{}, fail(KindSHA256Conflict,
			"Segment %s is already stored with another SHA-256 (%s).", api.SegmentIndex(seg.Index), seg.SHA256)
	}
	return Progress{Index: api.SegmentIndex(seg.Index), SHA256: seg.SHA256, Length: seg.Size, Offset: seg.Size, Stored: true}, nil
}

// WriteSegment receives (part of) a sealed segment. When the last byte has
// arrived the segment is checked (hash, seal header) and stored. A request
// that ends early keeps what arrived: it is staged in the blob store and
// counted in the database, so a PATCH on any replica continues from there.
func (s *Service) WriteSegment(ctx context.Context, u Upload, body io.Reader) (Progress, error) {
	if err := s.checkUpload(&u); err != nil {
		return Progress{}, err
	}
	v, err := s.video(ctx, u.VideoID)
	if err != nil {
		return Progress{}, err
	}
	// Before taking the lease: a repeated PUT of a stored segment must not
	// disturb anything, and is answered without reading the body.
	if seg, err := s.store.Segment(ctx, v.ID, int(u.Index)); err == nil {
		return storedProgress(seg, u.SHA256)
	} else if !errors.Is(err, store.ErrNotFound) {
		return Progress{}, err
	}
	if v.State == store.StateReady {
		return Progress{}, fail(KindFinalized, "Video %s is finalized; segments cannot be added.", v.ID)
	}

	release, ok, err := s.leases.acquire(ctx, leaseName(v.ID, u.Index), u.Abort)
	if err != nil {
		return Progress{}, fmt.Errorf("segment %s: %w", u.Index, err)
	}
	if !ok {
		return Progress{}, fail(KindBusy, "Another request is uploading segment %s; retry shortly.", u.Index)
	}
	defer release()
	// Someone may have finished the segment while we waited.
	if seg, err := s.store.Segment(ctx, v.ID, int(u.Index)); err == nil {
		return storedProgress(seg, u.SHA256)
	} else if !errors.Is(err, store.ErrNotFound) {
		return Progress{}, err
	}

	var up store.Upload
	if u.Resume {
		up, err = s.store.Upload(ctx, v.ID, int(u.Index))
		if errors.Is(err, store.ErrNotFound) {
			return Progress{}, fail(KindNotFound, "No upload of segment %s is in progress; PUT it.", u.Index)
		}
		if err != nil {
			return Progress{}, err
		}
		if up.SHA256 != u.SHA256 || up.Length != u.Length {
			return Progress{}, fail(KindSHA256Conflict,
				"The upload in progress for segment %s has another SHA-256 or length; PUT to start over.", u.Index)
		}
		if up.Received != u.Offset {
			return Progress{}, &Error{Kind: KindOffsetMismatch, Offset: up.Received,
				Message: fmt.Sprintf("The server holds %d bytes of segment %s, not %d.", up.Received, u.Index, u.Offset)}
		}
	} else {
		if u.Offset != 0 {
			return Progress{}, fail(KindInvalid, "A PUT starts at offset 0; use PATCH to resume.")
		}
		_, prevErr := s.store.Upload(ctx, v.ID, int(u.Index))
		up = store.Upload{VideoID: v.ID, Index: int(u.Index), SHA256: u.SHA256, Length: u.Length, UpdatedAt: s.now().UTC()}
		if err := s.store.StartUpload(ctx, up); err != nil {
			return Progress{}, err
		}
		if prevErr == nil {
			s.discardStaged(ctx, v.ID, u.Index)
		}
	}

	// This request's bytes go to a local spool file first: the common
	// case (the whole segment in one request) then goes from there to
	// the blob store in one write.
	spool, err := os.CreateTemp(s.spool, "upload-*")
	if err != nil {
		return Progress{}, fmt.Errorf("spool upload: %w", err)
	}
	defer func() {
		spool.Close()
		os.Remove(spool.Name())
	}()
	// Hash as the bytes stream by when the upload starts at 0; a resumed
	// upload is hashed from its staged part and the spool at the end.
	var h hash.Hash
	w := io.Writer(spool)
	if u.Offset == 0 {
		h = sha256.New()
		w = io.MultiWriter(spool, h)
	}
	want := u.Length - u.Offset
	n, copyErr := io.Copy(w, io.LimitReader(body, want))
	s.metrics.bytesReceived.Add(float64(n))
	if copyErr == nil && n == want {
		// The client must not send more than it announced.
		var one [1]byte
		if m, _ := io.ReadFull(body, one[:]); m > 0 {
			return Progress{}, fail(KindInvalid, "The body runs past Upload-Length %d.", u.Length)
		}
	}
	offset := u.Offset + n
	if copyErr == nil && offset == u.Length {
		var sum []byte
		if h != nil {
			sum = h.Sum(nil)
		}
		return s.commit(ctx, v, up, spool, sum)
	}

	// Keep what arrived, even though the client has gone: the request's
	// context may end with it.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if n > 0 {
		if err := s.stage(sctx, up, spool, n); err != nil {
			return Progress{}, err
		}
	}
	if copyErr != nil {
		return Progress{}, &Error{Kind: KindInterrupted, Offset: offset, Err: copyErr,
			Message: fmt.Sprintf("The upload of segment %s stopped at byte %d; resume with PATCH.", u.Index, offset)}
	}
	return Progress{Index: u.Index, SHA256: u.SHA256, Length: u.Length, Offset: offset}, nil
}

func leaseName(videoID string, index api.SegmentIndex) string {
	return "upload/" + videoID + "/" + index.String()
}

// stagedKey is where the first received bytes of an upload are staged. The
// count is in the key, so a new staged part never overwrites the one the
// database still points to.
func stagedKey(videoID string, index api.SegmentIndex, sha string, received int64) string {
	return stagedPrefix(videoID, index) + sha + "-" + strconv.FormatInt(received, 10)
}

func stagedPrefix(videoID string, index api.SegmentIndex) string {
	return "uploads/" + videoID + "/" + index.String() + "/"
}

// staged opens the staged part of an upload (empty when nothing is staged).
func (s *Service) staged(ctx context.Context, up store.Upload) (io.ReadCloser, error) {
	if up.Received == 0 {
		return io.NopCloser(strings.NewReader("")), nil
	}
	rc, err := s.blobs.Get(ctx, stagedKey(up.VideoID, api.SegmentIndex(up.Index), up.SHA256, up.Received))
	if err != nil {
		return nil, fmt.Errorf("staged part of segment %s: %w", api.SegmentIndex(up.Index), err)
	}
	return rc, nil
}

// stage appends the spool's n bytes to the upload's staged part: the
// staged part and the spool are written to a new staged object, the
// database is moved on to it, and the old object removed.
func (s *Service) stage(ctx context.Context, up store.Upload, spool *os.File, n int64) error {
	index := api.SegmentIndex(up.Index)
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("stage segment %s: %w", index, err)
	}
	old, err := s.staged(ctx, up)
	if err != nil {
		return err
	}
	defer old.Close()
	to := up.Received + n
	key := stagedKey(up.VideoID, index, up.SHA256, to)
	if err := s.blobs.Put(ctx, key, io.MultiReader(old, io.LimitReader(spool, n))); err != nil {
		return fmt.Errorf("stage segment %s: %w", index, err)
	}
	if err := s.store.AdvanceUpload(ctx, up.VideoID, up.Index, up.Received, to, s.now().UTC()); err != nil {
		_ = s.blobs.Delete(ctx, key)
		if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
			return fail(KindBusy, "Segment %s was changed by another request meanwhile; ask HEAD where it stands.", index)
		}
		return fmt.Errorf("stage segment %s: %w", index, err)
	}
	if up.Received > 0 {
		if err := s.blobs.Delete(ctx, stagedKey(up.VideoID, index, up.SHA256, up.Received)); err != nil {
			s.log.Warn("remove replaced staged part", "video_id", up.VideoID, "index", index.String(), "err", err)
		}
	}
	return nil
}

// discardStaged removes every staged part of a segment, including ones a
// replica that crashed mid-way left behind.
func (s *Service) discardStaged(ctx context.Context, videoID string, index api.SegmentIndex) {
	for info, err := range s.blobs.List(ctx, stagedPrefix(videoID, index)) {
		if err != nil {
			s.log.Warn("list staged parts", "video_id", videoID, "index", index.String(), "err", err)
			return
		}
		if err := s.blobs.Delete(ctx, info.Key); err != nil {
			s.log.Warn("remove staged part", "video_id", videoID, "index", index.String(), "err", err)
		}
	}
}

// commit checks a complete upload (its staged part followed by spool, which
// may be nil) and stores it. The lease for the segment is held. sum is the
// SHA-256 if already computed. A bad upload is discarded; an internal
// error leaves the staged part for a retry.
func (s *Service) commit(ctx context.Context, v store.Video, up store.Upload, spool *os.File, sum []byte) (Progress, error) {
	index := api.SegmentIndex(up.Index)
	discard := func() {
		_ = s.store.DeleteUpload(ctx, v.ID, up.Index)
		if up.Received > 0 {
			s.discardStaged(ctx, v.ID, index)
		}
	}
	// whole opens the segment from its first byte.
	whole := func() (io.Reader, func(), error) {
		old, err := s.staged(ctx, up)
		if err != nil {
			return nil, nil, err
		}
		if spool == nil {
			return old, func() { old.Close() }, nil
		}
		if _, err := spool.Seek(0, io.SeekStart); err != nil {
			old.Close()
			return nil, nil, err
		}
		if up.Received == 0 {
			// The spool alone, as a file, so the blob store sees its size.
			old.Close()
			return spool, func() {}, nil
		}
		return io.MultiReader(old, spool), func() { old.Close() }, nil
	}

	r, done, err := whole()
	if err != nil {
		return Progress{}, fmt.Errorf("commit segment %s: %w", index, err)
	}
	var headerErr error
	if sum == nil {
		h := sha256.New()
		tee := io.TeeReader(r, h)
		headerErr = checkHeader(tee, v.RecordingID, index)
		if _, err := io.Copy(h, r); err != nil {
			done()
			return Progress{}, fmt.Errorf("commit segment %s: hash: %w", index, err)
		}
		sum = h.Sum(nil)
	} else {
		headerErr = checkHeader(r, v.RecordingID, index)
	}
	done()
	if got := hex.EncodeToString(sum); got != up.SHA256 {
		discard()
		s.metrics.refused.WithLabelValues("checksum").Inc()
		return Progress{}, fail(KindChecksumMismatch,
			"Segment %s arrived with SHA-256 %s, not %s as announced; PUT it again.", index, got, up.SHA256)
	}
	if headerErr != nil {
		discard()
		s.metrics.refused.WithLabelValues("seal").Inc()
		return Progress{}, headerErr
	}

	if r, done, err = whole(); err != nil {
		return Progress{}, fmt.Errorf("commit segment %s: %w", index, err)
	}
	key := blobKey(v.ID, index, up.SHA256)
	err = s.blobs.Put(ctx, key, r)
	done()
	if err != nil {
		return Progress{}, fmt.Errorf("commit segment %s: %w", index, err)
	}
	seg, added, err := s.store.AddSegment(ctx, store.Segment{
		VideoID: v.ID, Index: up.Index, Size: up.Length, SHA256: up.SHA256, CreatedAt: s.now().UTC(),
	})
	if err != nil {
		return Progress{}, fmt.Errorf("commit segment %s: %w", index, err)
	}
	discard()
	if !added {
		// Another replica stored this index first.
		if seg.SHA256 != up.SHA256 {
			_ = s.blobs.Delete(ctx, key)
		}
		return storedProgress(seg, up.SHA256)
	}
	s.metrics.stored.Inc()
	s.log.Debug("segment stored", "video_id", v.ID, "index", index.String(), "size", up.Length)
	return Progress{Index: index, SHA256: up.SHA256, Length: up.Length, Offset: up.Length, Stored: true, New: true}, nil
}

// checkHeader checks, without the key, that the staged bytes are a sealed
// segment of this recording and index: a segment uploaded to the wrong slot
// is refused now rather than failing for viewers later.
func checkHeader(r io.Reader, recordingID string, index api.SegmentIndex) error {
	h, err := seal.ReadHeader(r)
	if err != nil {
		return &Error{Kind: KindBadSeal, Err: err, Message: fmt.Sprintf("Segment %s is not a sealed Framecast segment (%v).", index, err)}
	}
	if h.RecordingID.String() != recordingID || h.Segment != index.SealIndex() {
		return fail(KindBadSeal, "Segment %s is sealed for recording %s index %d, not recording %s index %d.",
			index, h.RecordingID, h.Segment, recordingID, index.SealIndex())
	}
	return nil
}

// UploadState says how much of a segment the server holds, whichever
// replica received it. A staged upload that is complete but was never
// committed is committed now, so Offset == Length always means stored.
func (s *Service) UploadState(ctx context.Context, videoID string, index api.SegmentIndex) (Progress, error) {
	if !index.Valid() {
		return Progress{}, fail(KindInvalid, "Segment index %d is out of range.", index)
	}
	v, err := s.video(ctx, videoID)
	if err != nil {
		return Progress{}, err
	}
	if seg, err := s.store.Segment(ctx, v.ID, int(index)); err == nil {
		return storedProgress(seg, seg.SHA256)
	} else if !errors.Is(err, store.ErrNotFound) {
		return Progress{}, err
	}
	up, err := s.store.Upload(ctx, v.ID, int(index))
	if errors.Is(err, store.ErrNotFound) {
		return Progress{}, fail(KindNotFound, "No upload of segment %s has started.", index)
	}
	if err != nil {
		return Progress{}, err
	}
	p := Progress{Index: index, SHA256: up.SHA256, Length: up.Length, Offset: up.Received}
	if up.Received < up.Length {
		return p, nil
	}
	release, ok, err := s.leases.acquire(ctx, leaseName(v.ID, index), nil)
	if err != nil || !ok {
		return p, err
	}
	defer release()
	// The request that staged the last byte may have committed meanwhile.
	if seg, err := s.store.Segment(ctx, v.ID, int(index)); err == nil {
		return storedProgress(seg, seg.SHA256)
	} else if !errors.Is(err, store.ErrNotFound) {
		return Progress{}, err
	}
	if up, err = s.store.Upload(ctx, v.ID, int(index)); errors.Is(err, store.ErrNotFound) {
		return Progress{}, fail(KindNotFound, "No upload of segment %s is in progress.", index)
	} else if err != nil {
		return Progress{}, err
	}
	if up.Received != up.Length {
		return Progress{Index: index, SHA256: up.SHA256, Length: up.Length, Offset: up.Received}, nil
	}
	p, err = s.commit(ctx, v, up, nil, nil)
	if IsKind(err, KindChecksumMismatch) || IsKind(err, KindBadSeal) {
		// The bytes were bad and are gone: start over.
		return Progress{}, fail(KindNotFound, "No upload of segment %s is in progress.", index)
	}
	return p, err
}
