package media

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

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

// uploadMeta is kept beside a staged upload.
type uploadMeta struct {
	SHA256 string `json:"sha256"`
	Length int64  `json:"length"`
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
// arrived the segment is checked (hash, seal header) and stored.
func (s *Service) WriteSegment(ctx context.Context, u Upload, body io.Reader) (Progress, error) {
	if err := s.checkUpload(&u); err != nil {
		return Progress{}, err
	}
	v, err := s.video(ctx, u.VideoID)
	if err != nil {
		return Progress{}, err
	}
	// Before taking the lock: a repeated PUT of a stored segment must not
	// disturb anything, and is answered without reading the body.
	if seg, err := s.store.Segment(ctx, v.ID, int(u.Index)); err == nil {
		return storedProgress(seg, u.SHA256)
	} else if !errors.Is(err, store.ErrNotFound) {
		return Progress{}, err
	}
	if v.State == store.StateReady {
		return Progress{}, fail(KindFinalized, "Video %s is finalized; segments cannot be added.", v.ID)
	}

	release, ok := s.locks.acquire(v.ID+"/"+u.Index.String(), u.Abort)
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

	partPath, metaPath := s.uploadPaths(v.ID, u.Index)
	var part *os.File
	if u.Resume {
		meta, err := readMeta(metaPath)
		if errors.Is(err, fs.ErrNotExist) {
			return Progress{}, fail(KindNotFound, "No upload of segment %s is in progress; PUT it.", u.Index)
		}
		if err != nil {
			return Progress{}, err
		}
		if meta.SHA256 != u.SHA256 || meta.Length != u.Length {
			return Progress{}, fail(KindSHA256Conflict,
				"The upload in progress for segment %s has another SHA-256 or length; PUT to start over.", u.Index)
		}
		part, err = os.OpenFile(partPath, os.O_WRONLY|os.O_APPEND, 0o600)
		if errors.Is(err, fs.ErrNotExist) {
			return Progress{}, fail(KindNotFound, "No upload of segment %s is in progress; PUT it.", u.Index)
		}
		if err != nil {
			return Progress{}, fmt.Errorf("resume upload: %w", err)
		}
		fi, err := part.Stat()
		if err != nil {
			part.Close()
			return Progress{}, fmt.Errorf("resume upload: %w", err)
		}
		if fi.Size() != u.Offset {
			part.Close()
			return Progress{}, &Error{Kind: KindOffsetMismatch, Offset: fi.Size(),
				Message: fmt.Sprintf("The server holds %d bytes of segment %s, not %d.", fi.Size(), u.Index, u.Offset)}
		}
	} else {
		if u.Offset != 0 {
			return Progress{}, fail(KindInvalid, "A PUT starts at offset 0; use PATCH to resume.")
		}
		if err := os.MkdirAll(filepath.Dir(partPath), 0o700); err != nil {
			return Progress{}, fmt.Errorf("stage upload: %w", err)
		}
		part, err = os.OpenFile(partPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o600)
		if err != nil {
			return Progress{}, fmt.Errorf("stage upload: %w", err)
		}
		if err := writeMeta(metaPath, uploadMeta{SHA256: u.SHA256, Length: u.Length}); err != nil {
			part.Close()
			return Progress{}, err
		}
	}

	// Hash as the bytes stream by when the upload starts at 0, the common
	// case; a resumed upload is hashed from the staged file at the end.
	var h hash.Hash
	w := io.Writer(part)
	if u.Offset == 0 {
		h = sha256.New()
		w = io.MultiWriter(part, h)
	}
	want := u.Length - u.Offset
	n, copyErr := io.Copy(w, io.LimitReader(body, want))
	s.metrics.bytesReceived.Add(float64(n))
	if copyErr == nil && n == want {
		// The client must not send more than it announced.
		var one [1]byte
		if m, _ := io.ReadFull(body, one[:]); m > 0 {
			part.Truncate(u.Offset + n)
			part.Close()
			return Progress{}, fail(KindInvalid, "The body runs past Upload-Length %d.", u.Length)
		}
	}
	// Keep what arrived, durably, so a resume can count on it.
	syncErr := part.Sync()
	closeErr := part.Close()
	offset := u.Offset + n
	if copyErr != nil {
		return Progress{}, &Error{Kind: KindInterrupted, Offset: offset, Err: copyErr,
			Message: fmt.Sprintf("The upload of segment %s stopped at byte %d; resume with PATCH.", u.Index, offset)}
	}
	if err := errors.Join(syncErr, closeErr); err != nil {
		return Progress{}, fmt.Errorf("stage upload: %w", err)
	}
	if offset < u.Length {
		return Progress{Index: u.Index, SHA256: u.SHA256, Length: u.Length, Offset: offset}, nil
	}
	var sum []byte
	if h != nil {
		sum = h.Sum(nil)
	}
	return s.commit(ctx, v, u.Index, uploadMeta{SHA256: u.SHA256, Length: u.Length}, sum)
}

// commit checks a completely staged segment and moves it to the blob
// store. The lock for the segment is held. sum is the SHA-256 if already
// computed. Whatever the outcome, the staged files are gone afterwards
// unless an internal error leaves them for a retry.
func (s *Service) commit(ctx context.Context, v store.Video, index api.SegmentIndex, meta uploadMeta, sum []byte) (Progress, error) {
	partPath, metaPath := s.uploadPaths(v.ID, index)
	discard := func() {
		os.Remove(partPath)
		os.Remove(metaPath)
	}
	f, err := os.Open(partPath)
	if err != nil {
		return Progress{}, fmt.Errorf("commit segment %s: %w", index, err)
	}
	defer f.Close()
	if sum == nil {
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return Progress{}, fmt.Errorf("commit segment %s: hash: %w", index, err)
		}
		sum = h.Sum(nil)
	}
	if got := hex.EncodeToString(sum); got != meta.SHA256 {
		discard()
		s.metrics.refused.WithLabelValues("checksum").Inc()
		return Progress{}, fail(KindChecksumMismatch,
			"Segment %s arrived with SHA-256 %s, not %s as announced; PUT it again.", index, got, meta.SHA256)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return Progress{}, fmt.Errorf("commit segment %s: %w", index, err)
	}
	if err := checkHeader(f, v.RecordingID, index); err != nil {
		discard()
		s.metrics.refused.WithLabelValues("seal").Inc()
		return Progress{}, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return Progress{}, fmt.Errorf("commit segment %s: %w", index, err)
	}
	key := blobKey(v.ID, index, meta.SHA256)
	if err := s.blobs.Put(ctx, key, f); err != nil {
		return Progress{}, fmt.Errorf("commit segment %s: %w", index, err)
	}
	seg, added, err := s.store.AddSegment(ctx, store.Segment{
		VideoID: v.ID, Index: int(index), Size: meta.Length, SHA256: meta.SHA256, CreatedAt: s.now().UTC(),
	})
	if err != nil {
		return Progress{}, fmt.Errorf("commit segment %s: %w", index, err)
	}
	discard()
	if !added {
		// Another server replica stored this index first.
		if seg.SHA256 != meta.SHA256 {
			_ = s.blobs.Delete(ctx, key)
		}
		return storedProgress(seg, meta.SHA256)
	}
	s.metrics.stored.Inc()
	s.log.Debug("segment stored", "video_id", v.ID, "index", index.String(), "size", meta.Length)
	return Progress{Index: index, SHA256: meta.SHA256, Length: meta.Length, Offset: meta.Length, Stored: true, New: true}, nil
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

// UploadState says how much of a segment the server holds. A staged upload
// that is complete but was never committed (the server stopped in
// between) is committed now, so Offset == Length always means stored.
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
	partPath, metaPath := s.uploadPaths(v.ID, index)
	meta, err := readMeta(metaPath)
	if errors.Is(err, fs.ErrNotExist) {
		return Progress{}, fail(KindNotFound, "No upload of segment %s has started.", index)
	}
	if err != nil {
		return Progress{}, err
	}
	fi, err := os.Stat(partPath)
	if errors.Is(err, fs.ErrNotExist) {
		return Progress{}, fail(KindNotFound, "No upload of segment %s has started.", index)
	}
	if err != nil {
		return Progress{}, fmt.Errorf("upload state: %w", err)
	}
	p := Progress{Index: index, SHA256: meta.SHA256, Length: meta.Length, Offset: fi.Size()}
	if fi.Size() < meta.Length {
		return p, nil
	}
	release, ok := s.locks.acquire(v.ID+"/"+index.String(), nil)
	if !ok {
		return p, nil
	}
	defer release()
	// The request that wrote the last byte may have committed meanwhile.
	if seg, err := s.store.Segment(ctx, v.ID, int(index)); err == nil {
		return storedProgress(seg, seg.SHA256)
	} else if !errors.Is(err, store.ErrNotFound) {
		return Progress{}, err
	}
	if meta, err = readMeta(metaPath); errors.Is(err, fs.ErrNotExist) {
		return Progress{}, fail(KindNotFound, "No upload of segment %s is in progress.", index)
	} else if err != nil {
		return Progress{}, err
	}
	if fi, err := os.Stat(partPath); err != nil || fi.Size() != meta.Length {
		return Progress{}, fail(KindNotFound, "No complete upload of segment %s is waiting.", index)
	}
	p, err = s.commit(ctx, v, index, meta, nil)
	if IsKind(err, KindChecksumMismatch) || IsKind(err, KindBadSeal) {
		// The bytes were bad and are gone: start over.
		return Progress{}, fail(KindNotFound, "No upload of segment %s is in progress.", index)
	}
	return p, err
}

func readMeta(path string) (uploadMeta, error) {
	var m uploadMeta
	b, err := os.ReadFile(path)
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("upload metadata %s: %w", path, err)
	}
	return m, nil
}

func writeMeta(path string, m uploadMeta) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("stage upload: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("stage upload: %w", err)
	}
	return nil
}
