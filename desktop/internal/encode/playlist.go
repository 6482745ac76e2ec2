package encode

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Segment is one closed media segment listed in the playlist.
type Segment struct {
	Index    int    // 1, 2, ... in recording order
	File     string // name inside the session's folder
	Duration time.Duration
}

// Playlist is what ffmpeg has published so far.
type Playlist struct {
	Init     string // init segment's name, "" until the first segment closes
	Segments []Segment
	Ended    bool // ffmpeg wrote the last segment
}

// ParsePlaylist reads the HLS media playlist ffmpeg writes.
func ParsePlaylist(r io.Reader) (Playlist, error) {
	var p Playlist
	seq := 0
	var dur time.Duration
	sc := bufio.NewScanner(r)
	first := true
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if first {
			if line != "#EXTM3U" {
				return Playlist{}, errors.New("not an HLS playlist")
			}
			first = false
			continue
		}
		switch {
		case line == "":
		case strings.HasPrefix(line, "#EXT-X-MEDIA-SEQUENCE:"):
			n, err := strconv.Atoi(strings.TrimPrefix(line, "#EXT-X-MEDIA-SEQUENCE:"))
			if err != nil {
				return Playlist{}, fmt.Errorf("bad media sequence %q", line)
			}
			seq = n
		case strings.HasPrefix(line, "#EXT-X-MAP:"):
			attr := strings.TrimPrefix(line, "#EXT-X-MAP:")
			if i := strings.Index(attr, `URI="`); i >= 0 {
				rest := attr[i+5:]
				if j := strings.IndexByte(rest, '"'); j >= 0 {
					p.Init = rest[:j]
				}
			}
		case strings.HasPrefix(line, "#EXTINF:"):
			v := strings.TrimPrefix(line, "#EXTINF:")
			v, _, _ = strings.Cut(v, ",")
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return Playlist{}, fmt.Errorf("bad segment duration %q", line)
			}
			dur = time.Duration(f * float64(time.Second))
		case line == "#EXT-X-ENDLIST":
			p.Ended = true
		case strings.HasPrefix(line, "#"):
		default:
			p.Segments = append(p.Segments, Segment{Index: seq + len(p.Segments), File: line, Duration: dur})
			dur = 0
		}
	}
	if err := sc.Err(); err != nil {
		return Playlist{}, err
	}
	if first {
		return Playlist{}, errors.New("empty playlist")
	}
	return p, nil
}

// ReadPlaylist reads dir's playlist; a missing one reads as empty (ffmpeg
// writes it when the first segment closes).
func ReadPlaylist(dir string) (Playlist, error) {
	f, err := os.Open(filepath.Join(dir, PlaylistName))
	if errors.Is(err, os.ErrNotExist) {
		return Playlist{}, nil
	}
	if err != nil {
		return Playlist{}, err
	}
	defer f.Close()
	p, err := ParsePlaylist(f)
	if err != nil {
		return Playlist{}, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	return p, nil
}
