package media

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image/jpeg"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"framecast.dev/server/internal/jobs"
	"framecast.dev/server/internal/store"
	"framecast.dev/shared/api"
	"framecast.dev/shared/seal"
)

// Processing: after finalize, jobs derive from the sealed segments what
// the share page and e-mails need. Each job opens the segments it needs
// into a private work folder, runs ffmpeg, seals the result under the
// video's data key and stores it in the blob store; the plaintext is
// removed when the job ends, whatever the outcome.

// Job kinds the media service runs.
const (
	JobDuration  = "duration"  // ffprobe the whole video
	JobThumbnail = "thumbnail" // one JPEG frame
	JobGIF       = "gif"       // animated preview of the first seconds, ≤ 1 MB, for e-mail
	JobMP4       = "mp4"       // one MP4 for download, remuxed without re-encoding
	JobTrim      = "trim"      // a trimmed rendition
)

// afterFinalize are the jobs every ready video gets.
var afterFinalize = []string{JobDuration, JobThumbnail, JobGIF, JobMP4}

// Seal indexes of derived files: the top of the index space, below the
// init segment's, far above any media segment (api.MaxSegmentIndex). A
// derived file sealed for one slot cannot be served for another.
const (
	sealThumbnail = api.InitSealIndex - 1
	sealGIF       = api.InitSealIndex - 2
	sealMP4       = api.InitSealIndex - 3
)

// Limits of the derived files.
const (
	ThumbnailMaxWidth = 1280
	GIFMaxBytes       = 1 << 20
	GIFSeconds        = 3.0
)

// gifTries are the sizes tried in turn until the GIF fits in GIFMaxBytes.
var gifTries = []struct {
	width   int
	fps     int
	seconds float64
	colors  int
}{
	{480, 10, GIFSeconds, 128},
	{400, 8, GIFSeconds, 96},
	{320, 8, GIFSeconds, 64},
	{240, 6, 2, 48},
	{160, 5, 2, 32},
}

// RegisterJobs installs the media job handlers on q.
func (s *Service) RegisterJobs(q *jobs.Queue) {
	q.Handle(JobDuration, s.videoJob(s.processDuration))
	q.Handle(JobThumbnail, s.videoJob(s.processThumbnail))
	q.Handle(JobGIF, s.videoJob(s.processGIF))
	q.Handle(JobMP4, s.videoJob(s.processMP4))
	q.Handle(JobTrim, s.videoJob(s.processTrim))
	q.Handle(JobImport, s.processImport)
	q.HandleGiveUp(JobImport, s.importGivenUp)
}

// ensureJobs queues the processing every ready video gets, once: a
// repeated finalize (the desktop retrying after a lost answer) finds them
// queued already.
func (s *Service) ensureJobs(ctx context.Context, v store.Video) error {
	if s.jobs == nil {
		return nil
	}
	for _, kind := range afterFinalize {
		if _, _, err := s.jobs.Ensure(ctx, jobs.Spec{Kind: kind, VideoID: v.ID}); err != nil {
			return fmt.Errorf("queue %s job for %s: %w", kind, v.ID, err)
		}
	}
	return nil
}

// videoJob adapts a processing step to a job handler: it loads the video
// and gives the step a work folder that is removed afterwards.
func (s *Service) videoJob(step func(ctx context.Context, v store.Video, j store.Job, work string) error) jobs.Handler {
	return func(ctx context.Context, j store.Job) error {
		v, err := s.store.Video(ctx, j.VideoID)
		if errors.Is(err, store.ErrNotFound) {
			return nil // deleted meanwhile: nothing to do
		}
		if err != nil {
			return err
		}
		if v.State != store.StateReady {
			return jobs.Permanent(fmt.Errorf("video %s is not finalized", v.ID))
		}
		if s.tools.FFmpeg == "" || s.tools.FFprobe == "" {
			return jobs.Permanent(errors.New("ffmpeg and ffprobe are not installed on the server; install them, then retry"))
		}
		if err := os.MkdirAll(s.workDir, 0o700); err != nil {
			return fmt.Errorf("work dir: %w", err)
		}
		work, err := os.MkdirTemp(s.workDir, j.Kind+"-"+v.ID+"-")
		if err != nil {
			return fmt.Errorf("work dir: %w", err)
		}
		defer os.RemoveAll(work)
		return step(ctx, v, j, work)
	}
}

// Tools are the external programs processing runs.
type Tools struct {
	FFmpeg  string
	FFprobe string
}

// FindTools looks ffmpeg and ffprobe up in PATH; missing ones stay "".
func FindTools() Tools {
	var t Tools
	t.FFmpeg, _ = exec.LookPath("ffmpeg")
	t.FFprobe, _ = exec.LookPath("ffprobe")
	return t
}

// run runs a tool and returns its standard output; a failure carries the
// end of its standard error, which says what went wrong.
func run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 600 {
			msg = "…" + msg[len(msg)-600:]
		}
		return nil, fmt.Errorf("%s: %w: %s", filepath.Base(name), err, msg)
	}
	return stdout.Bytes(), nil
}

func (s *Service) ffmpeg(ctx context.Context, args ...string) error {
	_, err := run(ctx, s.tools.FFmpeg, append([]string{"-hide_banner", "-nostdin", "-loglevel", "error", "-y"}, args...)...)
	return err
}

// source writes the video's plaintext, init segment then media segments,
// into one fragmented MP4 file in work. seconds > 0 stops after the
// segment that reaches that playing time (a preview needs no more).
func (s *Service) source(ctx context.Context, v store.Video, work string, seconds float64) (string, error) {
	if t, err := s.store.Trim(ctx, v.ID); err == nil {
		return s.trimSource(ctx, v, t, work, seconds, false)
	} else if !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	path := filepath.Join(work, "source.mp4")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("source of %s: %w", v.ID, err)
	}
	defer f.Close()
	copySeg := func(index api.SegmentIndex) error {
		rc, _, err := s.OpenSegment(ctx, v, index)
		if err != nil {
			return fmt.Errorf("source of %s: segment %s: %w", v.ID, index, err)
		}
		defer rc.Close()
		if _, err := io.Copy(f, rc); err != nil {
			return fmt.Errorf("source of %s: segment %s: %w", v.ID, index, err)
		}
		return nil
	}
	if v.HasInit {
		if err := copySeg(api.InitSegment); err != nil {
			return "", err
		}
	}
	var t float64
	for i := range v.SegmentCount {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		if err := copySeg(api.SegmentIndex(i)); err != nil {
			return "", err
		}
		if i < len(v.Durations) {
			t += v.Durations[i]
		}
		if seconds > 0 && t >= seconds {
			break
		}
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("source of %s: %w", v.ID, err)
	}
	return path, nil
}

// probeDuration asks ffprobe how long a media file plays.
func (s *Service) probeDuration(ctx context.Context, path string) (float64, error) {
	out, err := run(ctx, s.tools.FFprobe, "-v", "error", "-show_entries", "format=duration", "-of", "json", path)
	if err != nil {
		return 0, err
	}
	var probe struct {
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &probe); err != nil {
		return 0, fmt.Errorf("ffprobe output: %w", err)
	}
	d, err := strconv.ParseFloat(probe.Format.Duration, 64)
	if err != nil || math.IsNaN(d) || d <= 0 {
		return 0, jobs.Permanent(fmt.Errorf("ffprobe found no duration (%q): the recording holds no playable media", probe.Format.Duration))
	}
	return d, nil
}

func (s *Service) processDuration(ctx context.Context, v store.Video, _ store.Job, work string) error {
	var src string
	t, err := s.store.Trim(ctx, v.ID)
	switch {
	case err == nil:
		// The rendition as viewers get it: its playlist.
		src, err = s.trimSource(ctx, v, t, work, 0, true)
	case errors.Is(err, store.ErrNotFound):
		src, err = s.source(ctx, v, work, 0)
	}
	if err != nil {
		return err
	}
	d, err := s.probeDuration(ctx, src)
	if err != nil {
		return err
	}
	if err := s.store.SetProbedDuration(ctx, v.ID, d); err != nil {
		return err
	}
	s.log.Debug("duration measured", "video_id", v.ID, "seconds", d)
	return nil
}

// thumbnailAt picks the frame: a second in (past a recording's first
// frames, often the recorder's own window), but inside short videos.
func thumbnailAt(duration float64) float64 {
	return math.Max(0, math.Min(1, duration/2))
}

// playing is how long the video plays: its trimmed rendition's length
// when trimmed.
func (s *Service) playing(ctx context.Context, v store.Video) (float64, error) {
	t, err := s.store.Trim(ctx, v.ID)
	if errors.Is(err, store.ErrNotFound) {
		return v.Duration(), nil
	}
	if err != nil {
		return 0, err
	}
	return t.Duration(), nil
}

func (s *Service) processThumbnail(ctx context.Context, v store.Video, _ store.Job, work string) error {
	d, err := s.playing(ctx, v)
	if err != nil {
		return err
	}
	at := thumbnailAt(d)
	src, err := s.source(ctx, v, work, at+1)
	if err != nil {
		return err
	}
	out := filepath.Join(work, "thumbnail.jpg")
	// -ss after -i: decode up to the frame (at most a second in) rather
	// than seek, which lands exactly in any input.
	err = s.ffmpeg(ctx, "-i", src, "-ss", strconv.FormatFloat(at, 'f', 3, 64), "-frames:v", "1",
		"-vf", fmt.Sprintf("scale='min(%d,iw)':-2", ThumbnailMaxWidth), "-q:v", "3", out)
	if err != nil {
		return fmt.Errorf("thumbnail of %s: %w", v.ID, err)
	}
	f, err := os.Open(out)
	if err != nil {
		return fmt.Errorf("thumbnail of %s: %w", v.ID, err)
	}
	cfg, err := jpeg.DecodeConfig(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("thumbnail of %s: ffmpeg wrote no JPEG: %w", v.ID, err)
	}
	return s.storeAsset(ctx, v, out, store.Asset{
		Kind: store.AssetThumbnail, SealIndex: sealThumbnail, ContentType: "image/jpeg", Width: cfg.Width, Height: cfg.Height,
	})
}

func (s *Service) processGIF(ctx context.Context, v store.Video, _ store.Job, work string) error {
	src, err := s.source(ctx, v, work, GIFSeconds)
	if err != nil {
		return err
	}
	d, err := s.playing(ctx, v)
	if err != nil {
		return err
	}
	out := filepath.Join(work, "preview.gif")
	for _, try := range gifTries {
		seconds := math.Min(try.seconds, d)
		height, err := s.gifHeight(ctx, src, try.width)
		if err != nil {
			return err
		}
		badge := filepath.Join(work, fmt.Sprintf("badge-%d.png", try.width))
		if err := writePlayBadge(badge, max(24, min(try.width, height)/3)); err != nil {
			return err
		}
		graph := fmt.Sprintf("[0:v]fps=%d,scale=%d:%d:flags=lanczos[v];[v][1:v]overlay=(W-w)/2:(H-h)/2,split[a][b];"+
			"[a]palettegen=max_colors=%d:stats_mode=diff[p];[b][p]paletteuse=dither=bayer:bayer_scale=4:diff_mode=rectangle",
			try.fps, try.width, height, try.colors)
		err = s.ffmpeg(ctx, "-t", strconv.FormatFloat(seconds, 'f', 3, 64), "-i", src, "-i", badge,
			"-filter_complex", graph, "-loop", "0", out)
		if err != nil {
			return fmt.Errorf("GIF preview of %s: %w", v.ID, err)
		}
		fi, err := os.Stat(out)
		if err != nil {
			return fmt.Errorf("GIF preview of %s: %w", v.ID, err)
		}
		if fi.Size() <= GIFMaxBytes {
			return s.storeAsset(ctx, v, out, store.Asset{
				Kind: store.AssetGIF, SealIndex: sealGIF, ContentType: "image/gif",
				Width: try.width, Height: height, Duration: seconds,
			})
		}
		s.log.Debug("GIF preview too large; trying smaller", "video_id", v.ID, "bytes", fi.Size(), "width", try.width)
	}
	return jobs.Permanent(fmt.Errorf("GIF preview of %s: larger than %d bytes even at the smallest size", v.ID, GIFMaxBytes))
}

// gifHeight is the even height that keeps the video's aspect at width.
func (s *Service) gifHeight(ctx context.Context, src string, width int) (int, error) {
	out, err := run(ctx, s.tools.FFprobe, "-v", "error", "-select_streams", "v:0",
		"-show_entries", "stream=width,height", "-of", "json", src)
	if err != nil {
		return 0, err
	}
	var probe struct {
		Streams []struct {
			Width  int `json:"width"`
			Height int `json:"height"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &probe); err != nil {
		return 0, fmt.Errorf("ffprobe output: %w", err)
	}
	if len(probe.Streams) == 0 || probe.Streams[0].Width <= 0 || probe.Streams[0].Height <= 0 {
		return 0, jobs.Permanent(errors.New("the recording has no video stream"))
	}
	st := probe.Streams[0]
	h := int(math.Round(float64(width)*float64(st.Height)/float64(st.Width)/2)) * 2
	return max(h, 2), nil
}

func (s *Service) processMP4(ctx context.Context, v store.Video, _ store.Job, work string) error {
	src, err := s.source(ctx, v, work, 0)
	if err != nil {
		return err
	}
	out := filepath.Join(work, "video.mp4")
	// -c copy: the segments are already H.264/AAC; +faststart puts the
	// index first so the download starts playing before it is complete.
	if err := s.ffmpeg(ctx, "-i", src, "-map", "0", "-c", "copy", "-movflags", "+faststart", out); err != nil {
		return fmt.Errorf("MP4 of %s: %w", v.ID, err)
	}
	d, err := s.probeDuration(ctx, out)
	if err != nil {
		return fmt.Errorf("MP4 of %s: %w", v.ID, err)
	}
	return s.storeAsset(ctx, v, out, store.Asset{
		Kind: store.AssetMP4, SealIndex: sealMP4, ContentType: "video/mp4", Duration: d,
	})
}

// sealToBlob seals the file at path under the video's data key for the
// seal index and stores it at key; it returns the plaintext size.
func (s *Service) sealToBlob(ctx context.Context, v store.Video, path, key string, index uint32) (int64, error) {
	dek, err := s.dataKey(v)
	if err != nil {
		return 0, err
	}
	rec, err := seal.ParseRecordingID(v.RecordingID)
	if err != nil {
		return 0, fmt.Errorf("video %s: %w", v.ID, err)
	}
	in, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("seal %s: %w", filepath.Base(path), err)
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return 0, fmt.Errorf("seal %s: %w", filepath.Base(path), err)
	}
	out, err := os.OpenFile(path+".sealed", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, fmt.Errorf("seal %s: %w", filepath.Base(path), err)
	}
	defer func() {
		out.Close()
		os.Remove(out.Name())
	}()
	w, err := seal.NewWriter(out, dek, rec, index)
	if err != nil {
		return 0, fmt.Errorf("seal %s: %w", filepath.Base(path), err)
	}
	if _, err := io.Copy(w, in); err != nil {
		return 0, fmt.Errorf("seal %s: %w", filepath.Base(path), err)
	}
	if err := w.Close(); err != nil {
		return 0, fmt.Errorf("seal %s: %w", filepath.Base(path), err)
	}
	if _, err := out.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("seal %s: %w", filepath.Base(path), err)
	}
	if err := s.blobs.Put(ctx, key, out); err != nil {
		return 0, fmt.Errorf("seal %s: %w", filepath.Base(path), err)
	}
	return fi.Size(), nil
}

// storeAsset seals the file at path under the video's data key, stores it
// and records it (a, with VideoID, BlobKey, sizes and time filled in),
// then removes the blob it replaces.
func (s *Service) storeAsset(ctx context.Context, v store.Video, path string, a store.Asset) error {
	var b [10]byte
	rand.Read(b[:])
	a.VideoID = v.ID
	a.BlobKey = "videos/" + v.ID + "/assets/" + a.Kind + "-" + hex.EncodeToString(b[:])
	size, err := s.sealToBlob(ctx, v, path, a.BlobKey, a.SealIndex)
	if err != nil {
		return fmt.Errorf("store %s of %s: %w", a.Kind, v.ID, err)
	}
	a.Size = size
	a.SealedSize = seal.SealedSize(size)
	a.CreatedAt = s.now().UTC()
	old, err := s.store.PutAsset(ctx, a)
	if err != nil {
		_ = s.blobs.Delete(context.WithoutCancel(ctx), a.BlobKey)
		if errors.Is(err, store.ErrNotFound) {
			return nil // the video was deleted meanwhile
		}
		return err
	}
	if old.BlobKey != "" && old.BlobKey != a.BlobKey {
		if err := s.blobs.Delete(ctx, old.BlobKey); err != nil {
			s.log.Warn("removing a replaced derived file failed", "video_id", v.ID, "kind", a.Kind, "err", err)
		}
	}
	s.log.Info("derived file stored", "video_id", v.ID, "kind", a.Kind, "bytes", a.Size)
	return nil
}

func (s *Service) dataKey(v store.Video) (seal.Key, error) {
	dek, err := seal.UnwrapKey(s.kek, v.WrappedKey, purpose(v.ID))
	if err != nil {
		return seal.Key{}, fmt.Errorf("video %s: unwrap data key: %w", v.ID, err)
	}
	return dek, nil
}

// OpenAsset opens a derived file for streaming, like OpenSegment: the
// first chunk is authenticated before it returns.
func (s *Service) OpenAsset(ctx context.Context, v store.Video, a store.Asset) (io.ReadCloser, error) {
	dek, err := s.dataKey(v)
	if err != nil {
		return nil, err
	}
	rec, err := seal.ParseRecordingID(v.RecordingID)
	if err != nil {
		return nil, fmt.Errorf("video %s: %w", v.ID, err)
	}
	rc, err := s.blobs.Get(ctx, a.BlobKey)
	if err != nil {
		return nil, s.corruptAsset(v, a, err)
	}
	r, err := seal.NewReader(rc, dek, rec, a.SealIndex)
	if err != nil {
		rc.Close()
		return nil, s.corruptAsset(v, a, err)
	}
	first := make([]byte, min(a.Size, seal.ChunkSize))
	if _, err := io.ReadFull(r, first); err != nil {
		rc.Close()
		return nil, s.corruptAsset(v, a, err)
	}
	return &openedSegment{
		r:     io.MultiReader(bytes.NewReader(first), r),
		close: rc.Close,
		fail:  func(err error) { s.corruptAsset(v, a, err) },
	}, nil
}

func (s *Service) corruptAsset(v store.Video, a store.Asset, err error) error {
	s.metrics.openFailures.Inc()
	s.log.Error("stored derived file failed to open; not serving it", "video_id", v.ID, "kind", a.Kind, "err", err)
	return &Error{Kind: KindCorrupt, Err: err, Message: "This file is damaged and cannot be served."}
}
