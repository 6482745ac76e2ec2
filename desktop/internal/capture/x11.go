//go:build linux

package capture

import (
	"errors"
	"fmt"
	"image"
	"io"
	"log"
	"os"
	"sort"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/randr"
	"github.com/jezek/xgb/shm"
	"github.com/jezek/xgb/xfixes"
	"github.com/jezek/xgb/xinerama"
	"github.com/jezek/xgb/xproto"
	"golang.org/x/sys/unix"
)

func init() {
	// xgb prints connection trouble to stderr itself; Grab returns the
	// same trouble as an error, worded for the user.
	xgb.Logger = log.New(io.Discard, "", 0)
}

func connect() (*xgb.Conn, error) {
	if os.Getenv("DISPLAY") == "" {
		return nil, fmt.Errorf("%w: DISPLAY is not set; run inside an X11 session (on Wayland, from an XWayland-enabled session)", ErrNoDisplay)
	}
	c, err := xgb.NewConn()
	if err != nil {
		return nil, fmt.Errorf("%w: cannot connect to X display %q: %v", ErrNoDisplay, os.Getenv("DISPLAY"), err)
	}
	return c, nil
}

// displays asks RandR for named monitors, then Xinerama, then takes the
// whole root window: one of them answers on every X server.
func displays() ([]Display, error) {
	c, err := connect()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	root := xproto.Setup(c).DefaultScreen(c)

	var ds []Display
	if randr.Init(c) == nil {
		if _, err := randr.QueryVersion(c, 1, 5).Reply(); err == nil {
			if rep, err := randr.GetMonitors(c, root.Root, true).Reply(); err == nil {
				for _, m := range rep.Monitors {
					name := ""
					if a, err := xproto.GetAtomName(c, m.Name).Reply(); err == nil {
						name = a.Name
					}
					ds = append(ds, Display{
						Name:    name,
						Bounds:  image.Rect(int(m.X), int(m.Y), int(m.X)+int(m.Width), int(m.Y)+int(m.Height)),
						Primary: m.Primary,
					})
				}
			}
		}
	}
	if len(ds) == 0 && xinerama.Init(c) == nil {
		if rep, err := xinerama.QueryScreens(c).Reply(); err == nil {
			for i, s := range rep.ScreenInfo {
				ds = append(ds, Display{
					Bounds:  image.Rect(int(s.XOrg), int(s.YOrg), int(s.XOrg)+int(s.Width), int(s.YOrg)+int(s.Height)),
					Primary: i == 0,
				})
			}
		}
	}
	if len(ds) == 0 {
		ds = append(ds, Display{Bounds: image.Rect(0, 0, int(root.WidthInPixels), int(root.HeightInPixels)), Primary: true})
	}
	if !anyPrimary(ds) {
		ds[0].Primary = true
	}
	sort.SliceStable(ds, func(i, j int) bool { return ds[i].Primary && !ds[j].Primary })
	for i := range ds {
		ds[i].Index = i
		if ds[i].Name == "" {
			ds[i].Name = fmt.Sprintf("Display %d", i+1)
		}
	}
	return ds, nil
}

func anyPrimary(ds []Display) bool {
	for _, d := range ds {
		if d.Primary {
			return true
		}
	}
	return false
}

// x11Screen grabs with MIT-SHM: every buffer handed out by NewBuffer is a
// System V shared-memory segment attached to the X server, so a grab is one
// round trip in which the server writes the pixels straight into our memory.
type x11Screen struct {
	conn   *xgb.Conn
	root   xproto.Window
	rect   image.Rectangle
	pixfmt string
	rOff   int // byte offset of red within a pixel; blue is 2-rOff

	useShm  bool
	segs    map[*byte]*segment
	scratch *segment // for buffers that did not come from NewBuffer

	cursor bool
}

type segment struct {
	id  int
	seg shm.Seg
	mem []byte
}

func open(opts Options) (Screen, error) {
	c, err := connect()
	if err != nil {
		return nil, err
	}
	s := &x11Screen{conn: c, rect: opts.Rect, segs: map[*byte]*segment{}}
	if err := s.init(opts); err != nil {
		c.Close()
		return nil, err
	}
	return s, nil
}

func (s *x11Screen) init(opts Options) error {
	setup := xproto.Setup(s.conn)
	if setup.ImageByteOrder != xproto.ImageOrderLSBFirst {
		return errors.New("this X server sends pixels most-significant byte first, which Framecast cannot record yet")
	}
	scr := setup.DefaultScreen(s.conn)
	s.root = scr.Root
	rootRect := image.Rect(0, 0, int(scr.WidthInPixels), int(scr.HeightInPixels))
	if s.rect.Empty() || !s.rect.In(rootRect) {
		return fmt.Errorf("rectangle %s is not inside the X screen %s", FormatRect(s.rect), FormatRect(rootRect))
	}
	bpp := 0
	for _, f := range setup.PixmapFormats {
		if f.Depth == scr.RootDepth {
			bpp = int(f.BitsPerPixel)
		}
	}
	if bpp != 32 {
		return fmt.Errorf("the X screen has %d-bit depth and %d bits per pixel; Framecast records 24/32-bit screens only", scr.RootDepth, bpp)
	}
	var red uint32
	for _, d := range scr.AllowedDepths {
		for _, v := range d.Visuals {
			if v.VisualId == scr.RootVisual {
				red = v.RedMask
			}
		}
	}
	switch red {
	case 0xff0000:
		s.pixfmt, s.rOff = "bgr0", 2
	case 0x0000ff:
		s.pixfmt, s.rOff = "rgb0", 0
	default:
		return fmt.Errorf("the X screen's red mask %#x is not one Framecast can record", red)
	}

	if shm.Init(s.conn) == nil {
		if _, err := shm.QueryVersion(s.conn).Reply(); err == nil {
			s.useShm = true
		}
	}
	if s.useShm {
		// A probe segment: attaching fails on remote X servers, and
		// then we grab through the socket instead.
		seg, err := s.newSegment()
		if err != nil {
			s.useShm = false
		} else {
			s.scratch = seg
		}
	}
	if opts.Cursor && xfixes.Init(s.conn) == nil {
		if _, err := xfixes.QueryVersion(s.conn, 4, 0).Reply(); err == nil {
			s.cursor = true
		}
	}
	return nil
}

func (s *x11Screen) Size() image.Point { return s.rect.Size() }
func (s *x11Screen) PixFmt() string    { return s.pixfmt }

func (s *x11Screen) frameSize() int { return s.rect.Dx() * s.rect.Dy() * 4 }

func (s *x11Screen) newSegment() (*segment, error) {
	size := s.frameSize()
	id, err := unix.SysvShmGet(unix.IPC_PRIVATE, size, unix.IPC_CREAT|0o600)
	if err != nil {
		return nil, fmt.Errorf("shmget %d bytes: %w", size, err)
	}
	mem, err := unix.SysvShmAttach(id, 0, 0)
	if err != nil {
		_, _ = unix.SysvShmCtl(id, unix.IPC_RMID, nil)
		return nil, fmt.Errorf("shmat: %w", err)
	}
	xid, err := shm.NewSegId(s.conn)
	if err == nil {
		err = shm.AttachChecked(s.conn, xid, uint32(id), false).Check()
	}
	// Marked for removal now that both sides are attached, so the kernel
	// frees it even if we crash.
	_, _ = unix.SysvShmCtl(id, unix.IPC_RMID, nil)
	if err != nil {
		_ = unix.SysvShmDetach(mem)
		return nil, fmt.Errorf("attach shared memory to the X server: %w", err)
	}
	return &segment{id: id, seg: xid, mem: mem[:size]}, nil
}

func (s *x11Screen) NewBuffer() ([]byte, error) {
	if !s.useShm {
		return make([]byte, s.frameSize()), nil
	}
	seg, err := s.newSegment()
	if err != nil {
		return nil, err
	}
	s.segs[&seg.mem[0]] = seg
	return seg.mem, nil
}

func (s *x11Screen) Grab(buf []byte) error {
	if len(buf) != s.frameSize() {
		return fmt.Errorf("grab: buffer has %d bytes, a frame has %d", len(buf), s.frameSize())
	}
	r := s.rect
	switch seg := s.segs[&buf[0]]; {
	case seg != nil:
		if err := s.shmGrab(seg); err != nil {
			return err
		}
	case s.useShm:
		if err := s.shmGrab(s.scratch); err != nil {
			return err
		}
		copy(buf, s.scratch.mem)
	default:
		rep, err := xproto.GetImage(s.conn, xproto.ImageFormatZPixmap, xproto.Drawable(s.root),
			int16(r.Min.X), int16(r.Min.Y), uint16(r.Dx()), uint16(r.Dy()), 0xffffffff).Reply()
		if err != nil {
			return fmt.Errorf("grab the screen: %w", err)
		}
		copy(buf, rep.Data)
	}
	if s.cursor {
		s.drawCursor(buf)
	}
	return nil
}

func (s *x11Screen) shmGrab(seg *segment) error {
	r := s.rect
	_, err := shm.GetImage(s.conn, xproto.Drawable(s.root), int16(r.Min.X), int16(r.Min.Y),
		uint16(r.Dx()), uint16(r.Dy()), 0xffffffff, xproto.ImageFormatZPixmap, seg.seg, 0).Reply()
	if err != nil {
		return fmt.Errorf("grab the screen: %w", err)
	}
	return nil
}

// drawCursor blends the pointer image (premultiplied ARGB) over the frame:
// X leaves the cursor out of screen contents, and a recording without it
// is hard to follow.
func (s *x11Screen) drawCursor(buf []byte) {
	rep, err := xfixes.GetCursorImage(s.conn).Reply()
	if err != nil || rep.Width == 0 {
		return
	}
	w, h := s.rect.Dx(), s.rect.Dy()
	x0 := int(rep.X) - int(rep.Xhot) - s.rect.Min.X
	y0 := int(rep.Y) - int(rep.Yhot) - s.rect.Min.Y
	for cy := 0; cy < int(rep.Height); cy++ {
		y := y0 + cy
		if y < 0 || y >= h {
			continue
		}
		for cx := 0; cx < int(rep.Width); cx++ {
			x := x0 + cx
			if x < 0 || x >= w {
				continue
			}
			p := rep.CursorImage[cy*int(rep.Width)+cx]
			a := p >> 24
			if a == 0 {
				continue
			}
			d := buf[(y*w+x)*4:]
			d = d[:4:4]
			inv := 255 - a
			cr, cg, cb := (p>>16)&0xff, (p>>8)&0xff, p&0xff
			d[s.rOff] = byte(cr + (uint32(d[s.rOff])*inv+127)/255)
			d[1] = byte(cg + (uint32(d[1])*inv+127)/255)
			d[2-s.rOff] = byte(cb + (uint32(d[2-s.rOff])*inv+127)/255)
		}
	}
}

func (s *x11Screen) Close() error {
	all := make([]*segment, 0, len(s.segs)+1)
	for _, seg := range s.segs {
		all = append(all, seg)
	}
	if s.scratch != nil {
		all = append(all, s.scratch)
	}
	for _, seg := range all {
		_ = shm.DetachChecked(s.conn, seg.seg).Check()
		_ = unix.SysvShmDetach(seg.mem)
	}
	s.segs, s.scratch = nil, nil
	s.conn.Close()
	return nil
}
