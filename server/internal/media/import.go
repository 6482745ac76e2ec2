package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"framecast.dev/server/internal/blob"
	"framecast.dev/server/internal/jobs"
	"framecast.dev/server/internal/secrets"
	"framecast.dev/server/internal/store"
	"framecast.dev/shared/api"
)

// Importing: a video file the owner already has (MP4, MOV, WebM, MKV),
// uploaded whole from the dashboard, becomes a video like a recording.
//
// The upload follows the segment protocol's offset-resume rules: the
// server says how many bytes it holds (HEAD), and each request continues
// from exactly there (PATCH with Upload-Offset). Each request's bytes are
// spooled to local disk and then stored as one part in the blob store
// (videos/<id>/source/<offset>), counted in the database; so an upload
// cut off on one replica continues on any other, and no part is ever
// rewritten. Only the request in flight is on local disk, never in memory.
//
// When the last byte is in, an import job (the processing queue, so the
// number of ffmpeg processes stays bounded) probes the file, refuses what
// is not a video or exceeds the limits, cuts it into the same ~2 s fMP4
// HLS segments as recordings (stream copy for H.264 + AAC, else a
// transcode), seals each with a fresh data key exactly as the desktop
// does, wraps the key with the KEK as finalize does, marks the video ready
// and queues the usual derived files. The uploaded original is deleted
// then: the segments are the video, and keeping a second, unsealed-format
// copy of every upload would double storage for nothing a viewer sees.

// JobImport turns an uploaded file into a video.
const JobImport = "import"

// ImportExtensions are the file types the dashboard takes.
var ImportExtensions = []string{".mp4", ".m4v", ".mov", ".webm", ".mkv"}

// ImportLimits bound what an import may be; zero values are no limit
// (the config always sets them).
type ImportLimits struct {
	MaxBytes int64
	// MaxLong and MaxShort cap the picture's long and short side, so a
	// portrait video is held to the same limit as a landscape one.
	MaxLong, MaxShort int
	MaxDuration       time.Duration
	MaxStreams        int
}

// MaxImportNameLen bounds the file name kept (it becomes the title).
const MaxImportNameLen = 255

// importSegmentSeconds is the HLS segment length asked of ffmpeg, as the
// desktop records.
const importSegmentSeconds = 2

// StartImport creates a video for a file the owner is about to upload and
// the import that receives it.
func (s *Service) StartImport(ctx context.Context, ownerID, fileName string, size int64) (store.Video, store.Import, error) {
	name, err := importName(fileName)
	if err != nil {
		return store.Video{}, store.Import{}, err
	}
	if size <= 0 {
		return store.Video{}, store.Import{}, fail(KindInvalid, "The file is empty.")
	}
	if s.imports.MaxBytes > 0 && size > s.imports.MaxBytes {
		return store.Video{}, store.Import{}, fail(KindTooLarge, "The file is %s; the largest this server takes is %s.",
			humanBytes(size), humanBytes(s.imports.MaxBytes))
	}
	title := strings.TrimSpace(strings.TrimSuffix(name, filepath.Ext(name)))
	for len(title) > api.MaxTitleLen {
		_, n := utf8.DecodeLastRuneInString(title)
		title = title[:len(title)-n]
	}
	v, _, err := s.CreateVideo(ctx, ownerID, title, "")
	if err != nil {
		return store.Video{}, store.Import{}, err
	}
	im := store.Import{VideoID: v.ID, FileName: name, Length: size, State: store.ImportReceiving, CreatedAt: s.now().UTC()}
	if err := s.store.CreateImport(ctx, im); err != nil {
		_ = s.store.DeleteVideo(context.WithoutCancel(ctx), v.ID)
		return store.Video{}, store.Import{}, fmt.Errorf("start import: %w", err)
	}
	s.log.Info("import started", "video_id", v.ID, "bytes", size)
	im.UpdatedAt = im.CreatedAt
	return v, im, nil
}

// importName checks a browser's file name. It is only ever shown (and
// becomes the title), never a path; the extension says what the owner
// meant to send, ffprobe decides what it is.
func importName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || !utf8.ValidString(name) || len(name) > MaxImportNameLen {
		return "", fail(KindInvalid, "The file needs a name of at most %d bytes.", MaxImportNameLen)
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return "", fail(KindInvalid, "The file name contains characters that cannot be shown.")
		}
	}
	// Browsers send the base name; anything with a path in it is reduced
	// to its last element for display.
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	ext := strings.ToLower(filepath.Ext(name))
	for _, ok := range ImportExtensions {
		if ext == ok {
			return name, nil
		}
	}
	return "", fail(KindInvalid, "%q is not a video file Framecast takes: choose an MP4, MOV, WebM or MKV file.", name)
}

// Import returns a video's import.
func (s *Service) Import(ctx context.Context, videoID string) (store.Import, error) {
	im, err := s.store.Import(ctx, videoID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Import{}, fail(KindNotFound, "There is no upload of video %s.", videoID)
	}
	return im, err
}

// ImportUpload is one PATCH of an import's bytes.
type ImportUpload struct {
	VideoID string
	Offset  int64 // where the body starts; must be what the server holds
	// BodyLength is the declared length of this request's body, or -1.
	BodyLength int64
	// Abort stops this request if a newer one takes the upload over.
	Abort func()
}

// WriteImport receives bytes of an import from u.Offset. What arrives is
// kept even when the request ends early; once the last byte is in,
// processing is queued.
func (s *Service) WriteImport(ctx context.Context, u ImportUpload, body io.Reader) (store.Import, error) {
	im, err := s.Import(ctx, u.VideoID)
	if err != nil {
		return store.Import{}, err
	}
	if err := checkImportWrite(im, u); err != nil {
		return im, err
	}
	release, ok, err := s.leases.acquire(ctx, "import/"+u.VideoID, u.Abort)
	if err != nil {
		return store.Import{}, fmt.Errorf("import %s: %w", u.VideoID, err)
	}
	if !ok {
		return store.Import{}, fail(KindBusy, "Another request is uploading this file; retry shortly.")
	}
	defer release()
	// The request we took over may have stored more meanwhile.
	if im, err = s.Import(ctx, u.VideoID); err != nil {
		return store.Import{}, err
	}
	if err := checkImportWrite(im, u); err != nil {
		return im, err
	}
	if u.Offset == im.Length {
		return im, nil
	}

	spool, err := os.CreateTemp(s.spool, "upload-*")
	if err != nil {
		return store.Import{}, fmt.Errorf("spool import: %w", err)
	}
	defer func() {
		spool.Close()
		os.Remove(spool.Name()) // gone already when it became a part
	}()
	want := im.Length - u.Offset
	t0 := time.Now()
	n, copyErr := spoolCopy(spool, body, want)
	tCopy := time.Since(t0)
	s.metrics.bytesReceived.Add(float64(n))
	if copyErr == nil && n == want {
		var one [1]byte
		if m, _ := io.ReadFull(body, one[:]); m > 0 {
			return im, fail(KindInvalid, "The body runs past the file's size (%d bytes).", im.Length)
		}
	}
	// Keep what arrived even though the client may have gone.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Minute)
	defer cancel()
	if n > 0 {
		if err := spool.Close(); err != nil {
			return store.Import{}, fmt.Errorf("spool import: %w", err)
		}
		key := importPartKey(u.VideoID, u.Offset, u.Offset+n)
		if err := blob.PutFile(sctx, s.blobs, key, spool.Name()); err != nil {
			return store.Import{}, fmt.Errorf("store part of import %s: %w", u.VideoID, err)
		}
		tPut := time.Since(t0)
		im, err = s.store.AdvanceImport(sctx, u.VideoID, u.Offset, u.Offset+n, s.now().UTC())
		s.log.Debug("import part stored", "video_id", u.VideoID, "bytes", n, "copy", tCopy.String(), "put", tPut.String(), "counted", time.Since(t0).String())
		if err != nil {
			_ = s.blobs.Delete(sctx, key)
			if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
				return store.Import{}, fail(KindBusy, "The upload was changed by another request meanwhile; ask where it stands.")
			}
			return store.Import{}, err
		}
	}
	if im.Received == im.Length {
		if err := s.queueImport(sctx, im); err != nil {
			return store.Import{}, err
		}
		im.State = store.ImportProcessing
		s.log.Debug("import queued", "video_id", im.VideoID, "after", time.Since(t0).String())
		s.log.Info("import received", "video_id", im.VideoID, "bytes", im.Length, "parts", im.Parts)
		return im, nil
	}
	if copyErr != nil {
		return im, &Error{Kind: KindInterrupted, Offset: im.Received, Err: copyErr,
			Message: fmt.Sprintf("The upload stopped at byte %d; resume from there.", im.Received)}
	}
	return im, nil
}

func checkImportWrite(im store.Import, u ImportUpload) error {
	if im.State != store.ImportReceiving {
		if u.Offset == im.Length {
			return nil // a repeat of the last request: harmless
		}
		return fail(KindFinalized, "This upload is complete; nothing more can be added.")
	}
	if u.Offset != im.Received {
		return &Error{Kind: KindOffsetMismatch, Offset: im.Received,
			Message: fmt.Sprintf("The server holds %d bytes of this file, not %d.", im.Received, u.Offset)}
	}
	if u.BodyLength >= 0 && u.Offset+u.BodyLength > im.Length {
		return fail(KindInvalid, "The body (%d bytes from offset %d) runs past the file's size (%d bytes).", u.BodyLength, u.Offset, im.Length)
	}
	return nil
}

func (s *Service) queueImport(ctx context.Context, im store.Import) error {
	if err := s.store.SetImportState(ctx, im.VideoID, store.ImportProcessing, 0, "", s.now().UTC()); err != nil {
		return err
	}
	if s.jobs == nil {
		return errors.New("media: no job queue for imports")
	}
	if _, _, err := s.jobs.Ensure(ctx, jobs.Spec{Kind: JobImport, VideoID: im.VideoID, MaxAttempts: 3}); err != nil {
		return fmt.Errorf("queue import of %s: %w", im.VideoID, err)
	}
	return nil
}

// importPartKey names a part by the bytes it holds, [start, end),
// zero-padded so the blob store lists parts in file order, and a random
// tag: a request that lost its lease while stalled (its replica froze
// past the lease) can neither overwrite nor delete the part of the
// request that took over from the same offset.
func importPartKey(videoID string, start, end int64) string {
	return fmt.Sprintf("%s%020d-%020d-%s", importPrefix(videoID), start, end, secrets.Random(5))
}

// parseImportPart reads a part key's range.
func parseImportPart(videoID, key string) (start, end int64, ok bool) {
	rest, found := strings.CutPrefix(key, importPrefix(videoID))
	if !found {
		return 0, 0, false
	}
	parts := strings.Split(rest, "-")
	if len(parts) != 3 {
		return 0, 0, false
	}
	start, err1 := strconv.ParseInt(parts[0], 10, 64)
	end, err2 := strconv.ParseInt(parts[1], 10, 64)
	return start, end, err1 == nil && err2 == nil && 0 <= start && start < end
}

func importPrefix(videoID string) string { return "videos/" + videoID + "/source/" }

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " bytes"
	}
	f, suffix := float64(n), ""
	for _, s := range []string{"KiB", "MiB", "GiB", "TiB"} {
		f /= unit
		suffix = s
		if f < unit {
			break
		}
	}
	return strconv.FormatFloat(f, 'f', 1, 64) + " " + suffix
}
