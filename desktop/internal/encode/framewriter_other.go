//go:build !linux

package encode

import "os"

func writeFrame(f *os.File, b []byte, _ *bool) error {
	_, err := f.Write(b)
	return err
}
