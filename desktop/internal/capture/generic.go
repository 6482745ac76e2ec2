//go:build !linux

package capture

import (
	"fmt"
	"image"

	"github.com/kbinani/screenshot"
)

func displays() ([]Display, error) {
	n := screenshot.NumActiveDisplays()
	if n == 0 {
		return nil, fmt.Errorf("%w: the system reports no active displays (is the session locked, or screen recording not permitted?)", ErrNoDisplay)
	}
	ds := make([]Display, n)
	for i := range ds {
		ds[i] = Display{Index: i, Name: fmt.Sprintf("Display %d", i+1), Bounds: screenshot.GetDisplayBounds(i), Primary: i == 0}
	}
	return ds, nil
}

// genericScreen grabs through kbinani/screenshot, which allocates a new
// image per frame: correct everywhere, not fast.
type genericScreen struct {
	rect   image.Rectangle
	cursor bool
}

func open(opts Options) (Screen, error) {
	if opts.Rect.Empty() {
		return nil, fmt.Errorf("nothing to capture: the rectangle %s is empty", FormatRect(opts.Rect))
	}
	return &genericScreen{rect: opts.Rect, cursor: opts.Cursor}, nil
}

func (s *genericScreen) Size() image.Point { return s.rect.Size() }
func (s *genericScreen) PixFmt() string    { return "rgba" }

func (s *genericScreen) NewBuffer() ([]byte, error) {
	return make([]byte, s.rect.Dx()*s.rect.Dy()*4), nil
}

func (s *genericScreen) Grab(buf []byte) error {
	img, err := screenshot.CaptureRect(s.rect)
	if err != nil {
		return fmt.Errorf("grab the screen: %w", err)
	}
	row := s.rect.Dx() * 4
	if len(buf) != row*s.rect.Dy() {
		return fmt.Errorf("grab: buffer has %d bytes, a frame has %d", len(buf), row*s.rect.Dy())
	}
	for y := 0; y < s.rect.Dy(); y++ {
		copy(buf[y*row:(y+1)*row], img.Pix[y*img.Stride:])
	}
	return nil
}

func (s *genericScreen) Close() error { return nil }
