package yuv

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os/exec"
	"testing"
	"time"

	"framecast.dev/shared/testenv"
)

func randomFrame(r *rand.Rand, stride, h int) []byte {
	b := make([]byte, stride*h)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// convertGo is Convert with the vector code switched off.
func convertGo(t *testing.T, dst, src []byte, w, h, stride int, o Order) {
	t.Helper()
	saved := fast
	setFast(false)
	defer setFast(saved)
	if err := Convert(dst, src, w, h, stride, o); err != nil {
		t.Fatal(err)
	}
}

func firstDiff(a, b []byte) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

func setFast(v bool) { fast = v }

// Against BT.709 computed in floating point from the exact 2×2 mean: Y
// within 1 level, U and V within 2 (the vector average rounds twice).
func TestMatchesBT709(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const w, h = 256, 64
	src := randomFrame(r, 4*w, h)
	dst := make([]byte, Size(w, h))
	if err := Convert(dst, src, w, h, 4*w, BGRA); err != nil {
		t.Fatal(err)
	}
	rgb := func(x, y int) (float64, float64, float64) {
		p := src[y*4*w+4*x:]
		return float64(p[2]), float64(p[1]), float64(p[0])
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			R, G, B := rgb(x, y)
			want := 16 + 219*(0.2126*R+0.7152*G+0.0722*B)/255
			if d := math.Abs(float64(dst[y*w+x]) - want); d > 1 {
				t.Fatalf("Y at %d,%d = %d, BT.709 says %.2f", x, y, dst[y*w+x], want)
			}
		}
	}
	for y := 0; y < h/2; y++ {
		for x := 0; x < w/2; x++ {
			var R, G, B float64
			for _, d := range [][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
				r, g, b := rgb(2*x+d[0], 2*y+d[1])
				R, G, B = R+r/4, G+g/4, B+b/4
			}
			wantU := 128 + 224*(-0.1146*R-0.3854*G+0.5*B)/255
			wantV := 128 + 224*(0.5*R-0.4542*G-0.0458*B)/255
			u, v := dst[w*h+y*w/2+x], dst[w*h+w*h/4+y*w/2+x]
			if math.Abs(float64(u)-wantU) > 2 || math.Abs(float64(v)-wantV) > 2 {
				t.Fatalf("U,V at %d,%d = %d,%d, BT.709 says %.2f,%.2f", x, y, u, v, wantU, wantV)
			}
		}
	}
}

// Flat colours land on the values players map back to them: greys
// exactly (no colour cast, full black and white at 16 and 235), primaries
// within one level of BT.709.
func TestFlatColours(t *testing.T) {
	for _, c := range []struct {
		name    string
		r, g, b byte
		exact   bool
	}{
		{"black", 0, 0, 0, true},
		{"white", 255, 255, 255, true},
		{"grey", 128, 128, 128, true},
		{"red", 255, 0, 0, false},
		{"green", 0, 255, 0, false},
		{"blue", 0, 0, 255, false},
		{"orange", 255, 128, 0, false},
	} {
		R, G, B := float64(c.r), float64(c.g), float64(c.b)
		want := [3]float64{
			16 + 219*(0.2126*R+0.7152*G+0.0722*B)/255,
			128 + 224*(-0.1146*R-0.3854*G+0.5*B)/255,
			128 + 224*(0.5*R-0.4542*G-0.0458*B)/255,
		}
		tolerance := 1.0
		if c.exact {
			tolerance = 0.5
		}
		for _, o := range []Order{BGRA, RGBA} {
			const w, h = 70, 4
			src := make([]byte, 4*w*h)
			for i := 0; i < len(src); i += 4 {
				if o == BGRA {
					src[i], src[i+1], src[i+2], src[i+3] = c.b, c.g, c.r, 0x5a
				} else {
					src[i], src[i+1], src[i+2], src[i+3] = c.r, c.g, c.b, 0x5a
				}
			}
			dst := make([]byte, Size(w, h))
			if err := Convert(dst, src, w, h, 4*w, o); err != nil {
				t.Fatal(err)
			}
			planes := [3][]byte{dst[:w*h], dst[w*h : w*h+w*h/4], dst[w*h+w*h/4:]}
			for p, plane := range planes {
				for i, got := range plane {
					if math.Abs(float64(got)-want[p]) > tolerance {
						t.Fatalf("%s (order %d): plane %d byte %d is %d, BT.709 says %.2f", c.name, o, p, i, got, want[p])
					}
				}
			}
		}
	}
}

// What ffmpeg's own conversion (the path this replaces) makes of the same
// picture: the two must look the same, a mean difference within one level
// in each plane. (Chroma differs most at sharp edges: swscale filters over
// more pixels than the 2×2 average.) The wrong matrix, BT.601, would be
// several levels off in every coloured area.
func TestAgreesWithFFmpeg(t *testing.T) {
	ffmpeg := testenv.Require(t, "ffmpeg")
	const w, h = 640, 360
	raw, err := exec.Command(ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=640x360", "-frames:v", "1",
		"-pix_fmt", "bgr0", "-f", "rawvideo", "-").Output()
	if err != nil {
		t.Fatalf("make a test picture: %v", err)
	}
	cmd := exec.Command(ffmpeg, "-v", "error", "-f", "rawvideo", "-pix_fmt", "bgr0", "-s", "640x360", "-i", "-",
		"-vf", "scale=out_color_matrix=bt709:out_range=tv:flags=accurate_rnd", "-pix_fmt", "yuv420p", "-f", "rawvideo", "-")
	cmd.Stdin = bytes.NewReader(raw)
	want, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffmpeg conversion: %v", err)
	}
	got := make([]byte, Size(w, h))
	if err := Convert(got, raw, w, h, 4*w, BGRA); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		name     string
		from, to int
	}{{"Y", 0, w * h}, {"U", w * h, w*h + w*h/4}, {"V", w*h + w*h/4, Size(w, h)}} {
		var sum, signed float64
		for i := p.from; i < p.to; i++ {
			sum += math.Abs(float64(got[i]) - float64(want[i]))
			signed += float64(got[i]) - float64(want[i])
		}
		mean := sum / float64(p.to-p.from)
		t.Logf("%s plane: mean difference from ffmpeg %.3f levels (signed %.3f)", p.name, mean, signed/float64(p.to-p.from))
		if mean > 1 {
			t.Errorf("%s plane differs from ffmpeg's conversion by %.2f levels on average", p.name, mean)
		}
	}
}

func TestBadSizes(t *testing.T) {
	src := make([]byte, 4*10*10)
	for _, c := range []struct{ w, h, stride, dst int }{
		{9, 10, 40, Size(8, 10)}, {10, 9, 40, Size(10, 8)}, {10, 10, 40, 5}, {10, 10, 36, Size(10, 10)}, {10, 12, 40, Size(10, 12)},
	} {
		if err := Convert(make([]byte, c.dst), src, c.w, c.h, c.stride, BGRA); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}

// The conversion at 1080p, the vector code against the portable code in
// the same run: it reports ms per frame and how many times faster the
// vector code is ("x-vs-portable"). The end-to-end comparison with
// ffmpeg's own conversion is recbench's (docs/BENCHMARKS.md).
func BenchmarkConvert1080p(b *testing.B) {
	if !Fast() {
		b.Skip("no AVX2: the portable code is all there is")
	}
	src := randomFrame(rand.New(rand.NewPCG(5, 6)), 1920*4, 1080)
	dst := make([]byte, Size(1920, 1080))
	setFast(false)
	start := time.Now()
	const portableRounds = 5
	for range portableRounds {
		_ = Convert(dst, src, 1920, 1080, 1920*4, BGRA)
	}
	portable := time.Since(start) / portableRounds
	setFast(true)
	b.SetBytes(int64(len(src)))
	b.ResetTimer()
	for b.Loop() {
		_ = Convert(dst, src, 1920, 1080, 1920*4, BGRA)
	}
	per := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(per.Microseconds())/1000, "ms/frame")
	b.ReportMetric(float64(portable)/float64(per), "x-vs-portable")
}
