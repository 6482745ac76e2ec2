package yuv

import (
	"math/rand/v2"
	"testing"
)

// The vector rows and the portable ones give the same bytes, for widths
// that are and are not a multiple of the vector width, padded strides,
// and both byte orders.
func TestVectorMatchesPortable(t *testing.T) {
	if !Fast() {
		t.Fatal("this amd64 machine lacks AVX2 (every x86-64 CPU since 2013 has it): the vector code cannot be tested here")
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, sz := range [][3]int{{1920, 1080, 1920 * 4}, {64, 2, 64 * 4}, {34, 6, 34 * 4}, {1366, 768, 1366*4 + 12}, {30, 4, 128}, {98, 10, 1000}} {
		w, h, stride := sz[0], sz[1], sz[2]
		src := randomFrame(r, stride, h)
		for _, o := range []Order{BGRA, RGBA} {
			want := make([]byte, Size(w, h))
			convertGo(t, want, src, w, h, stride, o)
			got := make([]byte, Size(w, h))
			if err := Convert(got, src, w, h, stride, o); err != nil {
				t.Fatal(err)
			}
			if i := firstDiff(got, want); i >= 0 {
				t.Fatalf("%dx%d stride %d order %d: byte %d (plane offset) is %d, portable code says %d", w, h, stride, o, i, got[i], want[i])
			}
		}
	}
}
