// Package yuv turns captured 4-byte pixels into the planar 4:2:0 frames
// H.264 encoders take (I420, BT.709 limited range).
//
// Converting in the recorder instead of in ffmpeg saves most of what a
// recording costs besides the encoder itself: swscale's generic path took
// 6.5 ms per 1080p frame here, the AVX2 rows below take about 1 ms, and
// the frame that crosses the pipe to ffmpeg shrinks from 8 MB to 3 MB.
package yuv

import "fmt"

// Order is the byte order of a source pixel; the fourth byte is ignored.
type Order int

const (
	BGRA Order = iota // ffmpeg's bgr0/bgra: X11 and Windows
	RGBA              // ffmpeg's rgb0/rgba
)

// OrderOf maps an ffmpeg pixel format name to its Order.
func OrderOf(pixfmt string) (Order, bool) {
	switch pixfmt {
	case "bgr0", "bgra":
		return BGRA, true
	case "rgb0", "rgba":
		return RGBA, true
	}
	return 0, false
}

// Size is the byte size of a w×h I420 frame: a full-size Y plane and a
// quarter-size U and V plane. w and h must be even.
func Size(w, h int) int { return w*h + w*h/2 }

// Even rounds a frame size down to what 4:2:0 can hold: the last column or
// row of an odd-sized capture is dropped.
func Even(w, h int) (int, int) { return w &^ 1, h &^ 1 }

// Fast reports whether this machine converts with vector instructions. The
// portable code gives identical pixels at several times the cost, so
// without it the recorder leaves conversion to ffmpeg, which has its own
// vector code for every platform.
func Fast() bool { return fast }

// Convert writes the w×h I420 frame of src into dst. src holds rows of
// 4-byte pixels, stride bytes apart, at least w wide and h high; w and h
// must be even (see Even) and dst Size(w, h) long.
func Convert(dst, src []byte, w, h, stride int, o Order) error {
	if w <= 0 || h <= 0 || w%2 != 0 || h%2 != 0 {
		return fmt.Errorf("yuv: frame size %dx%d is not even", w, h)
	}
	if len(dst) != Size(w, h) {
		return fmt.Errorf("yuv: destination has %d bytes, want %d", len(dst), Size(w, h))
	}
	if stride < 4*w || len(src) < stride*(h-1)+4*w {
		return fmt.Errorf("yuv: source of %d bytes (stride %d) is too small for %dx%d", len(src), stride, w, h)
	}
	k := &tables[o]
	yp, up, vp := dst[:w*h], dst[w*h:w*h+w*h/4], dst[w*h+w*h/4:]
	for row := 0; row < h; row += 2 {
		r0 := src[row*stride : row*stride+4*w]
		r1 := src[(row+1)*stride : (row+1)*stride+4*w]
		yRow(yp[row*w:(row+1)*w], r0, k)
		yRow(yp[(row+1)*w:(row+2)*w], r1, k)
		uvRow(up[row/2*w/2:(row/2+1)*w/2], vp[row/2*w/2:(row/2+1)*w/2], src[row*stride:], stride, w, k)
	}
	return nil
}

// coeffs is laid out for the assembly: each vector is one 32-byte load.
type coeffs struct {
	y     [32]byte   // Y weight of each byte of a pixel, unsigned, repeated
	u, v  [32]byte   // U and V weights, signed
	x80   [32]byte   // flips a byte between unsigned and signed
	yAdd  [16]uint16 // undoes the flip, adds 16 and rounds
	uvAdd [16]uint16 // adds 128 and rounds
	perm  [8]uint32  // puts the Y rows' dwords back in order
	shuf  [32]byte   // puts U and V bytes back in order
	ky    [4]int32   // the weights again, for the portable code
	ku    [4]int32
	kv    [4]int32
}

// BT.709 (what players assume for HD), limited range, in 1/256ths:
// Y = 16 + (47R + 157G + 16B)/256 (219/255 of 0.2126, 0.7152, 0.0722),
// U = 128 + (-26R - 86G + 112B)/256, V = 128 + (112R - 102G - 10B)/256
// (224/255 of the colour-difference weights). U and V weights sum to zero
// so grey has no colour; the Y weights are unsigned because 157 is beyond
// a signed byte, hence the flip in the vector code.
var (
	wy = [3]int32{47, 157, 16} // R, G, B
	wu = [3]int32{-26, -86, 112}
	wv = [3]int32{112, -102, -10}
)

var tables = [2]coeffs{build(BGRA), build(RGBA)}

func build(o Order) coeffs {
	var k coeffs
	pos := [3]int{2, 1, 0} // R, G, B in BGRA
	if o == RGBA {
		pos = [3]int{0, 1, 2}
	}
	for c := 0; c < 3; c++ {
		k.ky[pos[c]], k.ku[pos[c]], k.kv[pos[c]] = wy[c], wu[c], wv[c]
	}
	sumY := k.ky[0] + k.ky[1] + k.ky[2]
	for i := 0; i < 32; i++ {
		k.y[i] = byte(k.ky[i%4])
		k.u[i] = byte(int8(k.ku[i%4]))
		k.v[i] = byte(int8(k.kv[i%4]))
		k.x80[i] = 0x80
	}
	for i := range k.yAdd {
		k.yAdd[i] = uint16(128*sumY + 16*256 + 128)
		k.uvAdd[i] = 128*256 + 128
	}
	k.perm = [8]uint32{0, 4, 1, 5, 2, 6, 3, 7}
	lane := [16]byte{0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15}
	copy(k.shuf[:16], lane[:])
	copy(k.shuf[16:], lane[:])
	return k
}

// yRowGo and uvRowGo are the portable rows. They compute exactly what the
// vector code does (the same weights, the same rounding, the same 2×2
// average: rows first, then columns, each rounding up), so either gives
// the same pixels.
func yRowGo(dst, src []byte, k *coeffs) {
	for i := range dst {
		p := src[4*i : 4*i+3]
		dst[i] = byte((k.ky[0]*int32(p[0]) + k.ky[1]*int32(p[1]) + k.ky[2]*int32(p[2]) + 16*256 + 128) >> 8)
	}
}

func uvRowGo(u, v, src []byte, stride int, k *coeffs) {
	avg := func(a, b int32) int32 { return (a + b + 1) >> 1 }
	for i := range u {
		var a [3]int32
		for c := 0; c < 3; c++ {
			top := avg(int32(src[8*i+c]), int32(src[stride+8*i+c]))
			bottom := avg(int32(src[8*i+4+c]), int32(src[stride+8*i+4+c]))
			a[c] = avg(top, bottom)
		}
		u[i] = byte((k.ku[0]*a[0] + k.ku[1]*a[1] + k.ku[2]*a[2] + 128*256 + 128) >> 8)
		v[i] = byte((k.kv[0]*a[0] + k.kv[1]*a[1] + k.kv[2]*a[2] + 128*256 + 128) >> 8)
	}
}
