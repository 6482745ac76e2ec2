package studio

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"framecast.dev/desktop/internal/encode"
	"framecast.dev/desktop/internal/importer"
	"framecast.dev/desktop/internal/queue"
	upsync "framecast.dev/desktop/internal/sync"
	"framecast.dev/shared/api"
)

// Import phases.
const (
	ImportProbing    = "probing"
	ImportSegmenting = "segmenting"
	ImportQueueing   = "queueing"
	ImportDone       = "done"
)

// ImportProgress is how far an import is.
type ImportProgress struct {
	File      string  `json:"file"`
	Phase     string  `json:"phase"`
	Progress  float64 `json:"progress"` // 0..1 within the phase
	Recording string  `json:"recording,omitempty"`
	Message   string  `json:"message,omitempty"`
}

// Import puts a video file into the upload queue as a recording of its
// own: it is segmented here into the recorder's ~2 s fMP4 form (stream
// copy when it can, else transcoded), each segment sealed into the queue,
// and the uploader sends it whenever the server is reachable. The file
// itself is only read. A file that is not a video is refused with an error
// wrapping importer.ErrNotVideo, before anything is queued.
func (s *Studio) Import(ctx context.Context, path, tracking string) (queue.Recording, error) {
	report := func(p ImportProgress) {
		p.File = path
		s.cfg.OnEvent(Event{Kind: KindImport, Import: &p})
	}
	report(ImportProgress{Phase: ImportProbing})
	ffmpeg, ffprobe, err := importer.Tools()
	if err != nil {
		return queue.Recording{}, err
	}
	info, err := importer.Probe(ctx, ffprobe, path)
	if err != nil {
		return queue.Recording{}, err
	}
	// The segments are made in a folder of their own and queued only once
	// ffmpeg has finished: a half-converted file must never upload.
	if err := os.MkdirAll(s.cfg.OutDir, 0o755); err != nil {
		return queue.Recording{}, fmt.Errorf("cannot create the recordings folder %s: %w", s.cfg.OutDir, err)
	}
	dir, err := os.MkdirTemp(s.cfg.OutDir, importDirPrefix)
	if err != nil {
		return queue.Recording{}, fmt.Errorf("prepare the import: %w", err)
	}
	defer os.RemoveAll(dir)
	last := time.Time{}
	pl, err := importer.Segment(ctx, ffmpeg, path, dir, info, func(f float64) {
		if time.Since(last) >= 200*time.Millisecond || f == 1 {
			last = time.Now()
			report(ImportProgress{Phase: ImportSegmenting, Progress: f})
		}
	})
	if err != nil {
		return queue.Recording{}, err
	}
	report(ImportProgress{Phase: ImportQueueing})
	title := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	if title == "" {
		title = "Imported video"
	}
	r, err := s.q.CreateRecording(ctx, queue.NewRecording{Title: title, PlainDir: dir,
		PlainPattern: importer.SegmentPattern, PlainInit: encode.InitName, PlainFirst: importer.FirstNumber,
		Tracking: tracking, Kind: queue.KindImport})
	if err != nil {
		return queue.Recording{}, fmt.Errorf("prepare the import's upload: %w", err)
	}
	// The thumbnail comes from the file itself; a failure costs only the
	// picture in the library.
	if err := importer.Thumbnail(ctx, ffmpeg, path, s.thumbPath(r.ID.String()), thumbWidth); err != nil {
		s.log.Info("no thumbnail for an import", "err", err)
	}
	u := s.uploader()
	if u != nil {
		u.Notify() // the server video, and its link, are made at once
	}
	var length time.Duration
	add := func(index api.SegmentIndex, file string, d time.Duration) error {
		return upsync.QueueSegment(ctx, s.q, u, r.ID, index, filepath.Join(dir, file), d)
	}
	err = add(api.InitSegment, pl.Init, 0)
	for i, seg := range pl.Segments {
		if err != nil {
			break
		}
		err = add(api.SegmentIndex(i), seg.File, seg.Duration)
		length += seg.Duration
	}
	if err == nil {
		err = s.q.Finish(ctx, r.ID, length)
	}
	if err != nil {
		// Nothing half-imported may upload: the recording is given up and
		// its sealed segments leave the queue's work.
		_ = s.q.MarkFailed(context.WithoutCancel(ctx), r.ID, "The import did not finish: "+err.Error())
		s.cfg.OnEvent(Event{Kind: KindLibrary})
		return queue.Recording{}, fmt.Errorf("import %s: %w", filepath.Base(path), err)
	}
	if u != nil {
		u.Notify()
	}
	s.cfg.OnEvent(Event{Kind: KindLibrary})
	msg := fmt.Sprintf("“%s” is in the library; it uploads now.", title)
	if u == nil || s.isOffline() {
		msg = fmt.Sprintf("“%s” is in the library; it uploads when the server is reachable.", title)
	}
	report(ImportProgress{Phase: ImportDone, Progress: 1, Recording: r.ID.String(), Message: msg})
	return s.q.Recording(ctx, r.ID)
}

// importDirPrefix names an import's work folder in Config.OutDir.
const importDirPrefix = "framecast-import-"

// tidyImports removes the work folders of imports a quit or crash cut
// short before their segments were queued: nothing in them is wanted. A
// folder an unfinished queue recording still names is kept for Recover.
func (s *Studio) tidyImports(ctx context.Context) {
	dirs, _ := filepath.Glob(filepath.Join(s.cfg.OutDir, importDirPrefix+"*"))
	if len(dirs) == 0 {
		return
	}
	rs, err := s.q.Active(ctx)
	if err != nil {
		return
	}
	keep := map[string]bool{}
	for _, r := range rs {
		if r.State == queue.StateRecording {
			keep[filepath.Clean(r.PlainDir)] = true
		}
	}
	for _, d := range dirs {
		if !keep[filepath.Clean(d)] {
			if err := os.RemoveAll(d); err != nil {
				s.log.Warn("remove an interrupted import's work folder", "dir", d, "err", err)
			}
		}
	}
}

func (s *Studio) isOffline() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.offline
}

// WaitUploaded waits until the recording plays on the server and returns
// its link; errors when no uploader runs.
func (s *Studio) WaitUploaded(ctx context.Context, id string) (string, error) {
	rid, err := parseID(id)
	if err != nil {
		return "", err
	}
	u := s.uploader()
	if u == nil {
		return "", errors.New("not uploading: set a server and device token")
	}
	return u.WaitReady(ctx, rid)
}
