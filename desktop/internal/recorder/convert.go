package recorder

import (
	"fmt"

	"framecast.dev/desktop/internal/capture"
	"framecast.dev/desktop/internal/yuv"
)

// convertInRecorder: turn grabs into I420 here (package yuv) rather than
// in ffmpeg, where the machine has the vector code for it. Tests switch
// it off to keep ffmpeg's path covered.
var convertInRecorder = yuv.Fast()

// frameFormat is what travels to ffmpeg: either the grab itself or, with
// a converter, an I420 frame made from it.
type frameFormat struct {
	width, height int
	pixfmt        string
	bytes         int
	conv          *converter // nil: frames are the grabs
}

// converter turns one grab buffer (shared memory with the X server) into
// I420 frames; the recorder's buffers are then ordinary memory a third of
// the size.
type converter struct {
	grab          []byte
	width, height int // even: an odd last column or row is dropped
	stride        int
	order         yuv.Order
}

func newFrameFormat(scr capture.Screen) (frameFormat, error) {
	size := scr.Size()
	order, ok := yuv.OrderOf(scr.PixFmt())
	w, h := yuv.Even(size.X, size.Y)
	if !convertInRecorder || !ok || w == 0 || h == 0 {
		return frameFormat{width: size.X, height: size.Y, pixfmt: scr.PixFmt(), bytes: capture.FrameSize(scr)}, nil
	}
	grab, err := scr.NewBuffer()
	if err != nil {
		return frameFormat{}, fmt.Errorf("allocate the capture buffer: %w", err)
	}
	return frameFormat{width: w, height: h, pixfmt: "yuv420p", bytes: yuv.Size(w, h),
		conv: &converter{grab: grab, width: w, height: h, stride: 4 * size.X, order: order}}, nil
}

// newBuffer is a frame buffer for the pipe to ffmpeg.
func (f frameFormat) newBuffer(scr capture.Screen) ([]byte, error) {
	if f.conv == nil {
		return scr.NewBuffer()
	}
	return make([]byte, f.bytes), nil
}

// grab fills buf with the screen's current picture.
func (f frameFormat) grab(scr capture.Screen, buf []byte) error {
	if f.conv == nil {
		return scr.Grab(buf)
	}
	c := f.conv
	if err := scr.Grab(c.grab); err != nil {
		return err
	}
	return yuv.Convert(buf, c.grab, c.width, c.height, c.stride, c.order)
}
