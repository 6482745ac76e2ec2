//go:build linux

package recorder_test

import (
	"bufio"
	"encoding/binary"
	"image"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"framecast.dev/desktop/internal/capture/screentest"
	"framecast.dev/shared/testenv"
)

// sample is one line of ffmpeg's metadata=print output.
type sample struct {
	t float64 // presentation time, seconds
	v float64
}

// trace runs one ffmpeg over file and returns, on the player's timeline,
// the mean luma of region per video frame and the peak level (dBFS) of
// the sound per millisecond.
func trace(t *testing.T, file string, region image.Rectangle) (luma, peak []sample) {
	t.Helper()
	dir := t.TempDir()
	vf, af := filepath.Join(dir, "v.txt"), filepath.Join(dir, "a.txt")
	graph := "[0:v]crop=" + strconv.Itoa(region.Dx()) + ":" + strconv.Itoa(region.Dy()) + ":" +
		strconv.Itoa(region.Min.X) + ":" + strconv.Itoa(region.Min.Y) +
		",signalstats,metadata=mode=print:key=lavfi.signalstats.YAVG:file=" + vf + "[vo];" +
		"[0:a]aformat=channel_layouts=mono,asetnsamples=n=48:p=0,astats=metadata=1:reset=1," +
		"ametadata=mode=print:key=lavfi.astats.Overall.Peak_level:file=" + af + "[ao]"
	out, err := exec.Command(testenv.Require(t, "ffmpeg"), "-v", "error", "-i", file, "-filter_complex", graph,
		"-map", "[vo]", "-map", "[ao]", "-f", "null", "-").CombinedOutput()
	if err != nil {
		t.Fatalf("trace %s: %v\n%s", file, err, out)
	}
	return readMetadata(t, vf), readMetadata(t, af)
}

func readMetadata(t *testing.T, path string) []sample {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []sample
	var cur float64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, "pts_time:"); i >= 0 {
			cur, _ = strconv.ParseFloat(strings.Fields(line[i+9:])[0], 64)
			continue
		}
		if _, v, ok := strings.Cut(line, "="); ok {
			x, err := strconv.ParseFloat(v, 64)
			if err != nil {
				x = -120 // "-inf": digital silence
			}
			out = append(out, sample{cur, x})
		}
	}
	return out
}

// rampOnsets finds each time the flasher's window starts its ramp: the
// first frame of a ramp tells, by its brightness, how long ago it began.
func rampOnsets(luma []sample) []float64 {
	const black, perLevel = 16.0, 219.0 / 255 // limited-range luma of RGB gray
	var out []float64
	for i := 0; i < len(luma); i++ {
		y := luma[i].v
		if y < black+3 || (i > 0 && luma[i-1].v >= black+3) {
			continue
		}
		if y > 225 { // saturated: the ramp began too long ago to tell
			continue
		}
		ms := (y - black) / perLevel / screentest.RampPerMs
		out = append(out, luma[i].t-ms/1000)
	}
	return out
}

// beepOnsets finds each beep's first millisecond above -20 dBFS after at
// least 100 ms below -40 dBFS.
func beepOnsets(peak []sample) []float64 {
	var out []float64
	quiet := 0
	for _, p := range peak {
		switch {
		case p.v > -20 && quiet >= 100:
			out = append(out, p.t)
			quiet = 0
		case p.v < -40:
			quiet++
		default:
			if quiet < 100 {
				quiet = 0
			}
		}
	}
	return out
}

// pcm decodes file's sound to mono float32 at 48 kHz.
func pcm(t *testing.T, file string) []float32 {
	t.Helper()
	out, err := exec.Command(testenv.Require(t, "ffmpeg"), "-v", "error", "-i", file, "-map", "0:a",
		"-ac", "1", "-ar", "48000", "-f", "f32le", "-").Output()
	if err != nil {
		t.Fatalf("decode sound of %s: %v", file, err)
	}
	s := make([]float32, len(out)/4)
	for i := range s {
		s[i] = math.Float32frombits(binary.LittleEndian.Uint32(out[i*4:]))
	}
	return s
}

// toneLevel is the amplitude of the hz component of s (Goertzel).
func toneLevel(s []float32, hz float64) float64 {
	if len(s) == 0 {
		return 0
	}
	w := 2 * math.Pi * hz / 48000
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, x := range s {
		s0 := float64(x) + c*s1 - s2
		s2, s1 = s1, s0
	}
	p := s1*s1 + s2*s2 - c*s1*s2
	return 2 * math.Sqrt(math.Max(p, 0)) / float64(len(s))
}

// frameColors decodes each frame of file scaled to one pixel (RGB).
func frameColors(t *testing.T, file string) [][3]byte {
	t.Helper()
	out, err := exec.Command(testenv.Require(t, "ffmpeg"), "-v", "error", "-i", file, "-map", "0:v",
		"-vf", "scale=1:1:flags=area,format=rgb24", "-f", "rawvideo", "-").Output()
	if err != nil {
		t.Fatalf("decode frames of %s: %v", file, err)
	}
	var c [][3]byte
	for i := 0; i+3 <= len(out); i += 3 {
		c = append(c, [3]byte{out[i], out[i+1], out[i+2]})
	}
	return c
}
