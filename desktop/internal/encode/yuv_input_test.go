package encode

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"framecast.dev/desktop/internal/yuv"
	"framecast.dev/shared/testenv"
)

// Frames the recorder converted itself (BT.709 I420) reach the video with
// their colours: decoded back to RGB, a flat orange is orange, whether
// the size is kept (no swscale at all) or shrunk (a scale that must not
// convert the colours a second time).
func TestI420FramesKeepTheirColours(t *testing.T) {
	ff := testenv.Require(t, "ffmpeg")
	const w, h = 320, 240
	src := make([]byte, 4*w*h)
	for i := 0; i < len(src); i += 4 {
		src[i], src[i+1], src[i+2] = 0x20, 0x90, 0xf0 // B, G, R: orange
	}
	frame := make([]byte, yuv.Size(w, h))
	if err := yuv.Convert(frame, src, w, h, 4*w, yuv.BGRA); err != nil {
		t.Fatal(err)
	}
	for _, maxHeight := range []int{0, 120} {
		t.Run(fmt.Sprintf("max-height-%d", maxHeight), func(t *testing.T) {
			dir := t.TempDir()
			s, err := Start(Config{FFmpeg: ff, Dir: dir, Width: w, Height: h, PixFmt: "yuv420p", FPS: 30,
				MaxHeight: maxHeight, Encoder: X264("ultrafast")})
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 30; i++ {
				if err := s.WriteFrame(frame, int64(i)); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.WriteFrame(frame[:len(frame)-1], 31); err == nil {
				t.Fatal("a frame one byte short was taken")
			}
			s.CloseInputs()
			if err := s.WaitTimeout(20 * time.Second); err != nil {
				t.Fatal(err)
			}
			p, err := ReadPlaylist(dir)
			if err != nil || len(p.Segments) == 0 {
				t.Fatalf("playlist %+v: %v", p, err)
			}
			// The first frame, back to RGB the way a player would (BT.709).
			cmd := exec.Command(ff, "-v", "error", "-i", filepath.Join(dir, PlaylistName), "-frames:v", "1",
				"-vf", "scale=in_color_matrix=bt709:in_range=tv,format=rgb24", "-f", "rawvideo", "-")
			cmd.Dir = dir
			rgb, err := cmd.Output()
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			ow, oh := OutputSize(w, h, maxHeight)
			if len(rgb) != ow*oh*3 {
				t.Fatalf("decoded %d bytes, want %dx%d", len(rgb), ow, oh)
			}
			mid := rgb[(oh/2*ow+ow/2)*3:][:3]
			want := []byte{0xf0, 0x90, 0x20}
			for c := range want {
				if d := int(mid[c]) - int(want[c]); d < -4 || d > 4 {
					t.Fatalf("the middle pixel decodes as %x, want about %x", mid, want)
				}
			}
			if bytes.Count(rgb, []byte{0}) > len(rgb)/10 {
				t.Fatal("the picture is mostly black")
			}
		})
	}
}
