package capture

import (
	"errors"
	"fmt"
	"image"
)

// Display is one monitor of the desktop.
type Display struct {
	Index   int             // what --display takes; 0 is the primary display
	Name    string          // the system's name for it (e.g. "HDMI-1"), or "Display N"
	Bounds  image.Rectangle // in desktop coordinates (pixels)
	Primary bool
}

// ErrNoDisplay means there is no desktop to capture (no X server, a locked
// session, or a headless machine).
var ErrNoDisplay = errors.New("no display to capture")

// Displays lists the monitors, the primary one first.
func Displays() ([]Display, error) {
	ds, err := displays()
	if err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		return nil, fmt.Errorf("%w: the system reports no monitors", ErrNoDisplay)
	}
	return ds, nil
}

// Target returns the desktop rectangle to record: region when it is not
// empty, else the bounds of display index. It fails with a message naming
// the valid choices when the display does not exist or the region is not
// entirely on the desktop.
func Target(ds []Display, index int, region image.Rectangle) (image.Rectangle, error) {
	if !region.Empty() {
		desk := Desktop(ds)
		if !region.In(desk) {
			return image.Rectangle{}, fmt.Errorf("region %s is not on the desktop, which spans %s; give x,y,w,h inside it",
				FormatRect(region), FormatRect(desk))
		}
		return region, nil
	}
	if index < 0 || index >= len(ds) {
		return image.Rectangle{}, fmt.Errorf("display %d does not exist; this desktop has displays 0 to %d (see `framecast devices`)",
			index, len(ds)-1)
	}
	return ds[index].Bounds, nil
}

// Desktop is the bounding box of all displays.
func Desktop(ds []Display) image.Rectangle {
	var r image.Rectangle
	for _, d := range ds {
		r = r.Union(d.Bounds)
	}
	return r
}

// FormatRect writes r as the CLI reads it: x,y,w,h.
func FormatRect(r image.Rectangle) string {
	return fmt.Sprintf("%d,%d,%d,%d", r.Min.X, r.Min.Y, r.Dx(), r.Dy())
}
