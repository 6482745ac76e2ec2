package media

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"framecast.dev/server/internal/jobs"
	"framecast.dev/server/internal/store"
	"framecast.dev/shared/api"
)

// Trimming cuts a video to [start, end) seconds without re-encoding it
// all: the segments wholly inside are kept as they are (stream copy), the
// end is cut by stream copy too (a cut after a keyframe needs no new
// one), and only the segment holding the start is re-encoded from the
// exact start to its end. The result is a new rendition of up to two parts
// (the re-encoded head, then the copied rest), each with its own init
// segment, played as one HLS playlist with a discontinuity between them.
// Every file carries its H.264 parameter sets in-band too, so players and
// ffmpeg decode across the join. The rendition's files are sealed under
// the video's data key like segments; the original stays, so a trim can
// be changed or removed.

// TrimArgs are a trim job's arguments.
type TrimArgs struct {
	Start float64 `json:"start"`
	End   float64 `json:"end"`
}

// MinTrimmed is the shortest trimmed video.
const MinTrimmed = 0.5

// trimSealBase is the seal index of a rendition's first file; the next
// ones count down. Far above media indexes, below the derived files'.
const trimSealBase = api.InitSealIndex - 100

// boundaryEpsilon: a cut this close to a segment boundary is on it.
const boundaryEpsilon = 0.02

// CheckTrim validates a trim of v.
func CheckTrim(v store.Video, start, end float64) error {
	d := v.Duration()
	switch {
	case math.IsNaN(start) || math.IsNaN(end) || start < 0 || end > d+boundaryEpsilon:
		return fail(KindInvalid, "The start and end must lie within the video (0 to %.2f seconds).", d)
	case end-start < MinTrimmed:
		return fail(KindInvalid, "The trimmed video must last at least %.1f seconds.", MinTrimmed)
	}
	return nil
}

// Trim returns the video's trimmed rendition, or ErrNotFound.
func (s *Service) Trim(ctx context.Context, v store.Video) (store.Trim, error) {
	return s.store.Trim(ctx, v.ID)
}

// RequestTrim queues a trim of the video; its processing follows.
func (s *Service) RequestTrim(ctx context.Context, v store.Video, start, end float64) error {
	if err := CheckTrim(v, start, end); err != nil {
		return err
	}
	if s.jobs == nil {
		return errors.New("media: no job queue")
	}
	_, err := s.jobs.Enqueue(ctx, jobs.Spec{Kind: JobTrim, VideoID: v.ID, Args: TrimArgs{Start: start, End: end}})
	return err
}

// Untrim goes back to the whole recording.
func (s *Service) Untrim(ctx context.Context, v store.Video) error {
	old, err := s.store.DeleteTrim(ctx, v.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	s.removeTrimFiles(ctx, old)
	return s.reprocess(ctx, v)
}

func (s *Service) removeTrimFiles(ctx context.Context, t store.Trim) {
	for _, f := range t.Files() {
		if err := s.blobs.Delete(ctx, f.Key); err != nil {
			s.log.Warn("removing a replaced trim file failed", "video_id", t.VideoID, "err", err)
		}
	}
}

// reprocess queues the derived files again (they follow the rendition).
func (s *Service) reprocess(ctx context.Context, v store.Video) error {
	if s.jobs == nil {
		return nil
	}
	for _, kind := range afterFinalize {
		if _, err := s.jobs.Enqueue(ctx, jobs.Spec{Kind: kind, VideoID: v.ID}); err != nil {
			return fmt.Errorf("queue %s job for %s: %w", kind, v.ID, err)
		}
	}
	return nil
}

func (s *Service) processTrim(ctx context.Context, v store.Video, j store.Job, work string) error {
	args, err := jobs.Args[TrimArgs](j)
	if err != nil {
		return err
	}
	if err := CheckTrim(v, args.Start, args.End); err != nil {
		return jobs.Permanent(err)
	}
	start, end := args.Start, math.Min(args.End, v.Duration())
	cum := make([]float64, len(v.Durations)+1)
	for i, d := range v.Durations {
		cum[i+1] = cum[i] + d
	}
	// a: the segment holding start; m: the one holding end.
	a := 0
	for a+1 < len(v.Durations) && cum[a+1] <= start+boundaryEpsilon {
		a++
	}
	m := a
	for m+1 < len(v.Durations) && cum[m+1] < end-boundaryEpsilon {
		m++
	}
	var parts []string // folders of ffmpeg's HLS outputs, in order
	k := a             // first segment copied as is
	if start-cum[a] > boundaryEpsilon {
		// The head: re-encoded from the exact start to the segment's end
		// (or to end, when both cuts fall in one segment).
		src, err := s.sourceRange(ctx, v, work, "head", a, a)
		if err != nil {
			return err
		}
		out := filepath.Join(work, "part0")
		argv := []string{"-ss", ff(start - cum[a]), "-i", src}
		if m == a {
			argv = append(argv, "-t", ff(end-start))
		}
		argv = append(argv, "-map", "0:v:0", "-map", "0:a:0?",
			// No B-frames: decoding and presentation times are equal,
			// so the next part can follow without overlapping.
			"-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", "-bf", "0",
			// Parameter sets in every keyframe, so the join decodes
			// everywhere (see the package comment).
			"-x264-params", "repeat-headers=1",
			// Sound to the last picture (the encoder's last audio frame
			// may end short of it): a gap at the join stalls players.
			"-af", "apad", "-shortest",
			"-c:a", "aac", "-b:a", "128k")
		if err := s.hlsOut(ctx, out, 1000, argv...); err != nil {
			return fmt.Errorf("trim %s: re-encode the first segment: %w", v.ID, err)
		}
		parts = append(parts, out)
		k = a + 1
	}
	if k <= m {
		src, err := s.sourceRange(ctx, v, work, "rest", k, m)
		if err != nil {
			return err
		}
		out := filepath.Join(work, fmt.Sprintf("part%d", len(parts)))
		argv := []string{"-i", src}
		if end < cum[m+1]-boundaryEpsilon {
			argv = append(argv, "-t", ff(end-cum[k]))
		}
		seg := 2
		if len(v.Durations) > 0 {
			seg = max(1, int(math.Round(v.Durations[0])))
		}
		argv = append(argv, "-map", "0", "-c", "copy", "-bsf:v", "h264_mp4toannexb")
		if err := s.hlsOut(ctx, out, seg, argv...); err != nil {
			return fmt.Errorf("trim %s: copy the kept segments: %w", v.ID, err)
		}
		parts = append(parts, out)
	}

	t := store.Trim{VideoID: v.ID, Start: start, End: end, CreatedAt: s.now().UTC()}
	var b [8]byte
	rand.Read(b[:])
	prefix := "videos/" + v.ID + "/trim-" + hex.EncodeToString(b[:]) + "/"
	n := uint32(0)
	sealFile := func(path string, d float64) (store.TrimFile, error) {
		a := store.Asset{Kind: "trim", SealIndex: trimSealBase - n}
		key := fmt.Sprintf("%s%d", prefix, n)
		n++
		stored, err := s.sealToBlob(ctx, v, path, key, a.SealIndex)
		if err != nil {
			return store.TrimFile{}, err
		}
		return store.TrimFile{Key: key, SealIndex: a.SealIndex, Size: stored, Duration: d}, nil
	}
	for _, dir := range parts {
		init, files, durs, err := readHLS(filepath.Join(dir, "index.m3u8"))
		if err != nil {
			return fmt.Errorf("trim %s: %w", v.ID, err)
		}
		var p store.TrimPart
		if p.Init, err = sealFile(filepath.Join(dir, init), 0); err != nil {
			return err
		}
		for i, f := range files {
			tf, err := sealFile(filepath.Join(dir, f), durs[i])
			if err != nil {
				return err
			}
			p.Segments = append(p.Segments, tf)
		}
		t.Parts = append(t.Parts, p)
	}
	old, err := s.store.PutTrim(ctx, t)
	if err != nil {
		for _, f := range t.Files() {
			_ = s.blobs.Delete(context.WithoutCancel(ctx), f.Key)
		}
		if errors.Is(err, store.ErrNotFound) {
			return nil // deleted meanwhile
		}
		return err
	}
	if old.VideoID != "" {
		s.removeTrimFiles(ctx, old)
	}
	s.log.Info("video trimmed", "video_id", v.ID, "start", start, "end", end, "duration", t.Duration(), "parts", len(t.Parts))
	return s.reprocess(ctx, v)
}

func ff(x float64) string { return strconv.FormatFloat(x, 'f', 3, 64) }

// hlsOut runs ffmpeg with args and writes fMP4 HLS into dir.
func (s *Service) hlsOut(ctx context.Context, dir string, segSeconds int, args ...string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	args = append(args, "-f", "hls", "-hls_time", strconv.Itoa(segSeconds), "-hls_list_size", "0",
		"-hls_playlist_type", "vod", "-hls_segment_type", "fmp4",
		"-hls_fmp4_init_filename", "init.mp4", "-hls_segment_filename", filepath.Join(dir, "%d.m4s"),
		filepath.Join(dir, "index.m3u8"))
	return s.ffmpeg(ctx, args...)
}

// readHLS reads an ffmpeg VOD playlist: init file, segment files and
// their durations.
func readHLS(path string) (init string, files []string, durations []float64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", nil, nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "#EXT-X-MAP:URI="):
			init = strings.Trim(strings.TrimPrefix(line, "#EXT-X-MAP:URI="), `"`)
		case strings.HasPrefix(line, "#EXTINF:"):
			d, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimPrefix(line, "#EXTINF:"), ","), 64)
			if err != nil {
				return "", nil, nil, fmt.Errorf("playlist %s: %w", path, err)
			}
			durations = append(durations, d)
		case line != "" && !strings.HasPrefix(line, "#"):
			files = append(files, filepath.Base(line))
		}
	}
	if err := sc.Err(); err != nil {
		return "", nil, nil, err
	}
	if init == "" || len(files) == 0 || len(files) != len(durations) {
		return "", nil, nil, fmt.Errorf("playlist %s: no init segment or segments", path)
	}
	return init, files, durations, nil
}

// sourceRange writes the original's init segment and media segments
// first..last (inclusive) into one fragmented MP4 in work.
func (s *Service) sourceRange(ctx context.Context, v store.Video, work, name string, first, last int) (string, error) {
	path := filepath.Join(work, name+".mp4")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("source of %s: %w", v.ID, err)
	}
	defer f.Close()
	idx := []api.SegmentIndex{}
	if v.HasInit {
		idx = append(idx, api.InitSegment)
	}
	for i := first; i <= last; i++ {
		idx = append(idx, api.SegmentIndex(i))
	}
	for _, i := range idx {
		if err := s.copySegment(ctx, v, i, f); err != nil {
			return "", err
		}
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("source of %s: %w", v.ID, err)
	}
	return path, nil
}

func (s *Service) copySegment(ctx context.Context, v store.Video, index api.SegmentIndex, w io.Writer) error {
	rc, _, err := s.OpenSegment(ctx, v, index)
	if err != nil {
		return fmt.Errorf("source of %s: segment %s: %w", v.ID, index, err)
	}
	defer rc.Close()
	if _, err := io.Copy(w, rc); err != nil {
		return fmt.Errorf("source of %s: segment %s: %w", v.ID, index, err)
	}
	return nil
}

// trimSource writes a trimmed rendition's plaintext into work and returns
// a file ffmpeg reads as one input. With playlist, it is an HLS playlist
// of the local files (its length is exactly the rendition's, for
// ffprobe). Without, it is one MPEG-TS: each part remuxed with its
// parameter sets in-band and its timestamps following the previous
// part's, then concatenated, which every ffmpeg filter and muxer reads
// across the join. seconds > 0 stops after the segment reaching it.
func (s *Service) trimSource(ctx context.Context, v store.Video, t store.Trim, work string, seconds float64, playlist bool) (string, error) {
	dir := filepath.Join(work, "trimmed")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	copyFile := func(tf store.TrimFile, w io.Writer) error {
		rc, err := s.OpenAsset(ctx, v, store.Asset{Kind: "trim", BlobKey: tf.Key, SealIndex: tf.SealIndex, Size: tf.Size})
		if err != nil {
			return err
		}
		defer rc.Close()
		if _, err := io.Copy(w, rc); err != nil {
			return fmt.Errorf("trimmed source of %s: %w", v.ID, err)
		}
		return nil
	}
	var (
		m3u8   strings.Builder
		ts     []string
		at     float64
		n      int
		stored = func(tf store.TrimFile) (string, error) {
			name := fmt.Sprintf("%d.mp4", n)
			n++
			f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return "", err
			}
			defer f.Close()
			if err := copyFile(tf, f); err != nil {
				return "", err
			}
			return name, f.Close()
		}
	)
	m3u8.WriteString("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:" + strconv.Itoa(targetDuration(t)) + "\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n")
	stop := false
	for i, p := range t.Parts {
		if stop {
			break
		}
		if playlist {
			if i > 0 {
				m3u8.WriteString("#EXT-X-DISCONTINUITY\n")
			}
			name, err := stored(p.Init)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(&m3u8, "#EXT-X-MAP:URI=\"%s\"\n", name)
			for _, seg := range p.Segments {
				name, err := stored(seg)
				if err != nil {
					return "", err
				}
				fmt.Fprintf(&m3u8, "#EXTINF:%.6f,\n%s\n", seg.Duration, name)
			}
			continue
		}
		// One fragmented MP4 per part, then MPEG-TS.
		partPath := filepath.Join(dir, fmt.Sprintf("part%d.mp4", i))
		f, err := os.OpenFile(partPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return "", err
		}
		offset := at
		files := append([]store.TrimFile{p.Init}, p.Segments...)
		for j, tf := range files {
			if err := copyFile(tf, f); err != nil {
				f.Close()
				return "", err
			}
			if j > 0 {
				at += tf.Duration
				if seconds > 0 && at >= seconds {
					stop = true
					break
				}
			}
		}
		if err := f.Close(); err != nil {
			return "", err
		}
		tsPath := filepath.Join(dir, fmt.Sprintf("part%d.ts", i))
		// make_zero: a part's first decoding time (before its first
		// picture when it has B-frames) lands on the previous part's end,
		// so decoding times keep increasing across the join.
		if err := s.ffmpeg(ctx, "-i", partPath, "-map", "0", "-c", "copy", "-bsf:v", "h264_mp4toannexb",
			"-avoid_negative_ts", "make_zero", "-output_ts_offset", ff(offset), "-f", "mpegts", tsPath); err != nil {
			return "", fmt.Errorf("trimmed source of %s: %w", v.ID, err)
		}
		ts = append(ts, tsPath)
	}
	if playlist {
		m3u8.WriteString("#EXT-X-ENDLIST\n")
		path := filepath.Join(dir, "index.m3u8")
		return path, os.WriteFile(path, []byte(m3u8.String()), 0o600)
	}
	path := filepath.Join(work, "source.ts")
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	defer out.Close()
	for _, p := range ts {
		in, err := os.Open(p)
		if err != nil {
			return "", err
		}
		_, err = io.Copy(out, in)
		in.Close()
		if err != nil {
			return "", fmt.Errorf("trimmed source of %s: %w", v.ID, err)
		}
	}
	return path, out.Close()
}

func targetDuration(t store.Trim) int {
	target := 1.0
	for _, p := range t.Parts {
		for _, s := range p.Segments {
			target = math.Max(target, math.Ceil(s.Duration))
		}
	}
	return int(target)
}

// TrimPlaylist is the HLS playlist of a trimmed rendition; file URIs are
// relative (t/{part}/init.mp4, t/{part}/{n}.m4s).
func TrimPlaylist(t store.Trim) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:%d\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n", targetDuration(t))
	for i, p := range t.Parts {
		if i > 0 {
			b.WriteString("#EXT-X-DISCONTINUITY\n")
		}
		fmt.Fprintf(&b, "#EXT-X-MAP:URI=\"t/%d/init.mp4\"\n", i)
		for j, s := range p.Segments {
			fmt.Fprintf(&b, "#EXTINF:%.6f,\nt/%d/%d.m4s\n", s.Duration, i, j)
		}
	}
	b.WriteString("#EXT-X-ENDLIST\n")
	return b.String()
}

// PlaylistOf is the playlist viewers get: the trimmed rendition's when
// there is one, else the original's.
func (s *Service) PlaylistOf(ctx context.Context, v store.Video) (string, error) {
	t, err := s.store.Trim(ctx, v.ID)
	if errors.Is(err, store.ErrNotFound) {
		return Playlist(v), nil
	}
	if err != nil {
		return "", err
	}
	return TrimPlaylist(t), nil
}

// Trimmed reports whether the video plays a trimmed rendition (then its
// original segments are not served: what was cut stays cut).
func (s *Service) Trimmed(ctx context.Context, v store.Video) (bool, error) {
	_, err := s.store.Trim(ctx, v.ID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// OpenTrimFile opens file n of part p of the trimmed rendition (n < 0:
// the part's init segment).
func (s *Service) OpenTrimFile(ctx context.Context, v store.Video, part, n int) (io.ReadCloser, int64, string, error) {
	notFound := fail(KindNotFound, "There is no such segment.")
	t, err := s.store.Trim(ctx, v.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, "", notFound
	}
	if err != nil {
		return nil, 0, "", err
	}
	if part < 0 || part >= len(t.Parts) || n >= len(t.Parts[part].Segments) {
		return nil, 0, "", notFound
	}
	tf, ctype := t.Parts[part].Init, "video/mp4"
	if n >= 0 {
		tf, ctype = t.Parts[part].Segments[n], "video/iso.segment"
	}
	rc, err := s.OpenAsset(ctx, v, store.Asset{Kind: "trim", BlobKey: tf.Key, SealIndex: tf.SealIndex, Size: tf.Size})
	if err != nil {
		return nil, 0, "", err
	}
	return rc, tf.Size, ctype, nil
}
