// Package capture grabs the screen: it lists the displays and opens a Screen
// that copies one rectangle of the desktop into frame buffers, fast enough
// for 1080p at 30 fps with CPU to spare for the encoder.
//
// Why not kbinani/screenshot for the live loop: on X11 it opens a new X
// connection and a new shared-memory segment for every frame; we measured at
// most 24 fps at 1080p and 28 ms of CPU per frame under Xvfb. The X11 Screen
// here keeps one connection and a few MIT-SHM segments for the whole
// recording and lets the X server copy straight into them (about 0.2 ms of
// our CPU per frame, plus the server's memcpy). It falls back to plain
// GetImage when shared memory is unavailable (a remote X server).
//
// Windows and macOS use kbinani/screenshot (GDI BitBlt, CoreGraphics) behind
// the same interface; they allocate per frame and are slower. Faster native
// paths (DXGI desktop duplication, ScreenCaptureKit) can replace them
// without touching callers. Wayland sessions are recorded only through
// XWayland, which shows X clients alone; a PipeWire portal capturer would be
// the Wayland implementation.
//
// Pacing (when to grab) is not this package's job: the recorder owns the
// clock, so frames and audio share one timeline.
package capture
