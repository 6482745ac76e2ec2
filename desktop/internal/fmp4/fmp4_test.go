package fmp4

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"framecast.dev/desktop/internal/encode"
	"framecast.dev/shared/testenv"
)

// The durations read from ffmpeg's own segments must match what ffmpeg
// lists in its playlist, with and without sound, at a frame rate whose
// frames do not divide a millisecond.
func TestDurationMatchesFFmpegPlaylist(t *testing.T) {
	ffmpeg := testenv.Require(t, "ffmpeg")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"video+audio 30fps", []string{"-f", "lavfi", "-i", "testsrc=size=160x120:rate=30", "-f", "lavfi", "-i", "sine=sample_rate=48000", "-c:a", "aac"}},
		{"video 29.97fps", []string{"-f", "lavfi", "-i", "testsrc=size=160x120:rate=30000/1001"}},
		{"audio only", []string{"-f", "lavfi", "-i", "sine=sample_rate=44100", "-c:a", "aac"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append([]string{"-hide_banner", "-loglevel", "error"}, tc.args...)
			args = append(args, "-t", "5.3", "-c:v", "libx264", "-preset", "ultrafast", "-force_key_frames", "expr:gte(t,n_forced*2)",
				"-f", "hls", "-hls_time", "2", "-hls_list_size", "0", "-hls_segment_type", "fmp4",
				"-hls_fmp4_init_filename", "init.mp4", "-hls_segment_filename", "seg%05d.m4s", "index.m3u8")
			cmd := exec.Command(ffmpeg, args...)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("ffmpeg: %v\n%s", err, out)
			}
			pl, err := encode.ReadPlaylist(dir)
			if err != nil || len(pl.Segments) < 3 {
				t.Fatalf("playlist: %+v, %v", pl, err)
			}
			in, err := ReadInit(open(t, filepath.Join(dir, pl.Init)))
			if err != nil {
				t.Fatal(err)
			}
			var total time.Duration
			for _, s := range pl.Segments {
				d, err := in.Duration(open(t, filepath.Join(dir, s.File)))
				if err != nil {
					t.Fatal(err)
				}
				if diff := math.Abs(float64(d - s.Duration)); diff > float64(time.Millisecond) {
					t.Errorf("%s: read %v, playlist says %v", s.File, d, s.Duration)
				}
				total += d
			}
			if total < 5*time.Second || total > 5600*time.Millisecond {
				t.Errorf("segments add up to %v for a 5.3 s input", total)
			}
		})
	}
}

func open(t *testing.T, path string) *os.File {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func box(typ string, parts ...[]byte) []byte {
	body := bytes.Join(parts, nil)
	b := binary.BigEndian.AppendUint32(nil, uint32(8+len(body)))
	return append(append(b, typ...), body...)
}

func u32(vs ...uint32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return b
}

// Per-sample durations in trun, defaults from trex, a 64-bit mdat and two
// fragments in one segment: the paths ffmpeg's output above does not take.
func TestPerSampleDurationsAndTrexDefaults(t *testing.T) {
	trak := func(id, scale uint32, handler string) []byte {
		return box("trak",
			box("tkhd", u32(0, 0, 0, id)),
			box("mdia", box("mdhd", u32(0, 0, 0, scale, 0)), box("hdlr", u32(0, 0), []byte(handler), u32(0, 0, 0))))
	}
	init := bytes.Join([][]byte{
		box("ftyp", []byte("iso5"), u32(0)),
		box("moov", trak(1, 48000, "soun"), trak(2, 90000, "vide"),
			box("mvex", box("trex", u32(0, 1, 1, 1024, 0, 0)), box("trex", u32(0, 2, 1, 3000, 0, 0)))),
	}, nil)
	in, err := ReadInit(bytes.NewReader(init))
	if err != nil {
		t.Fatal(err)
	}
	bigMdat := append(u32(1), []byte("mdat")...)
	bigMdat = binary.BigEndian.AppendUint64(bigMdat, 16+5)
	bigMdat = append(bigMdat, "12345"...)
	seg := bytes.Join([][]byte{
		box("styp", []byte("msdh")),
		// Fragment 1: video with per-sample durations (flag 0x100|0x200),
		// sound on trex defaults.
		box("moof", box("mfhd", u32(0, 1)),
			box("traf", box("tfhd", u32(0, 1)), box("trun", u32(0, 10))),
			box("traf", box("tfhd", u32(0, 2)), box("trun", u32(0x000301, 3, 0, 3000, 10, 6000, 10, 9000, 10)))),
		bigMdat,
		// Fragment 2: video on the tfhd default (flag 0x08 after a base
		// data offset 0x01).
		box("moof", box("mfhd", u32(0, 2)),
			box("traf", box("tfhd", u32(0x09, 2, 0, 0, 4500)), box("trun", u32(0, 2)))),
		box("mdat", []byte("x")),
	}, nil)
	d, err := in.Duration(bytes.NewReader(seg))
	if err != nil {
		t.Fatal(err)
	}
	// (3000+6000+9000 + 2·4500) / 90000 s = 0.3 s
	if d != 300*time.Millisecond {
		t.Fatalf("duration = %v, want 300ms on the video clock", d)
	}
	for name, bad := range map[string][]byte{
		"no moof":   box("mdat", []byte("x")),
		"cut short": seg[:len(seg)-3],
		"short trun": box("moof", box("traf", box("tfhd", u32(0, 2)),
			box("trun", u32(0x000100, 1000)))),
	} {
		if _, err := in.Duration(bytes.NewReader(bad)); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: err = %v, want ErrFormat", name, err)
		}
	}
	if _, err := ReadInit(bytes.NewReader(box("ftyp"))); !errors.Is(err, ErrFormat) {
		t.Errorf("init without moov: %v", err)
	}
}
