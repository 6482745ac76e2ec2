package recorder

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"framecast.dev/desktop/internal/encode"
)

// partsDir holds a second name (a hard link) for every segment handed
// out, so the final MP4 can be made after the receiver deleted its copy.
const partsDir = ".parts"

// segmenter publishes what ffmpeg has finished: it reads the playlist
// (ffmpeg rewrites it right after closing a segment), verifies each new
// file, keeps a link for the final MP4 and emits SegmentClosed.
type segmenter struct {
	dir     string
	emit    func(Event)
	next    int // next media index to publish
	initOK  bool
	parts   []string     // kept names: init, then media segments in order
	bytes   int64        // sum of published sizes
	largest int64        // largest media segment
	count   atomic.Int64 // media segments published; read by Status
}

func newSegmenter(dir string, emit func(Event)) (*segmenter, error) {
	if err := os.Mkdir(filepath.Join(dir, partsDir), 0o700); err != nil {
		return nil, fmt.Errorf("prepare %s: %w", dir, err)
	}
	return &segmenter{dir: dir, emit: emit, next: 1}, nil
}

// poll publishes newly closed segments. It returns the playlist it read.
func (s *segmenter) poll() (encode.Playlist, error) {
	p, err := encode.ReadPlaylist(s.dir)
	if err != nil {
		return p, err
	}
	if p.Init != "" && !s.initOK {
		if err := s.publish(0, p.Init, true, 0); err != nil {
			return p, err
		}
		s.initOK = true
	}
	for _, sg := range p.Segments {
		if sg.Index < s.next {
			continue
		}
		if sg.Index != s.next {
			return p, fmt.Errorf("segment %d is missing from the playlist", s.next)
		}
		if err := s.publish(sg.Index, sg.File, false, sg.Duration); err != nil {
			return p, err
		}
		s.next++
		s.count.Store(int64(s.next - 1))
	}
	return p, nil
}

func (s *segmenter) publish(index int, name string, init bool, dur time.Duration) error {
	path := filepath.Join(s.dir, name)
	if err := encode.VerifyFragment(path, init); err != nil {
		return err
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	keep := filepath.Join(s.dir, partsDir, name)
	if err := os.Link(path, keep); err != nil {
		// No hard links (FAT, some network shares): a copy does the job.
		if err := copyFile(path, keep); err != nil {
			return fmt.Errorf("keep %s for the final MP4: %w", name, err)
		}
	}
	s.parts = append(s.parts, keep)
	s.bytes += st.Size()
	if !init && st.Size() > s.largest {
		s.largest = st.Size()
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	s.emit(SegmentClosed{Index: index, Init: init, Path: abs, Size: st.Size(), Duration: dur})
	return nil
}

// published is the number of media segments handed out.
func (s *segmenter) published() int { return int(s.count.Load()) }

// removeParts drops the kept links once the MP4 exists.
func (s *segmenter) removeParts() {
	os.RemoveAll(filepath.Join(s.dir, partsDir))
}

// removeUnfinished deletes what ffmpeg left half-written: temporary files,
// and listed segments that fail verification (ffmpeg renames truncated
// segments into place when the disk is full).
func (s *segmenter) removeUnfinished() {
	tmp, _ := filepath.Glob(filepath.Join(s.dir, "*.tmp"))
	for _, f := range tmp {
		os.Remove(f)
	}
	segs, _ := filepath.Glob(filepath.Join(s.dir, "seg*.m4s"))
	for _, f := range segs {
		if err := encode.VerifyFragment(f, false); errors.Is(err, encode.ErrIncomplete) {
			os.Remove(f)
		}
	}
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
