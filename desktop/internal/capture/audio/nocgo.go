//go:build !cgo

package audio

import (
	"errors"
	"log/slog"
	"time"
)

// Without cgo there is no miniaudio: Framecast records without sound.
var errNoCgo = errors.New("this build of Framecast has no sound support (built without cgo)")

// Context is a connection to the OS sound system.
type Context struct{}

// NewContext fails: this build has no sound support.
func NewContext(*slog.Logger) (*Context, error) { return nil, errNoCgo }

// Close does nothing.
func (c *Context) Close() {}

// Devices fails: this build has no sound support.
func (c *Context) Devices() (Devices, error) { return Devices{}, errNoCgo }

// Find fails: this build has no sound support.
func (c *Context) Find(Kind, string) (Device, error) { return Device{}, errNoCgo }

// Open fails: this build has no sound support.
func (c *Context) Open(Kind, string, func(Chunk), func()) (*Source, error) { return nil, errNoCgo }

// Source captures one device.
type Source struct{}

func (s *Source) Device() Device       { return Device{} }
func (s *Source) Start() error         { return errNoCgo }
func (s *Source) LastChunk() time.Time { return time.Time{} }
func (s *Source) Close()               {}
