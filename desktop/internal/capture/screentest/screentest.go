//go:build linux

// Package screentest draws known content on an X display for the capture
// tests and the recording benchmark: solid windows, moving "desktop work",
// and a window that lights up when it hears a beep, so audio/video sync can
// be measured from the recording alone.
package screentest

import (
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// Window is an undecorated X window at a fixed place on the screen.
type Window struct {
	mu   sync.Mutex
	conn *xgb.Conn
	win  xproto.Window
	gc   xproto.Gcontext
	font xproto.Font
	rect image.Rectangle
}

// NewWindow opens a black window covering r on X display name (":5").
func NewWindow(name string, r image.Rectangle) (*Window, error) {
	c, err := xgb.NewConnDisplay(name)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", name, err)
	}
	w := &Window{conn: c, rect: r}
	scr := xproto.Setup(c).DefaultScreen(c)
	if w.win, err = xproto.NewWindowId(c); err != nil {
		c.Close()
		return nil, err
	}
	// Override-redirect: no window manager may move it; the tests rely
	// on exact coordinates.
	err = xproto.CreateWindowChecked(c, scr.RootDepth, w.win, scr.Root,
		int16(r.Min.X), int16(r.Min.Y), uint16(r.Dx()), uint16(r.Dy()), 0,
		xproto.WindowClassInputOutput, scr.RootVisual,
		xproto.CwBackPixel|xproto.CwOverrideRedirect, []uint32{0, 1}).Check()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("create window: %w", err)
	}
	if w.gc, err = xproto.NewGcontextId(c); err != nil {
		c.Close()
		return nil, err
	}
	if w.font, err = xproto.NewFontId(c); err != nil {
		c.Close()
		return nil, err
	}
	// "fixed" is built into every X server, Xvfb included.
	if err := xproto.OpenFontChecked(c, w.font, uint16(len("fixed")), "fixed").Check(); err != nil {
		c.Close()
		return nil, fmt.Errorf("open font: %w", err)
	}
	if err := xproto.CreateGCChecked(c, w.gc, xproto.Drawable(w.win), xproto.GcForeground|xproto.GcFont, []uint32{0, uint32(w.font)}).Check(); err != nil {
		c.Close()
		return nil, fmt.Errorf("create gc: %w", err)
	}
	if err := xproto.MapWindowChecked(c, w.win).Check(); err != nil {
		c.Close()
		return nil, fmt.Errorf("map window: %w", err)
	}
	return w, w.Fill(color.RGBA{A: 255})
}

func pixel(c color.RGBA) uint32 { return uint32(c.R)<<16 | uint32(c.G)<<8 | uint32(c.B) }

// Fill paints the whole window and waits until the server has done it.
func (w *Window) Fill(c color.RGBA) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.fill(c, image.Rectangle{Max: w.rect.Size()}, true)
}

func (w *Window) fill(c color.RGBA, r image.Rectangle, sync bool) error {
	xproto.ChangeGC(w.conn, w.gc, xproto.GcForeground, []uint32{pixel(c)})
	cookie := xproto.PolyFillRectangleChecked(w.conn, xproto.Drawable(w.win), w.gc,
		[]xproto.Rectangle{{X: int16(r.Min.X), Y: int16(r.Min.Y), Width: uint16(r.Dx()), Height: uint16(r.Dy())}})
	if sync {
		return cookie.Check()
	}
	return nil
}

// Close removes the window.
func (w *Window) Close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.conn.Close()
}

// Animate draws moving content that looks like someone working: colored
// bars, boxes sliding across, and scrolling text, hz times a second until
// stop is called. The whole window changes every frame, which is the hard
// case for an encoder.
func (w *Window) Animate(hz int) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Second / time.Duration(hz))
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			case <-t.C:
			}
			w.mu.Lock()
			w.drawFrame(i)
			_, err := xproto.GetInputFocus(w.conn).Reply() // a round trip: don't queue frames up
			w.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return func() { close(done); <-finished }
}

var palette = []color.RGBA{
	{0x2e, 0x34, 0x40, 255}, {0x3b, 0x42, 0x52, 255}, {0x88, 0xc0, 0xd0, 255}, {0xbf, 0x61, 0x6a, 255},
	{0xa3, 0xbe, 0x8c, 255}, {0xeb, 0xcb, 0x8b, 255}, {0xb4, 0x8e, 0xad, 255}, {0xd8, 0xde, 0xe9, 255},
}

const lorem = "func (r *Recorder) Stop(ctx context.Context) (Result, error) { // segments upload while recording; "

func (w *Window) drawFrame(i int) {
	W, H := w.rect.Dx(), w.rect.Dy()
	// Background bands, shifting slowly.
	bands := 12
	for b := 0; b < bands; b++ {
		y0 := b * H / bands
		w.fill(palette[(b+i/30)%2], image.Rect(0, y0, W, (b+1)*H/bands), false)
	}
	// Scrolling text, like an editor or a terminal.
	xproto.ChangeGC(w.conn, w.gc, xproto.GcForeground|xproto.GcBackground, []uint32{pixel(palette[7]), pixel(palette[0])})
	lineH := 14
	for y := -(i * 2 % lineH); y < H; y += lineH {
		line := (y + i*2) / lineH
		s := lorem[line%len(lorem):] + lorem[:line%len(lorem)]
		for x := 8; x < W/2; x += len(s) * 6 {
			xproto.ImageText8(w.conn, byte(len(s)), xproto.Drawable(w.win), w.gc, int16(x), int16(y+lineH), s)
		}
	}
	// Boxes sliding across the right half.
	for k := 0; k < 16; k++ {
		x := W/2 + (i*(3+k)*2+k*97)%(W/2)
		y := (k*H/16 + i*(k%3)) % H
		w.fill(palette[2+k%6], image.Rect(x, y, x+120, y+H/20), false)
	}
}

// Flasher is a window that ramps from black to white when it hears a beep
// on a PulseAudio source: gray level = 1.5 × milliseconds since the beep's
// onset, so any single frame of a recording tells when the beep began, to
// about a millisecond, without the 33 ms uncertainty of a plain flash.
type Flasher struct {
	win   *Window
	cmd   *exec.Cmd
	mu    sync.Mutex
	beeps []time.Time
	done  chan struct{}
	wg    sync.WaitGroup
}

// RampPerMs is how many gray levels the Flasher adds per millisecond.
const RampPerMs = 1.5

// NewFlasher opens the window at r on display name and listens to source
// (e.g. a null sink's monitor) of the PulseAudio server in env.
func NewFlasher(name string, r image.Rectangle, env []string, source string) (*Flasher, error) {
	win, err := NewWindow(name, r)
	if err != nil {
		return nil, err
	}
	// A 5 ms fragment: the flasher hears the beep within a few ms of the
	// server rendering it.
	cmd := exec.Command("parec", "--device="+source, "--latency-msec=5", "--raw",
		"--format=s16le", "--rate=48000", "--channels=1")
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		win.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		win.Close()
		return nil, fmt.Errorf("start parec: %w", err)
	}
	f := &Flasher{win: win, cmd: cmd, done: make(chan struct{})}
	onsets := make(chan time.Time, 16)
	f.wg.Add(2)
	go f.listen(out, onsets)
	go f.draw(onsets)
	return f, nil
}

func (f *Flasher) listen(r io.Reader, onsets chan<- time.Time) {
	defer f.wg.Done()
	defer close(onsets)
	buf := make([]byte, 4096)
	var last time.Time
	for {
		n, err := r.Read(buf)
		if err != nil {
			return
		}
		now := time.Now()
		n &^= 1
		for i := 0; i < n; i += 2 {
			v := int16(binary.LittleEndian.Uint16(buf[i:]))
			if v > 3000 || v < -3000 {
				// The last sample of the read arrived no later than now.
				on := now.Add(-time.Duration(float64(n-i) / 2 / 48000 * float64(time.Second)))
				if on.Sub(last) > 400*time.Millisecond {
					last = on
					f.mu.Lock()
					f.beeps = append(f.beeps, on)
					f.mu.Unlock()
					onsets <- on
				}
				break
			}
		}
	}
}

func (f *Flasher) draw(onsets <-chan time.Time) {
	defer f.wg.Done()
	for on := range onsets {
		for {
			ms := float64(time.Since(on)) / float64(time.Millisecond)
			if ms > 300 {
				break
			}
			g := ms * RampPerMs
			if g > 255 {
				g = 255
			}
			v := uint8(g + 0.5)
			f.win.mu.Lock()
			err := f.win.fill(color.RGBA{v, v, v, 255}, image.Rectangle{Max: f.win.rect.Size()}, true)
			f.win.mu.Unlock()
			if err != nil {
				return
			}
			time.Sleep(time.Millisecond)
		}
		_ = f.win.Fill(color.RGBA{A: 255})
	}
}

// Beeps returns when the flasher heard each beep begin.
func (f *Flasher) Beeps() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.beeps...)
}

// Close stops listening and removes the window.
func (f *Flasher) Close() {
	_ = f.cmd.Process.Kill()
	_ = f.cmd.Wait()
	f.wg.Wait()
	f.win.Close()
}
