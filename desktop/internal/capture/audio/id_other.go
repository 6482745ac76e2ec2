//go:build !windows

package audio

// idString reads a PulseAudio source name, ALSA device name or Core Audio
// UID: all NUL-terminated byte strings.
func idString(id []byte) string {
	for i, b := range id {
		if b == 0 {
			return string(id[:i])
		}
	}
	return string(id[:])
}
