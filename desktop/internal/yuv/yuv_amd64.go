package yuv

import "golang.org/x/sys/cpu"

var fast = cpu.X86.HasAVX2

// Both take a multiple of 32 pixels; src may be anywhere (unaligned loads).
//
//go:noescape
func yRowAVX2(dst, src *byte, n int, k *coeffs)

// uvRowAVX2 reads n pixels of two rows (the second stride bytes after the
// first) and writes n/2 bytes of U and of V.
//
//go:noescape
func uvRowAVX2(u, v, src *byte, stride, n int, k *coeffs)

func yRow(dst, src []byte, k *coeffs) {
	n := 0
	if fast {
		n = len(dst) &^ 31
		if n > 0 {
			yRowAVX2(&dst[0], &src[0], n, k)
		}
	}
	yRowGo(dst[n:], src[4*n:], k)
}

func uvRow(u, v, src []byte, stride, w int, k *coeffs) {
	n := 0
	if fast {
		n = w &^ 31
		if n > 0 {
			uvRowAVX2(&u[0], &v[0], &src[0], stride, n, k)
		}
	}
	uvRowGo(u[n/2:], v[n/2:], src[4*n:], stride, k)
}
