//go:build cgo

package audio

// #include <stdlib.h>
import "C"

import (
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/gen2brain/malgo"
)

// Context is a connection to the OS sound system. It is safe for
// concurrent use; close it after the sources opened from it.
type Context struct {
	mc  *malgo.AllocatedContext
	log *slog.Logger
	mu  sync.Mutex
}

// NewContext connects to the sound system (PulseAudio/PipeWire or ALSA on
// Linux, WASAPI on Windows, Core Audio on macOS).
func NewContext(log *slog.Logger) (*Context, error) {
	if log == nil {
		log = slog.Default()
	}
	mc, err := malgo.InitContext(backends(), malgo.ContextConfig{}, func(m string) {
		log.Debug("miniaudio", "msg", strings.TrimSpace(m))
	})
	if err != nil {
		return nil, fmt.Errorf("connect to the sound system: %w", err)
	}
	return &Context{mc: mc, log: log}, nil
}

// backends leaves out miniaudio's null backend, which would "record"
// silence without complaint.
func backends() []malgo.Backend {
	switch runtime.GOOS {
	case "windows":
		return []malgo.Backend{malgo.BackendWasapi}
	case "darwin":
		return []malgo.Backend{malgo.BackendCoreaudio}
	case "linux":
		return []malgo.Backend{malgo.BackendPulseaudio, malgo.BackendAlsa, malgo.BackendJack}
	default:
		return []malgo.Backend{malgo.BackendSndio, malgo.BackendAudio4, malgo.BackendOss, malgo.BackendPulseaudio}
	}
}

// Close disconnects. Sources opened from c must be closed first.
func (c *Context) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mc != nil {
		_ = c.mc.Uninit()
		c.mc.Free()
		c.mc = nil
	}
}

type rawDevice struct {
	Device
	id malgo.DeviceID
}

const monitorSuffix = ".monitor"

func (c *Context) list() (mics, system []rawDevice, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	capt, err := c.mc.Devices(malgo.Capture)
	if err != nil {
		return nil, nil, fmt.Errorf("list capture devices: %w", err)
	}
	play, err := c.mc.Devices(malgo.Playback)
	if err != nil {
		return nil, nil, fmt.Errorf("list playback devices: %w", err)
	}
	conv := func(d malgo.DeviceInfo) rawDevice {
		return rawDevice{Device: Device{ID: idString(d.ID[:]), Name: d.Name(), Default: d.IsDefault != 0}, id: d.ID}
	}
	switch runtime.GOOS {
	case "windows":
		for _, d := range capt {
			mics = append(mics, conv(d))
		}
		for _, d := range play {
			system = append(system, conv(d))
		}
	case "darwin":
		for _, d := range capt {
			mics = append(mics, conv(d))
		}
	default:
		// PulseAudio lists sink monitors among the sources.
		defSink := ""
		for _, d := range play {
			if d.IsDefault != 0 {
				defSink = idString(d.ID[:])
			}
		}
		for _, d := range capt {
			r := conv(d)
			if strings.HasSuffix(r.ID, monitorSuffix) {
				r.Default = defSink != "" && r.ID == defSink+monitorSuffix
				system = append(system, r)
			} else {
				mics = append(mics, r)
			}
		}
	}
	// With no real microphone PulseAudio makes a monitor the default
	// source; that is system audio, not a microphone, so the first real
	// microphone stands in.
	if len(mics) > 0 && !anyDefault(mics) {
		mics[0].Default = true
	}
	if len(system) > 0 && !anyDefault(system) {
		system[0].Default = true
	}
	return mics, system, nil
}

func anyDefault(ds []rawDevice) bool {
	for _, d := range ds {
		if d.Default {
			return true
		}
	}
	return false
}

// Devices lists microphones and system-audio sources.
func (c *Context) Devices() (Devices, error) {
	mics, system, err := c.list()
	if err != nil {
		return Devices{}, err
	}
	out := Devices{Microphones: []Device{}, System: []Device{}}
	for _, d := range mics {
		out.Microphones = append(out.Microphones, d.Device)
	}
	for _, d := range system {
		out.System = append(out.System, d.Device)
	}
	return out, nil
}

// Find resolves id ("default" or "" for the default device) to a device of
// the given kind. An explicit microphone id may also name a system-audio
// source (except on Windows, where those are playback devices).
func (c *Context) Find(kind Kind, id string) (Device, error) {
	d, err := c.find(kind, id)
	return d.Device, err
}

func (c *Context) find(kind Kind, id string) (rawDevice, error) {
	mics, system, err := c.list()
	if err != nil {
		return rawDevice{}, err
	}
	ds := mics
	if kind == System {
		ds = system
		if len(ds) == 0 {
			return rawDevice{}, fmt.Errorf("%w: %s", ErrNoDevice, noSystemAudio())
		}
	}
	for _, d := range ds {
		if (id == "" || id == "default") && d.Default || d.ID == id {
			return d, nil
		}
	}
	// An explicit id may name any capture source: recording a monitor as
	// the "microphone" is how one mixes two outputs, and on macOS a
	// loopback device is the only way to get system sound.
	if kind == Microphone && runtime.GOOS != "windows" {
		for _, d := range system {
			if d.ID == id {
				return d, nil
			}
		}
	}
	if id == "" || id == "default" {
		if len(ds) == 0 {
			return rawDevice{}, fmt.Errorf("%w: there is no %s", ErrNoDevice, kind)
		}
		return rawDevice{}, fmt.Errorf("%w: no %s is set as the default; pick one by id (see `framecast devices`)", ErrNoDevice, kind)
	}
	return rawDevice{}, fmt.Errorf("%w: %s %q not found; `framecast devices` lists the ids", ErrNoDevice, kind, id)
}

// Source captures one device. Chunks arrive on a thread of the sound
// system, one at a time and in order.
type Source struct {
	dev    *malgo.Device
	device Device
	kind   Kind

	mu      sync.Mutex
	last    time.Time // arrival of the latest chunk
	stopped bool
}

// Open prepares a device for capture; nothing is delivered before Start.
// onChunk must return quickly (it runs on the audio thread); onStop is
// called if the device stops by itself (unplugged, server gone).
func (c *Context) Open(kind Kind, id string, onChunk func(Chunk), onStop func()) (*Source, error) {
	d, err := c.find(kind, id)
	if err != nil {
		return nil, err
	}
	typ := malgo.Capture
	if kind == System && runtime.GOOS == "windows" {
		typ = malgo.Loopback
	}
	cfg := malgo.DefaultDeviceConfig(typ)
	cfg.Capture.Format = malgo.FormatF32
	cfg.Capture.Channels = Channels
	cfg.SampleRate = Rate
	cfg.PeriodSizeInMilliseconds = 100
	cfg.Periods = 4
	cfg.Pulse.StreamNameCapture = "Framecast " + kind.String()
	idp := C.CBytes(d.id[:])
	defer C.free(idp)
	cfg.Capture.DeviceID = idp

	s := &Source{device: d.Device, kind: kind}
	st := newStamper(Rate, 2*time.Second)
	cb := malgo.DeviceCallbacks{
		Data: func(_, in []byte, frames uint32) {
			now := time.Now()
			n := int(frames)
			if n == 0 || len(in) < n*Channels*4 {
				return
			}
			samples := unsafe.Slice((*float32)(unsafe.Pointer(&in[0])), n*Channels)
			var peak float32
			for _, v := range samples {
				if v < 0 {
					v = -v
				}
				if v > peak {
					peak = v
				}
			}
			s.mu.Lock()
			s.last = now
			s.mu.Unlock()
			onChunk(Chunk{Samples: samples, Start: st.stamp(now, n), Peak: peak})
		},
		Stop: func() {
			s.mu.Lock()
			was := s.stopped
			s.mu.Unlock()
			if !was && onStop != nil {
				onStop()
			}
		},
	}
	c.mu.Lock()
	dev, err := malgo.InitDevice(c.mc.Context, cfg, cb)
	c.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("open %s %q: %w", kind, d.Name, err)
	}
	s.dev = dev
	return s, nil
}

// Device is the device this source records.
func (s *Source) Device() Device { return s.device }

// Start begins delivering chunks.
func (s *Source) Start() error {
	if err := s.dev.Start(); err != nil {
		return fmt.Errorf("start %s %q: %w", s.kind, s.device.Name, err)
	}
	return nil
}

// LastChunk is when the latest chunk arrived (zero before the first).
func (s *Source) LastChunk() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// Close stops the device; no chunk is delivered after Close returns.
// Closing twice is harmless.
func (s *Source) Close() {
	s.mu.Lock()
	was := s.stopped
	s.stopped = true
	s.mu.Unlock()
	if !was {
		s.dev.Uninit()
	}
}
