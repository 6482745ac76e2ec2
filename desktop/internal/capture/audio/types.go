package audio

import (
	"errors"
	"math"
	"runtime"
	"time"
)

// Rate and Channels describe every Chunk: 48 kHz, stereo, float32.
const (
	Rate     = 48000
	Channels = 2
)

// Kind tells a microphone from a system-audio source.
type Kind int

const (
	Microphone Kind = iota
	System
)

func (k Kind) String() string {
	if k == System {
		return "system audio"
	}
	return "microphone"
}

// Device is one sound source the user can pick.
type Device struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Default bool   `json:"default"`
}

// Devices are the sources present now.
type Devices struct {
	Microphones []Device `json:"microphones"`
	System      []Device `json:"systemAudio"`
}

// ErrNoDevice means the requested source does not exist.
var ErrNoDevice = errors.New("no such audio device")

// Chunk is a block of captured sound.
type Chunk struct {
	// Samples are interleaved stereo frames at 48 kHz. They are valid
	// only during the callback: copy what you keep.
	Samples []float32
	// Start is the estimated capture time of the first frame.
	Start time.Time
	// Peak is the largest absolute sample value (0..1).
	Peak float32
}

// Frames is the number of stereo frames in the chunk.
func (c Chunk) Frames() int { return len(c.Samples) / Channels }

func noSystemAudio() string {
	switch runtime.GOOS {
	case "darwin":
		return "macOS does not let apps record system audio directly; install a loopback device such as BlackHole and choose it as the microphone"
	case "windows":
		return "there is no playback device to record system audio from"
	default:
		return "no sink monitor to record system audio from; system audio needs PulseAudio or PipeWire (pipewire-pulse)"
	}
}

// DBFS converts a peak (0..1) to decibels relative to full scale, with
// -90 standing for silence so the value stays a finite number in JSON.
func DBFS(peak float32) float64 {
	if peak <= 0.0000316 {
		return -90
	}
	return math.Max(-90, 20*math.Log10(float64(peak)))
}
