package media

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"framecast.dev/server/internal/blob"
	"framecast.dev/server/internal/jobs"
	"framecast.dev/server/internal/store"
	"framecast.dev/shared/api"
	"framecast.dev/shared/seal"
)

// refusal is a file the import will never take; its message is for the
// owner.
func refusal(format string, args ...any) error {
	return jobs.Permanent(&Error{Kind: KindInvalid, Message: fmt.Sprintf(format, args...)})
}

// processImport is the import job's handler.
func (s *Service) processImport(ctx context.Context, j store.Job) (err error) {
	v, err := s.store.Video(ctx, j.VideoID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // deleted meanwhile
	}
	if err != nil {
		return err
	}
	im, err := s.store.Import(ctx, v.ID)
	if errors.Is(err, store.ErrNotFound) || err == nil && im.State == store.ImportDone || v.State == store.StateReady {
		return nil
	}
	if err != nil {
		return err
	}
	// The owner sees why it failed: a refusal at once, anything else once
	// the attempts are used up.
	defer func() {
		if err == nil || ctx.Err() != nil {
			return
		}
		if jobs.IsPermanent(err) || j.Attempts >= j.MaxAttempts {
			msg := "Processing failed: " + err.Error()
			var me *Error
			if errors.As(err, &me) && me.Kind == KindInvalid {
				msg = me.Message
				// Nothing will ever come of these bytes.
				s.removeImportParts(context.WithoutCancel(ctx), v.ID)
			}
			if serr := s.store.SetImportState(context.WithoutCancel(ctx), v.ID, store.ImportFailed, 0, msg, s.now().UTC()); serr != nil {
				s.log.Warn("recording an import's failure failed", "video_id", v.ID, "err", serr)
			}
			s.log.Info("import refused or failed", "video_id", v.ID, "attempt", j.Attempts, "of", j.MaxAttempts, "err", err)
		}
	}()
	if im.State == store.ImportFailed {
		// Retried by the owner: receiving is over, processing again.
		if err := s.store.SetImportState(ctx, v.ID, store.ImportProcessing, 0, "", s.now().UTC()); err != nil {
			return err
		}
	}
	if im.Received != im.Length {
		return jobs.Permanent(fmt.Errorf("only %d of %d bytes were received", im.Received, im.Length))
	}
	if s.tools.FFmpeg == "" || s.tools.FFprobe == "" {
		return jobs.Permanent(errors.New("ffmpeg and ffprobe are not installed on the server; install them, then retry"))
	}
	if err := os.MkdirAll(s.workDir, 0o700); err != nil {
		return fmt.Errorf("work dir: %w", err)
	}
	work, err := os.MkdirTemp(s.workDir, "import-"+v.ID+"-")
	if err != nil {
		return fmt.Errorf("work dir: %w", err)
	}
	defer os.RemoveAll(work)

	t0 := time.Now()
	src, err := s.importSource(ctx, v.ID, im, work)
	if err != nil {
		return err
	}
	// An earlier attempt may have stored some segments under a key that
	// is gone now: start clean.
	if err := s.clearImportSegments(ctx, v.ID); err != nil {
		return err
	}
	dek := seal.NewKey()
	rec, err := seal.ParseRecordingID(v.RecordingID)
	if err != nil {
		return fmt.Errorf("import %s: %w", v.ID, err)
	}
	wrapped, err := seal.WrapKey(s.kek, dek, purpose(v.ID))
	if err != nil {
		return fmt.Errorf("import %s: %w", v.ID, err)
	}
	// Segments are sealed, stored and published while ffmpeg still writes
	// the next ones (see importSealer). Whatever stops this attempt takes
	// back what it published: a refusal or a failure must not leave a
	// partial video playing; a retry starts clean anyway.
	defer func() {
		if err == nil || ctx.Err() != nil {
			return
		}
		if cerr := s.clearImportSegments(context.WithoutCancel(ctx), v.ID); cerr != nil && !errors.Is(cerr, store.ErrConflict) && !errors.Is(cerr, store.ErrNotFound) {
			s.log.Warn("taking back a failed import's published segments", "video_id", v.ID, "err", cerr)
		}
	}()
	newRun := func(name string, args []string) (*importRun, error) {
		out := filepath.Join(work, name)
		if err := os.MkdirAll(out, 0o700); err != nil {
			return nil, err
		}
		z := newImportSealer(ctx, s, v.ID, rec, dek, wrapped, out)
		z.started = t0
		return s.startImportRun(ctx, v.ID, z, importArgs(src, out, args)), nil
	}
	// The probe and a stream copy start together: most files (phones,
	// cameras, screen recorders) are H.264 + AAC, and with the index at
	// the end of the file each spends its first few hundred milliseconds
	// reading it. Nothing the copy makes is published before the probe has
	// accepted the file for copying; otherwise the copy is thrown away.
	run, err := newRun("copy", []string{"-c", "copy"})
	if err != nil {
		return err
	}
	p, err := s.probeImport(ctx, src)
	if err == nil {
		err = s.checkImport(p)
	}
	if err != nil {
		run.abort()
		return err
	}
	copyPath := p.copyable() && p.Duration > 0
	s.log.Debug("import probed", "video_id", v.ID, "copy", copyPath, "after", time.Since(t0).Round(time.Millisecond).String())
	if copyPath {
		run.accept(p.Duration)
	} else {
		run.abort()
		args := []string{}
		if p.Duration <= 0 && s.imports.MaxDuration > 0 {
			// Length unknown (a browser's WebM): stop at the limit.
			args = append(args, "-t", ff(s.imports.MaxDuration.Seconds()))
		}
		if p.copyable() {
			args = append(args, "-c", "copy")
		} else {
			args = append(args,
				"-c:v", "libx264", "-preset", "veryfast", "-crf", "21", "-pix_fmt", "yuv420p",
				// Even sizes for 4:2:0; a keyframe every 2 s so segments are 2 s.
				"-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2",
				"-force_key_frames", "expr:gte(t,n_forced*"+strconv.Itoa(importSegmentSeconds)+")",
				"-c:a", "aac", "-b:a", "128k", "-ac", "2")
		}
		if run, err = newRun("convert", args); err != nil {
			return err
		}
		run.accept(p.Duration)
	}
	sealer, out := run.sealer, run.sealer.dir
	ffErr := <-run.done
	tFF := time.Since(t0)
	if ffErr != nil {
		sealer.stop()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return refusal("The video could not be converted (%s).", lastLine(ffErr.Error()))
	}
	init, files, durations, err := readHLS(filepath.Join(out, "index.m3u8"))
	if err != nil {
		sealer.stop()
		return refusal("The file holds no pictures that could be played.")
	}
	if init != "init.mp4" {
		sealer.stop()
		return fmt.Errorf("import %s: unexpected init file %q", v.ID, init)
	}
	for i, f := range files {
		if f != strconv.Itoa(i)+".m4s" {
			sealer.stop()
			return fmt.Errorf("import %s: unexpected segment file %q", v.ID, f)
		}
	}
	if len(files) > api.MaxSegmentIndex+1 {
		sealer.stop()
		return refusal("The video is too long: it makes %d segments, at most %d are allowed.", len(files), api.MaxSegmentIndex+1)
	}
	for i, d := range durations {
		if d <= 0 || d > api.MaxSegmentDuration {
			sealer.stop()
			return refusal("Segment %d of the video lasts %.1f s; the file's keyframes are too far apart.", i, d)
		}
	}
	if err := sealer.finish(durations); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return s.dropDeletedImport(ctx, v.ID)
		}
		return err
	}
	tSealed := time.Since(t0)

	id := v.ID
	v, err = s.store.Finalize(ctx, id, store.Finalization{
		HasInit: true, SegmentCount: len(files), Durations: durations, WrappedKey: wrapped, ReadyAt: s.now().UTC(),
	})
	if errors.Is(err, store.ErrNotFound) {
		return s.dropDeletedImport(ctx, id)
	}
	if err != nil {
		return fmt.Errorf("import %s: %w", id, err)
	}
	if err := s.store.SetImportState(ctx, v.ID, store.ImportDone, 1, "", s.now().UTC()); err != nil {
		return err
	}
	s.removeImportParts(ctx, v.ID)
	s.log.Info("import ready", "video_id", v.ID, "segments", v.SegmentCount, "duration_s", v.Duration(), "copied", copyPath,
		"ffmpeg_done_after", tFF.Round(time.Millisecond).String(), "sealed_after", tSealed.Round(time.Millisecond).String(),
		"took", time.Since(t0).Round(time.Millisecond).String())
	return s.ensureJobs(ctx, v)
}

// importRun is one ffmpeg run cutting the upload into segments, with the
// sealer that stores them. Nothing is published before accept.
type importRun struct {
	sealer *importSealer
	cancel context.CancelFunc
	done   chan error    // ffmpeg's outcome
	total  atomic.Uint64 // math.Float64bits of the file's duration, for progress
}

// importArgs are ffmpeg's arguments for cutting src into out with codec
// arguments args.
func importArgs(src, out string, args []string) []string {
	all := []string{"-i", src, "-map", "0:v:0", "-map", "0:a:0?", "-sn", "-dn", "-map_metadata", "-1"}
	all = append(all, args...)
	return append(all, "-f", "hls", "-hls_time", strconv.Itoa(importSegmentSeconds), "-hls_list_size", "0",
		"-hls_playlist_type", "event", "-hls_segment_type", "fmp4", "-hls_flags", "temp_file",
		"-hls_fmp4_init_filename", "init.mp4", "-hls_segment_filename", filepath.Join(out, "%d.m4s"),
		filepath.Join(out, "index.m3u8"))
}

func (s *Service) startImportRun(ctx context.Context, videoID string, z *importSealer, args []string) *importRun {
	rctx, cancel := context.WithCancel(ctx)
	r := &importRun{sealer: z, cancel: cancel, done: make(chan error, 1)}
	z.start()
	go func() {
		r.done <- s.ffmpegProgress(rctx, func() float64 { return math.Float64frombits(r.total.Load()) }, func(done float64) {
			_ = s.store.SetImportState(ctx, videoID, store.ImportProcessing, math.Min(done, 0.99), "", s.now().UTC())
		}, args...)
	}()
	return r
}

// accept lets the run publish what it stores; total is the file's
// duration in seconds (0: unknown) for the progress shown.
func (r *importRun) accept(total float64) {
	r.total.Store(math.Float64bits(total))
	r.sealer.open()
}

// abort stops the run and removes what it stored.
func (r *importRun) abort() {
	r.cancel()
	<-r.done
	r.sealer.stop()
	os.RemoveAll(r.sealer.dir)
}

// dropDeletedImport removes what processing stored for a video deleted
// while it ran (DeleteVideo had nothing of it to remove yet).
func (s *Service) dropDeletedImport(ctx context.Context, id string) error {
	s.log.Info("video deleted while its import was processed; removing what was stored", "video_id", id)
	return s.DeleteVideo(context.WithoutCancel(ctx), id)
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 300 {
		s = s[len(s)-300:]
	}
	return s
}

// importSource is a local file holding the uploaded bytes: the stored
// part itself when there is one part on local disk, else the parts
// joined in work.
func (s *Service) importSource(ctx context.Context, videoID string, im store.Import, work string) (string, error) {
	// The parts that make the file: a chain from byte 0 to the end. A
	// part whose request never got its count into the database (its
	// replica died in between) is left out, as it does not continue the
	// chain the database confirmed.
	type part struct {
		key string
		end int64
	}
	from := map[int64][]part{}
	for info, err := range s.blobs.List(ctx, importPrefix(videoID)) {
		if err != nil {
			return "", fmt.Errorf("import %s: list parts: %w", videoID, err)
		}
		start, end, ok := parseImportPart(videoID, info.Key)
		if !ok || info.Size != end-start {
			continue
		}
		from[start] = append(from[start], part{info.Key, end})
	}
	var chain func(at int64, n int) []string
	chain = func(at int64, n int) []string {
		if at == im.Length {
			return []string{}
		}
		if n == 0 {
			return nil
		}
		for _, p := range from[at] {
			if rest := chain(p.end, n-1); rest != nil {
				return append([]string{p.key}, rest...)
			}
		}
		return nil
	}
	keys := chain(0, max(im.Parts, 1))
	if keys == nil {
		return "", jobs.Permanent(fmt.Errorf("the uploaded file is incomplete (%d of %d bytes stored); upload it again", im.Received, im.Length))
	}
	// Parts on local disk are read in place: one as it is, several through
	// ffmpeg's concat protocol (which seeks across them, as an MP4 with its
	// index at the end needs), so a large upload is never copied again.
	var local []string
	for _, k := range keys {
		p := blob.LocalPath(s.blobs, k)
		if p == "" || strings.ContainsAny(p, "|") {
			local = nil
			break
		}
		local = append(local, p)
	}
	switch {
	case len(local) == 1:
		return local[0], nil
	case len(local) > 1:
		return "concat:" + strings.Join(local, "|"), nil
	}
	path := filepath.Join(work, "source")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	defer f.Close()
	for _, k := range keys {
		rc, err := s.blobs.Get(ctx, k)
		if err != nil {
			return "", fmt.Errorf("import %s: %w", videoID, err)
		}
		_, err = io.Copy(f, rc)
		rc.Close()
		if err != nil {
			return "", fmt.Errorf("import %s: join parts: %w", videoID, err)
		}
	}
	return path, f.Close()
}

func (s *Service) removeImportParts(ctx context.Context, videoID string) {
	for info, err := range s.blobs.List(ctx, importPrefix(videoID)) {
		if err != nil {
			s.log.Warn("list uploaded parts", "video_id", videoID, "err", err)
			return
		}
		if err := s.blobs.Delete(ctx, info.Key); err != nil {
			s.log.Warn("remove uploaded part", "video_id", videoID, "err", err)
		}
	}
}

// importGivenUp ends an import whose every attempt was cut off by a
// stop or crash: what the last one published is taken back (a partial
// video must not go on playing with no end in sight) and the owner sees
// the failure, with Retry.
func (s *Service) importGivenUp(ctx context.Context, j store.Job, reason string) {
	if err := s.clearImportSegments(ctx, j.VideoID); err != nil && !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound) {
		s.log.Warn("taking back a given-up import's segments failed", "video_id", j.VideoID, "err", err)
	}
	msg := "Processing failed: " + reason
	if err := s.store.SetImportState(ctx, j.VideoID, store.ImportFailed, 0, msg, s.now().UTC()); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Warn("recording a given-up import's failure failed", "video_id", j.VideoID, "err", err)
	}
}

func (s *Service) clearImportSegments(ctx context.Context, videoID string) error {
	segs, err := s.store.Segments(ctx, videoID)
	if err != nil {
		return err
	}
	if len(segs) == 0 {
		return nil
	}
	if err := s.store.ClearImportSegments(ctx, videoID); err != nil {
		return err
	}
	for _, seg := range segs {
		if err := s.blobs.Delete(ctx, blobKey(videoID, api.SegmentIndex(seg.Index), seg.SHA256)); err != nil {
			s.log.Warn("remove an earlier attempt's segment", "video_id", videoID, "err", err)
		}
	}
	return nil
}

// probed is what ffprobe says about an upload.
type probed struct {
	Format   string
	Duration float64 // 0: unknown
	Streams  int
	Video    *probedStream
	Audio    *probedStream
}

type probedStream struct {
	Codec  string
	Width  int
	Height int
	PixFmt string
}

// copyable: H.264 in 4:2:0 with AAC sound (or none) goes into the
// segments as it is; anything else is transcoded.
func (p probed) copyable() bool {
	if p.Video == nil || p.Video.Codec != "h264" || (p.Video.PixFmt != "yuv420p" && p.Video.PixFmt != "yuvj420p") {
		return false
	}
	return p.Audio == nil || p.Audio.Codec == "aac"
}

func (s *Service) probeImport(ctx context.Context, path string) (probed, error) {
	out, err := run(ctx, s.tools.FFprobe, "-v", "error", "-show_entries",
		"format=format_name,duration:stream=codec_type,codec_name,width,height,pix_fmt", "-of", "json", path)
	if err != nil {
		if ctx.Err() != nil {
			return probed{}, ctx.Err()
		}
		msg := err.Error()
		switch {
		case strings.Contains(msg, "moov atom not found"):
			return probed{}, refusal("This file is incomplete or damaged (its index is missing): upload the whole file again.")
		default:
			return probed{}, refusal("This file is not a video Framecast can read: choose an MP4, MOV, WebM or MKV file.")
		}
	}
	var raw struct {
		Format struct {
			Name     string `json:"format_name"`
			Duration string `json:"duration"`
		} `json:"format"`
		Streams []struct {
			Type   string `json:"codec_type"`
			Codec  string `json:"codec_name"`
			Width  int    `json:"width"`
			Height int    `json:"height"`
			PixFmt string `json:"pix_fmt"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		return probed{}, fmt.Errorf("ffprobe output: %w", err)
	}
	p := probed{Format: raw.Format.Name, Streams: len(raw.Streams)}
	if d, err := strconv.ParseFloat(raw.Format.Duration, 64); err == nil && d > 0 && !math.IsInf(d, 0) {
		p.Duration = d
	}
	for _, st := range raw.Streams {
		ps := &probedStream{Codec: st.Codec, Width: st.Width, Height: st.Height, PixFmt: st.PixFmt}
		switch {
		case st.Type == "video" && p.Video == nil && st.Width > 0 && st.Height > 0 && !stillImage(st.Codec):
			p.Video = ps
		case st.Type == "audio" && p.Audio == nil:
			p.Audio = ps
		}
	}
	return p, nil
}

// stillImage codecs are cover art and pictures, not video: ffprobe reports
// a JPEG or PNG (renamed .mp4) as a one-frame video stream.
func stillImage(codec string) bool {
	switch codec {
	case "mjpeg", "png", "bmp", "gif", "webp", "tiff":
		return true
	}
	return false
}

func (s *Service) checkImport(p probed) error {
	l := s.imports
	if p.Video == nil {
		if p.Audio != nil {
			return refusal("This file holds only sound; Framecast takes videos.")
		}
		return refusal("This file is not a video Framecast can read: choose an MP4, MOV, WebM or MKV file.")
	}
	if l.MaxStreams > 0 && p.Streams > l.MaxStreams {
		return refusal("This file has %d streams; at most %d are allowed.", p.Streams, l.MaxStreams)
	}
	long, short := max(p.Video.Width, p.Video.Height), min(p.Video.Width, p.Video.Height)
	if l.MaxLong > 0 && (long > l.MaxLong || short > l.MaxShort) {
		return refusal("The video is %d×%d; the largest this server takes is %d×%d.", p.Video.Width, p.Video.Height, l.MaxLong, l.MaxShort)
	}
	if l.MaxDuration > 0 && p.Duration > l.MaxDuration.Seconds() {
		return refusal("The video lasts %s; the longest this server takes is %s.", clockDuration(p.Duration), clockDuration(l.MaxDuration.Seconds()))
	}
	return nil
}

func clockDuration(sec float64) string {
	d := time.Duration(sec * float64(time.Second)).Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%d:%02d", m, s)
}

// ffmpegProgress runs ffmpeg reporting how far it got (0..1 of total
// seconds; nothing when total is unknown) about once a second.
func (s *Service) ffmpegProgress(ctx context.Context, total func() float64, progress func(float64), args ...string) error {
	argv := append([]string{"-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-progress", "pipe:1", "-nostats"}, args...)
	cmd := exec.CommandContext(ctx, s.tools.FFmpeg, argv...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	var stderr strings.Builder
	cmd.Stderr = &limitedWriter{w: &stderr, n: 64 << 10}
	if err := cmd.Start(); err != nil {
		return err
	}
	sc := bufio.NewScanner(stdout)
	last := time.Now()
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "out_time_us=") || total() <= 0 || time.Since(last) < time.Second {
			continue
		}
		if us, err := strconv.ParseInt(strings.TrimPrefix(line, "out_time_us="), 10, 64); err == nil && us > 0 {
			progress(float64(us) / 1e6 / total())
			last = time.Now()
		}
	}
	_, _ = io.Copy(io.Discard, stdout)
	if err := cmd.Wait(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("ffmpeg: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

// importSealer seals and stores the segments ffmpeg writes, as they
// appear, with a few workers so the blob store's writes overlap, and
// publishes them in order as they are stored: the video plays from its
// start (Growing) long before ffmpeg is done, as a recording being
// uploaded would if its key were here.
//
// Durability: a published segment's blob is put before its row is
// written, so a row never names a missing blob; the blobs reach the disk
// with one Flush before the video is finalized, and only finalize gives
// the playlist its end. A crash before that leaves a video without an
// end, never one that looks complete; the retried job clears what was
// published and starts over with a fresh key.
type importSealer struct {
	parent  context.Context // the job's; ctx ends when the sealer does
	ctx     context.Context
	cancel  context.CancelFunc
	s       *Service
	video   string
	rec     seal.RecordingID
	dek     seal.Key
	wrapped []byte
	dir     string
	started time.Time // when the job began, for the log

	mu   sync.Mutex
	next int // next media segment to hand out
	init bool
	// count is -1 until ffmpeg is done; then the number of segments.
	count int
	err   error
	// listed are the durations of the segments ffmpeg has finished, from
	// its playlist (the final one once count is set).
	listed []float64
	// stored are the segments in the blob store, by index.
	stored map[int]store.Segment
	// published is how many media segments viewers can play (init with
	// the first); -1 before the first publication.
	published int
	queue     chan api.SegmentIndex
	kick      chan struct{}
	wg        sync.WaitGroup
	feed      sync.WaitGroup
	pub       sync.WaitGroup
	done      chan struct{}
	sealed    chan struct{} // closed when every worker is done
	gate      chan struct{} // closed by open: publishing may begin
	opened    sync.Once
}

const importSealWorkers = 3

func newImportSealer(parent context.Context, s *Service, videoID string, rec seal.RecordingID, dek seal.Key, wrapped []byte, dir string) *importSealer {
	ctx, cancel := context.WithCancel(parent)
	return &importSealer{parent: parent, ctx: ctx, cancel: cancel, s: s, video: videoID, rec: rec, dek: dek, wrapped: wrapped, dir: dir,
		count: -1, stored: map[int]store.Segment{}, published: -1,
		queue: make(chan api.SegmentIndex, 16), kick: make(chan struct{}, 1), done: make(chan struct{}), sealed: make(chan struct{}),
		gate: make(chan struct{})}
}

func (z *importSealer) start() {
	for range importSealWorkers {
		z.wg.Add(1)
		go func() {
			defer z.wg.Done()
			for i := range z.queue {
				if err := z.sealOne(i); err != nil {
					z.fail(err)
					continue
				}
				select {
				case z.kick <- struct{}{}:
				default:
				}
			}
		}()
	}
	z.feed.Add(1)
	go z.watch()
	z.pub.Add(1)
	go z.publisher()
}

// watch hands segments to the workers as they are complete, until
// ffmpeg is done (count set) and all are handed out. Segment n is
// complete once ffmpeg lists it in its playlist (rewritten after each
// segment) and it has its final name (temp_file); the init segment is
// written when segment 0 ends.
func (z *importSealer) watch() {
	defer z.feed.Done()
	defer close(z.queue)
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	playlist := filepath.Join(z.dir, "index.m3u8")
	for {
		z.mu.Lock()
		count := z.count
		z.mu.Unlock()
		if count < 0 {
			if listed, err := readLiveHLS(playlist); err != nil {
				z.fail(err)
				return
			} else {
				z.mu.Lock()
				if z.count < 0 && len(listed) > len(z.listed) {
					z.listed = listed
				}
				z.mu.Unlock()
			}
		}
		z.mu.Lock()
		count, next, init, listed := z.count, z.next, z.init, len(z.listed)
		z.mu.Unlock()
		complete := func(n int) bool {
			if count >= 0 {
				return n < count
			}
			return n < listed && exists(filepath.Join(z.dir, strconv.Itoa(n)+".m4s"))
		}
		switch {
		case !init && (count >= 0 || complete(0) && exists(filepath.Join(z.dir, "init.mp4"))):
			if !z.send(api.InitSegment) {
				return
			}
			z.mu.Lock()
			z.init = true
			z.mu.Unlock()
			continue
		case count >= 0 && next >= count:
			return
		case init && complete(next):
			if !z.send(api.SegmentIndex(next)) {
				return
			}
			z.mu.Lock()
			z.next++
			z.mu.Unlock()
			continue
		}
		select {
		case <-z.ctx.Done():
			return
		case <-z.done:
		case <-t.C:
		}
	}
}

// readLiveHLS reads the durations of the segments ffmpeg's playlist lists
// so far, in order (segment n is n.m4s). A playlist caught while being
// rewritten yields the entries it completes; none while it is missing.
func readLiveHLS(path string) ([]float64, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []float64
	d := -1.0
	text := string(b)
	for {
		line, rest, ok := strings.Cut(text, "\n")
		if !ok {
			break // an unfinished line
		}
		text = rest
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "#EXTINF:"):
			v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimPrefix(line, "#EXTINF:"), ","), 64)
			if err != nil {
				return nil, fmt.Errorf("ffmpeg's playlist: %w", err)
			}
			d = v
		case line != "" && !strings.HasPrefix(line, "#"):
			if d < 0 || filepath.Base(line) != strconv.Itoa(len(out))+".m4s" {
				return nil, fmt.Errorf("ffmpeg's playlist: unexpected segment %q", line)
			}
			out = append(out, d)
			d = -1
		}
	}
	return out, nil
}

func (z *importSealer) send(i api.SegmentIndex) bool {
	select {
	case z.queue <- i:
		return true
	case <-z.ctx.Done():
		return false
	}
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func (z *importSealer) fail(err error) {
	z.mu.Lock()
	if z.err == nil {
		z.err = err
	}
	z.mu.Unlock()
	z.cancel()
}

// publisher publishes stored segments in order whenever a worker stored
// one, until every worker is done.
func (z *importSealer) publisher() {
	defer z.pub.Done()
	select {
	case <-z.gate:
	case <-z.ctx.Done():
		return
	}
	if err := z.publishReady(); err != nil {
		z.fail(err)
		return
	}
	for {
		select {
		case <-z.ctx.Done():
			return
		case <-z.kick:
		case <-z.sealed:
			if err := z.publishReady(); err != nil {
				z.fail(err)
			}
			return
		}
		if err := z.publishReady(); err != nil {
			z.fail(err)
			return
		}
	}
}

// publishReady publishes the stored segments that continue what viewers
// can play (the init segment with the first), in one transaction.
func (z *importSealer) publishReady() error {
	z.mu.Lock()
	from := max(z.published, 0)
	var segs []store.Segment
	if z.published < 0 {
		init, ok := z.stored[store.InitIndex]
		if !ok {
			z.mu.Unlock()
			return nil
		}
		segs = append(segs, init)
	}
	k := from
	for ; k < len(z.listed); k++ {
		seg, ok := z.stored[k]
		if !ok {
			break
		}
		if d := z.listed[k]; d <= 0 || d > api.MaxSegmentDuration {
			z.mu.Unlock()
			return refusal("Segment %d of the video lasts %.1f s; the file's keyframes are too far apart.", k, d)
		}
		if k > api.MaxSegmentIndex {
			z.mu.Unlock()
			return refusal("The video is too long: it makes more than %d segments.", api.MaxSegmentIndex+1)
		}
		segs = append(segs, seg)
	}
	durations := slices.Clone(z.listed[:k])
	z.mu.Unlock()
	if k == from {
		return nil // nothing new (or the init segment without segment 0)
	}
	err := z.s.store.PublishImportSegments(z.ctx, z.video, segs, store.Publication{HasInit: true, Durations: durations, WrappedKey: z.wrapped})
	if err != nil {
		return fmt.Errorf("import %s: publish segments: %w", z.video, err)
	}
	z.mu.Lock()
	first := z.published < 0
	z.published = k
	z.mu.Unlock()
	if first {
		z.s.log.Info("import playable", "video_id", z.video, "segments", k, "after", time.Since(z.started).Round(time.Millisecond).String())
	}
	if z.s.onImportPublished != nil {
		z.s.onImportPublished(z.video, k)
	}
	return nil
}

// finish waits for every one of the count segments (durations from
// ffmpeg's final playlist) to be stored and published, and makes them
// durable.
func (z *importSealer) finish(durations []float64) error {
	z.mu.Lock()
	z.count = len(durations)
	z.listed = durations
	z.mu.Unlock()
	close(z.done)
	z.feed.Wait()
	z.wg.Wait()
	close(z.sealed)
	z.pub.Wait()
	z.cancel()
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.err != nil {
		return z.err
	}
	if !z.init || z.next != z.count || z.published != z.count {
		return fmt.Errorf("import %s: stored %d and published %d of %d segments", z.video, z.next, z.published, z.count)
	}
	if err := blob.Flush(z.s.blobs); err != nil {
		return fmt.Errorf("import %s: %w", z.video, err)
	}
	return nil
}

// open lets the sealer publish what it stores.
func (z *importSealer) open() { z.opened.Do(func() { close(z.gate) }) }

// stop abandons the sealing (ffmpeg failed, or the run was not wanted)
// and removes the segments it stored but did not publish; what it
// published is the caller's to take back (clearImportSegments).
func (z *importSealer) stop() {
	z.cancel()
	z.feed.Wait()
	z.wg.Wait()
	z.pub.Wait()
	z.mu.Lock()
	var keys []string
	for i, seg := range z.stored {
		if i == store.InitIndex && z.published < 0 || i >= 0 && i >= max(z.published, 0) {
			keys = append(keys, blobKey(z.video, api.SegmentIndex(i), seg.SHA256))
		}
	}
	z.mu.Unlock()
	ctx := context.WithoutCancel(z.parent)
	for _, k := range keys {
		if err := z.s.blobs.Delete(ctx, k); err != nil {
			z.s.log.Warn("remove an abandoned import segment", "video_id", z.video, "err", err)
		}
	}
}

// sealOne seals one plaintext file with the video's fresh data key,
// exactly as the desktop seals a recorded segment (same recording id and
// index), and stores it under its content address.
func (z *importSealer) sealOne(index api.SegmentIndex) error {
	name := "init.mp4"
	if index != api.InitSegment {
		name = strconv.Itoa(int(index)) + ".m4s"
	}
	plain := filepath.Join(z.dir, name)
	in, err := os.Open(plain)
	if err != nil {
		return fmt.Errorf("import %s: segment %s: %w", z.video, index, err)
	}
	defer in.Close()
	sealedPath := plain + ".sealed"
	out, err := os.OpenFile(sealedPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("import %s: segment %s: %w", z.video, index, err)
	}
	defer os.Remove(sealedPath)
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(out, h)}
	w, err := seal.NewWriter(cw, z.dek, z.rec, index.SealIndex())
	if err == nil {
		_, err = io.Copy(w, in)
	}
	if err == nil {
		err = w.Close()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("import %s: seal segment %s: %w", z.video, index, err)
	}
	in.Close()
	os.Remove(plain) // sealed; the plaintext goes at once
	sum := hex.EncodeToString(h.Sum(nil))
	// Durable with one Flush before the video is finalized (see finish).
	if err := blob.PutFileUnsynced(z.ctx, z.s.blobs, blobKey(z.video, index, sum), sealedPath); err != nil {
		return fmt.Errorf("import %s: store segment %s: %w", z.video, index, err)
	}
	z.mu.Lock()
	z.stored[int(index)] = store.Segment{VideoID: z.video, Index: int(index), Size: cw.n, SHA256: sum, CreatedAt: z.s.now().UTC()}
	z.mu.Unlock()
	return nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
