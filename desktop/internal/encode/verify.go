package encode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrIncomplete means a segment file is cut short or malformed.
var ErrIncomplete = errors.New("segment is incomplete")

// VerifyFragment checks that an fMP4 file is whole: its top-level boxes
// fill the file exactly, and it has the boxes an init segment (ftyp, moov)
// or a media segment (moof, mdat last) must have.
//
// ffmpeg's HLS muxer ignores write errors: on a full disk it exits 0 and
// renames a truncated segment into place, so the file's presence proves
// nothing. Nothing is handed to the uploader without this check.
func VerifyFragment(path string, init bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	var off int64
	seen := map[string]bool{}
	last := ""
	hdr := make([]byte, 16)
	for off < size {
		if _, err := f.ReadAt(hdr[:8], off); err != nil {
			return fmt.Errorf("%w: %s: box header at %d: %v", ErrIncomplete, path, off, err)
		}
		boxSize := int64(binary.BigEndian.Uint32(hdr[:4]))
		typ := string(hdr[4:8])
		switch boxSize {
		case 0: // to end of file: fine for a file that is meant to end here
			boxSize = size - off
		case 1:
			if _, err := f.ReadAt(hdr[8:16], off+8); err != nil && err != io.EOF {
				return fmt.Errorf("%w: %s: %v", ErrIncomplete, path, err)
			}
			boxSize = int64(binary.BigEndian.Uint64(hdr[8:16]))
		}
		if boxSize < 8 || off+boxSize > size {
			return fmt.Errorf("%w: %s: %q box of %d bytes at %d runs past the end (%d bytes)", ErrIncomplete, path, typ, boxSize, off, size)
		}
		seen[typ] = true
		last = typ
		off += boxSize
	}
	if init {
		if !seen["ftyp"] || !seen["moov"] {
			return fmt.Errorf("%w: %s has no ftyp/moov", ErrIncomplete, path)
		}
		return nil
	}
	if !seen["moof"] || last != "mdat" {
		return fmt.Errorf("%w: %s has no moof, or does not end with mdat", ErrIncomplete, path)
	}
	return nil
}
