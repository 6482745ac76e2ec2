package capture

import (
	"image"
)

// Screen copies one rectangle of the desktop into frame buffers. Frames are
// packed rows of 4-byte pixels, Size().X*4 bytes per row, in the order
// PixFmt names. A Screen is used by one goroutine at a time.
type Screen interface {
	// Size is the frame size in pixels (the rectangle's size).
	Size() image.Point
	// PixFmt is the ffmpeg name of the pixel layout: "bgr0" or "rgba".
	PixFmt() string
	// NewBuffer returns a frame buffer that Grab fills without an extra
	// copy (shared memory with the X server on Linux). Buffers stay valid
	// until Close.
	NewBuffer() ([]byte, error)
	// Grab fills buf with the rectangle's current content, mouse pointer
	// included when Options.Cursor is set. buf should come from NewBuffer;
	// any other buffer of the right size works, one copy slower.
	Grab(buf []byte) error
	// Close releases the buffers and the connection to the display.
	Close() error
}

// Options choose what a Screen captures.
type Options struct {
	Rect   image.Rectangle // desktop coordinates, from Target
	Cursor bool            // draw the mouse pointer into frames
}

// Open starts capturing opts.Rect.
func Open(opts Options) (Screen, error) {
	return open(opts)
}

// FrameSize is the byte size of one frame of s.
func FrameSize(s Screen) int {
	sz := s.Size()
	return sz.X * sz.Y * 4
}
