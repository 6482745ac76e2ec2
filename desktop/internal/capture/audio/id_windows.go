package audio

import (
	"unicode/utf16"
)

// idString reads a WASAPI device ID, a NUL-terminated UTF-16 string.
func idString(id []byte) string {
	u := make([]uint16, 0, len(id)/2)
	for i := 0; i+1 < len(id); i += 2 {
		c := uint16(id[i]) | uint16(id[i+1])<<8
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u))
}
