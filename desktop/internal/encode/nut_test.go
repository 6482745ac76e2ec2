package encode

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"framecast.dev/shared/testenv"
)

func TestNUTCRCMatchesLibavutil(t *testing.T) {
	// av_crc(AV_CRC_32_IEEE, 0, "123456789") (CRC-32/MPEG-2 without the
	// initial inversion).
	if got := nutCRC(0, []byte("123456789")); got != 0x89A1897F {
		t.Fatalf("crc = %#x", got)
	}
}

// TestNUTReadByFFmpeg writes frames with gaps and checks ffmpeg reads
// every timestamp and pixel back, and fills the gaps at a constant rate.
func TestNUTReadByFFmpeg(t *testing.T) {
	ffprobe, ffmpeg := testenv.Require(t, "ffprobe"), testenv.Require(t, "ffmpeg")
	for _, pf := range []string{"bgr0", "rgba"} {
		n := &nutWriter{fps: 30}
		var buf bytes.Buffer
		h, err := n.header(4, 2, pf)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(h)
		for _, pts := range []int64{0, 1, 2, 5, 40, 41} {
			frame := bytes.Repeat([]byte{byte(pts), 0x20, 0x30, 0xff}, 8)
			buf.Write(n.frameHeader(nil, pts, len(frame)))
			buf.Write(frame)
		}
		file := filepath.Join(t.TempDir(), "x.nut")
		os.WriteFile(file, buf.Bytes(), 0o644)
		out, err := exec.Command(ffprobe, "-v", "error", "-show_entries", "packet=pts,size:stream=codec_name,pix_fmt,width,height,r_frame_rate",
			"-of", "compact", file).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: ffprobe: %v\n%s", pf, err, out)
		}
		s := string(out)
		for _, want := range []string{"pts=0|size=32", "pts=5|size=32", "pts=41|size=32", "pix_fmt=" + pf, "width=4", "height=2", "r_frame_rate=30/1"} {
			if !strings.Contains(s, want) {
				t.Errorf("%s: ffprobe lacks %q:\n%s", pf, want, s)
			}
		}
		// Constant frame rate out: 42 frames, gaps filled with repeats.
		raw, err := exec.Command(ffmpeg, "-v", "error", "-f", "nut", "-i", file, "-vf", "fps=30",
			"-f", "rawvideo", "-pix_fmt", pf, "-").Output()
		if err != nil {
			t.Fatalf("%s: decode: %v", pf, err)
		}
		seq := []byte{}
		for i := 0; i+32 <= len(raw); i += 32 {
			seq = append(seq, raw[i])
		}
		t.Logf("%s: %v", pf, seq)
		if len(raw) != 42*32 {
			t.Fatalf("%s: %d bytes decoded, want 42 frames", pf, len(raw))
		}
		for i, want := range map[int]byte{0: 0, 3: 2, 5: 5, 39: 5, 40: 40, 41: 41} {
			if got := raw[i*32]; got != want {
				t.Errorf("%s: frame %d shows %d, want %d", pf, i, got, want)
			}
		}
	}
}
