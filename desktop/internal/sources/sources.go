// Package sources is what the source picker shows: the screens with small
// live pictures of each, and the microphones and system-audio sources with
// their sound levels. It knows nothing of Wails: a Preview reports through
// callbacks, and the app turns those into window events.
package sources

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/jpeg"

	"framecast.dev/desktop/internal/capture"
	"framecast.dev/desktop/internal/capture/audio"
)

// Screen is one monitor, in desktop coordinates (pixels): what a region
// drawn on its thumbnail is mapped back to.
type Screen struct {
	Index   int    `json:"index"`
	Name    string `json:"name"`
	X       int    `json:"x"`
	Y       int    `json:"y"`
	Width   int    `json:"width"`
	Height  int    `json:"height"`
	Primary bool   `json:"primary"`
}

// List is everything the picker offers.
type List struct {
	Screens []Screen      `json:"screens"`
	Audio   audio.Devices `json:"audio"`
	Errors  []string      `json:"errors"` // what could not be listed, as sentences
}

// Thumbnail is one screen's picture, a JPEG data URL.
type Thumbnail struct {
	Index  int    `json:"index"`
	Image  string `json:"image"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

// Screens lists the monitors, the primary one first.
func Screens() ([]Screen, []capture.Display, error) {
	ds, err := capture.Displays()
	if err != nil {
		return nil, nil, err
	}
	out := make([]Screen, len(ds))
	for i, d := range ds {
		name := d.Name
		if name == "" {
			name = fmt.Sprintf("Display %d", d.Index+1)
		}
		out[i] = Screen{Index: d.Index, Name: name, X: d.Bounds.Min.X, Y: d.Bounds.Min.Y,
			Width: d.Bounds.Dx(), Height: d.Bounds.Dy(), Primary: d.Primary}
	}
	return out, ds, nil
}

// Grab takes one picture of rect, scaled down to at most maxWidth pixels
// wide, as a JPEG data URL.
func Grab(rect image.Rectangle, maxWidth int) (Thumbnail, error) {
	scr, err := capture.Open(capture.Options{Rect: rect, Cursor: true})
	if err != nil {
		return Thumbnail{}, err
	}
	defer scr.Close()
	buf, err := scr.NewBuffer()
	if err != nil {
		return Thumbnail{}, fmt.Errorf("grab the screen: %w", err)
	}
	if err := scr.Grab(buf); err != nil {
		return Thumbnail{}, err
	}
	img := Downscale(buf, scr.Size(), scr.PixFmt(), maxWidth)
	var out bytes.Buffer
	if err := jpeg.Encode(&out, img, &jpeg.Options{Quality: 70}); err != nil {
		return Thumbnail{}, fmt.Errorf("encode a thumbnail: %w", err)
	}
	b := img.Bounds()
	return Thumbnail{Image: "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(out.Bytes()),
		Width: b.Dx(), Height: b.Dy()}, nil
}

// Downscale averages boxes of a packed 4-byte-per-pixel frame (pixfmt
// "bgr0" or "rgba", as capture delivers) into an image at most maxWidth
// wide, keeping the aspect ratio. Averaging, not picking one pixel per
// box, keeps thin text lines visible as grey instead of dropping them.
func Downscale(frame []byte, size image.Point, pixfmt string, maxWidth int) *image.RGBA {
	w, h := size.X, size.Y
	ow, oh := w, h
	if maxWidth > 0 && w > maxWidth {
		ow = maxWidth
		oh = max(1, h*maxWidth/w)
	}
	out := image.NewRGBA(image.Rect(0, 0, ow, oh))
	ri, bi := 0, 2
	if pixfmt == "bgr0" {
		ri, bi = 2, 0
	}
	for oy := 0; oy < oh; oy++ {
		y0, y1 := oy*h/oh, max((oy+1)*h/oh, oy*h/oh+1)
		for ox := 0; ox < ow; ox++ {
			x0, x1 := ox*w/ow, max((ox+1)*w/ow, ox*w/ow+1)
			var r, g, b, n int
			for y := y0; y < y1; y++ {
				row := frame[(y*w+x0)*4 : (y*w+x1)*4]
				for i := 0; i < len(row); i += 4 {
					r += int(row[i+ri])
					g += int(row[i+1])
					b += int(row[i+bi])
					n++
				}
			}
			o := out.PixOffset(ox, oy)
			out.Pix[o], out.Pix[o+1], out.Pix[o+2], out.Pix[o+3] = uint8(r/n), uint8(g/n), uint8(b/n), 255
		}
	}
	return out
}
