package seal

import (
	"bytes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
)

var errClosed = errors.New("seal: write after Close")

// Writer seals a stream of plaintext into w. It holds at most one chunk, so
// segments of any size stream through in constant memory. Close must be
// called to write the final chunk; without it the sealed data is truncated
// and will not open.
type Writer struct {
	w      io.Writer
	aead   cipher.AEAD
	header [HeaderSize]byte
	buf    []byte // plaintext of the chunk being filled
	out    []byte // ciphertext of the chunk being written
	nonce  [nonceSize]byte
	chunk  uint64
	err    error // sticky: after a failed write the output is unusable
}

// NewWriter writes the header of segment index segment of recording rec to
// w and returns a Writer that seals what is written to it under key.
func NewWriter(w io.Writer, key Key, rec RecordingID, segment uint32) (*Writer, error) {
	var salt [saltSize]byte
	rand.Read(salt[:])
	return newWriter(w, key, rec, segment, salt)
}

// newWriter takes the salt from the caller so the test vectors are fixed.
func newWriter(w io.Writer, key Key, rec RecordingID, segment uint32, salt [saltSize]byte) (*Writer, error) {
	h := Header{Version: Version, ChunkSize: ChunkSize, RecordingID: rec, Segment: segment, Salt: salt}
	s := &Writer{
		w:      w,
		header: h.marshal(),
		buf:    make([]byte, 0, ChunkSize),
		out:    make([]byte, 0, sealedSize),
	}
	var err error
	if s.aead, err = segmentAEAD(key, &s.header); err != nil {
		return nil, err
	}
	if _, err := w.Write(s.header[:]); err != nil {
		return nil, fmt.Errorf("seal: write header: %w", err)
	}
	return s, nil
}

// Write seals p. A chunk is written only once it is known not to be the
// last one, that is when the next byte arrives, so Close can flag it.
func (s *Writer) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n := 0
	for len(p) > 0 {
		if len(s.buf) == ChunkSize {
			if err := s.seal(s.buf, false); err != nil {
				return n, err
			}
			s.buf = s.buf[:0]
		}
		if len(s.buf) == 0 && len(p) > ChunkSize {
			// A whole chunk with more data behind it: seal straight from p.
			if err := s.seal(p[:ChunkSize], false); err != nil {
				return n, err
			}
			n += ChunkSize
			p = p[ChunkSize:]
			continue
		}
		k := copy(s.buf[len(s.buf):ChunkSize], p)
		s.buf = s.buf[:len(s.buf)+k]
		n += k
		p = p[k:]
	}
	return n, nil
}

// Close writes the final chunk. It does not close the underlying writer.
func (s *Writer) Close() error {
	if s.err != nil {
		if s.err == errClosed {
			return nil
		}
		return s.err
	}
	if err := s.seal(s.buf, true); err != nil {
		return err
	}
	s.buf = s.buf[:0]
	s.err = errClosed
	return nil
}

func (s *Writer) seal(plain []byte, last bool) error {
	s.out = s.aead.Seal(s.out[:0], chunkNonce(&s.nonce, s.chunk, last), plain, s.header[:])
	if _, err := s.w.Write(s.out); err != nil {
		s.err = fmt.Errorf("seal: write chunk %d: %w", s.chunk, err)
		return s.err
	}
	s.chunk++
	return nil
}

// Seal is the sealed form of a whole segment held in memory, what a
// Writer over a buffer would produce.
func Seal(plain []byte, key Key, rec RecordingID, segment uint32) ([]byte, error) {
	buf := bytes.NewBuffer(make([]byte, 0, SealedSize(int64(len(plain)))))
	w, err := NewWriter(buf, key, rec, segment)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(plain); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
