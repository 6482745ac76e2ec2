package seal

import (
	"crypto/cipher"
	"fmt"
	"io"
)

// Reader opens a sealed segment as it streams in. Every byte it returns has
// been authenticated; a chunk is released only whole and verified. It holds
// at most one chunk in memory.
type Reader struct {
	r      io.Reader
	aead   cipher.AEAD
	header [HeaderSize]byte
	in     []byte // one sealed chunk plus one byte of look-ahead
	have   int    // bytes of in that are filled
	plain  []byte // opened bytes not yet returned
	out    []byte // backing store of plain
	nonce  [nonceSize]byte
	chunk  uint64
	done   bool  // the final chunk has been opened
	err    error // sticky
}

// NewReader reads the header from r and checks that it is segment index
// segment of recording rec: a sealed segment moved to another slot is
// refused here (ErrMisplaced), before any chunk is opened.
func NewReader(r io.Reader, key Key, rec RecordingID, segment uint32) (*Reader, error) {
	h, err := ReadHeader(r)
	if err != nil {
		return nil, err
	}
	if h.RecordingID != rec || h.Segment != segment {
		return nil, fmt.Errorf("header names recording %s segment %d, want recording %s segment %d: %w",
			h.RecordingID, h.Segment, rec, segment, ErrMisplaced)
	}
	s := &Reader{
		r:      r,
		header: h.marshal(),
		in:     make([]byte, sealedSize+1),
		out:    make([]byte, 0, ChunkSize),
	}
	if s.aead, err = segmentAEAD(key, &s.header); err != nil {
		return nil, err
	}
	return s, nil
}

// Header returns the segment's header.
func (s *Reader) Header() Header {
	h, _ := ParseHeader(s.header[:]) // was checked by NewReader
	return h
}

// Read returns opened plaintext. It returns io.EOF only after the final
// chunk has been authenticated, so a clean EOF means the whole segment is
// intact.
func (s *Reader) Read(p []byte) (int, error) {
	for len(s.plain) == 0 {
		if s.err != nil {
			return 0, s.err
		}
		if s.done {
			return 0, io.EOF
		}
		if err := s.next(); err != nil {
			s.err = err
		}
	}
	n := copy(p, s.plain)
	s.plain = s.plain[n:]
	return n, nil
}

// next reads and opens one chunk. Whether it is the last one is known from
// the look-ahead byte: a full chunk followed by more data is not last.
func (s *Reader) next() error {
	n, err := io.ReadFull(s.r, s.in[s.have:])
	s.have += n
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return fmt.Errorf("seal: read chunk %d: %w", s.chunk, err)
	}
	last := s.have <= sealedSize
	size := min(s.have, sealedSize)
	if size < TagSize {
		return fmt.Errorf("chunk %d is %d bytes, shorter than its tag: %w", s.chunk, size, ErrTruncated)
	}
	sealed := s.in[:size]
	plain, err := s.aead.Open(s.out[:0], chunkNonce(&s.nonce, s.chunk, last), sealed, s.header[:])
	if err != nil {
		return s.diagnose(sealed, last)
	}
	s.plain = plain
	s.chunk++
	if last {
		s.done = true
		s.have = 0
		return nil
	}
	s.in[0] = s.in[sealedSize]
	s.have = 1
	return nil
}

// diagnose runs only on failure: opening the chunk with the last flag
// flipped tells truncation and appended data apart from other tampering,
// so the error says what happened.
func (s *Reader) diagnose(sealed []byte, last bool) error {
	if len(sealed) == sealedSize {
		var scratch [ChunkSize]byte
		if _, err := s.aead.Open(scratch[:0], chunkNonce(&s.nonce, s.chunk, !last), sealed, s.header[:]); err == nil {
			if last {
				return fmt.Errorf("data ends after chunk %d, which is not the final chunk: %w", s.chunk, ErrTruncated)
			}
			return fmt.Errorf("data follows the final chunk %d: %w", s.chunk, ErrTampered)
		}
	}
	return fmt.Errorf("chunk %d: %w", s.chunk, ErrTampered)
}

// Verify reads a whole sealed segment and reports whether it opens, without
// keeping the plaintext.
func Verify(r io.Reader, key Key, rec RecordingID, segment uint32) (plain int64, err error) {
	sr, err := NewReader(r, key, rec, segment)
	if err != nil {
		return 0, err
	}
	return io.Copy(io.Discard, sr)
}
