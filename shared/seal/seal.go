package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
)

const (
	// Version is the format version this package writes.
	Version = 1
	// ChunkSize is the plaintext size of every chunk but the last.
	ChunkSize = 64 << 10
	// TagSize is the GCM tag that follows every chunk's ciphertext.
	TagSize = 16
	// HeaderSize is the length of the header of a sealed segment.
	HeaderSize = 61

	magic      = "FCSG"
	saltSize   = 32
	nonceSize  = 12
	keyInfo    = "framecast seal v1 segment key"
	sealedSize = ChunkSize + TagSize
)

var (
	// ErrFormat means the bytes are not a sealed segment or wrapped key of a
	// known shape.
	ErrFormat = errors.New("seal: not a sealed segment")
	// ErrVersion means the data was sealed by a newer (or unknown) format.
	ErrVersion = errors.New("seal: unsupported format version")
	// ErrMisplaced means a valid-looking segment belongs to another
	// recording or another index than the one asked for.
	ErrMisplaced = errors.New("seal: segment belongs to another recording or index")
	// ErrTruncated means the sealed data ends before its final chunk.
	ErrTruncated = errors.New("seal: sealed data is truncated")
	// ErrTampered means authentication failed: the bytes were changed,
	// reordered or extended, or the key is wrong.
	ErrTampered = errors.New("seal: authentication failed (tampered data or wrong key)")
)

// Key is a 256-bit AES key. It refuses to be printed, logged or marshalled,
// so a key cannot reach a log or a JSON body by accident; use k[:] where the
// raw bytes are really meant.
type Key [32]byte

// NewKey returns a fresh random key.
func NewKey() Key {
	var k Key
	rand.Read(k[:]) // crypto/rand.Read never fails (it crashes the program instead)
	return k
}

// Format keeps every fmt verb, %x and %v included, from printing the key.
func (Key) Format(f fmt.State, _ rune) { io.WriteString(f, "seal.Key(redacted)") }

// String keeps the key out of string conversions.
func (Key) String() string { return "seal.Key(redacted)" }

// GoString keeps the key out of %#v.
func (Key) GoString() string { return "seal.Key(redacted)" }

// LogValue keeps the key out of slog output.
func (Key) LogValue() slog.Value { return slog.StringValue("redacted") }

// MarshalText fails so that encoding/json and friends cannot write a key
// where a caller did not mean to; a redacted value would silently lose it.
func (Key) MarshalText() ([]byte, error) {
	return nil, errors.New("seal: refusing to marshal a key")
}

// RecordingID names the recording a segment belongs to. It is chosen by the
// desktop when a recording starts (online or not) and is what the server
// checks a segment's header against.
type RecordingID [16]byte

// NewRecordingID returns a fresh random recording id.
func NewRecordingID() RecordingID {
	var id RecordingID
	rand.Read(id[:])
	return id
}

// String returns the id as 32 lower-case hex digits.
func (id RecordingID) String() string { return hex.EncodeToString(id[:]) }

// ParseRecordingID parses the 32-hex-digit form of String.
func ParseRecordingID(s string) (RecordingID, error) {
	var id RecordingID
	if len(s) != 2*len(id) {
		return id, fmt.Errorf("recording id %q: want %d hex digits", s, 2*len(id))
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("recording id %q: %w", s, err)
	}
	return id, nil
}

// Header is the decoded header of a sealed segment. It can be read without
// the key, which lets the server check an upload before it has the key.
type Header struct {
	Version     uint8
	ChunkSize   uint32
	RecordingID RecordingID
	Segment     uint32
	Salt        [saltSize]byte
}

func (h *Header) marshal() [HeaderSize]byte {
	var b [HeaderSize]byte
	copy(b[0:4], magic)
	b[4] = h.Version
	binary.BigEndian.PutUint32(b[5:9], h.ChunkSize)
	copy(b[9:25], h.RecordingID[:])
	binary.BigEndian.PutUint32(b[25:29], h.Segment)
	copy(b[29:61], h.Salt[:])
	return b
}

// ParseHeader decodes and checks the first HeaderSize bytes of a sealed
// segment. It does not authenticate them: only opening the chunks does.
func ParseHeader(b []byte) (Header, error) {
	var h Header
	if len(b) < HeaderSize {
		return h, fmt.Errorf("header is %d bytes, want %d: %w", len(b), HeaderSize, ErrTruncated)
	}
	if string(b[0:4]) != magic {
		return h, fmt.Errorf("magic %q: %w", b[0:4], ErrFormat)
	}
	h.Version = b[4]
	if h.Version != Version {
		return h, fmt.Errorf("version %d (this build reads %d): %w", h.Version, Version, ErrVersion)
	}
	h.ChunkSize = binary.BigEndian.Uint32(b[5:9])
	if h.ChunkSize != ChunkSize {
		return h, fmt.Errorf("chunk size %d (version 1 has %d): %w", h.ChunkSize, ChunkSize, ErrFormat)
	}
	copy(h.RecordingID[:], b[9:25])
	h.Segment = binary.BigEndian.Uint32(b[25:29])
	copy(h.Salt[:], b[29:61])
	return h, nil
}

// ReadHeader reads and checks the header at the start of r.
func ReadHeader(r io.Reader) (Header, error) {
	var b [HeaderSize]byte
	n, err := io.ReadFull(r, b[:])
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return Header{}, fmt.Errorf("header is %d bytes, want %d: %w", n, HeaderSize, ErrTruncated)
	}
	if err != nil {
		return Header{}, fmt.Errorf("read header: %w", err)
	}
	return ParseHeader(b[:])
}

// segmentAEAD derives the segment key from the data key and the header.
func segmentAEAD(key Key, header *[HeaderSize]byte) (cipher.AEAD, error) {
	sk, err := hkdf.Key(sha256.New, key[:], header[29:61], keyInfo+string(header[:29]), 32)
	if err != nil {
		return nil, fmt.Errorf("derive segment key: %w", err)
	}
	block, err := aes.NewCipher(sk)
	if err != nil {
		return nil, fmt.Errorf("segment cipher: %w", err)
	}
	return cipher.NewGCM(block)
}

// chunkNonce is the chunk counter (11 bytes, big-endian) and the last flag.
func chunkNonce(n *[nonceSize]byte, chunk uint64, last bool) []byte {
	*n = [nonceSize]byte{}
	binary.BigEndian.PutUint64(n[3:11], chunk)
	if last {
		n[11] = 1
	}
	return n[:]
}

// SealedSize returns the exact length of the sealed form of plain bytes.
func SealedSize(plain int64) int64 {
	chunks := max(1, (plain+ChunkSize-1)/ChunkSize)
	return HeaderSize + plain + chunks*TagSize
}

// PlainSize returns the plaintext length of a sealed segment of the given
// length, or ErrFormat if no plaintext seals to that length.
func PlainSize(sealed int64) (int64, error) {
	body := sealed - HeaderSize
	if body < TagSize {
		return 0, fmt.Errorf("%d bytes is too short for a sealed segment: %w", sealed, ErrFormat)
	}
	full, rest := body/sealedSize, body%sealedSize
	switch {
	case rest == 0:
		return full * ChunkSize, nil
	case rest < TagSize || (rest == TagSize && full > 0):
		return 0, fmt.Errorf("%d bytes cannot be a sealed segment: %w", sealed, ErrFormat)
	default:
		return full*ChunkSize + rest - TagSize, nil
	}
}
