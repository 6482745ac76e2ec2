//go:build !amd64

package yuv

var fast = false

func yRow(dst, src []byte, k *coeffs) { yRowGo(dst, src, k) }

func uvRow(u, v, src []byte, stride, w int, k *coeffs) { uvRowGo(u, v, src, stride, k) }
