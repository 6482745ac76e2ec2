package testenv

import "testing"

// Exclusive is a no-op on Windows: the recording tests that need it run
// on Linux (Xvfb, PulseAudio).
func Exclusive(t testing.TB, name string) {}
