package media

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
)

// writePlayBadge draws the play button laid over the GIF preview (a
// translucent dark disc with a white triangle, anti-aliased) as a PNG of
// size×size pixels. Drawn rather than shipped, so it scales with the GIF.
func writePlayBadge(path string, size int) error {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	r := float64(size) / 2
	for y := range size {
		for x := range size {
			fx, fy := float64(x)+0.5-r, float64(y)+0.5-r
			cover := math.Max(0, math.Min(1, r-math.Hypot(fx, fy)))
			if cover == 0 {
				continue
			}
			c := color.NRGBA{A: uint8(160 * cover)}
			// The triangle points right, its centroid near the centre.
			tx, ty := fx/r, fy/r
			if tx >= -0.28 && tx <= 0.45 && math.Abs(ty) <= 0.4*(0.45-tx)/0.73 {
				c = color.NRGBA{R: 255, G: 255, B: 255, A: uint8(255 * cover)}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("play badge: %w", err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("play badge: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("play badge: %w", err)
	}
	return nil
}
