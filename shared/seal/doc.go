// Package seal is the envelope of a Framecast segment: streaming, chunked
// AES-256-GCM under a per-recording data key, plus wrapping of that data key
// under a key-encryption key. The desktop seals, the server stores the sealed
// bytes as they are and opens them while serving; both use this package, so
// the format below is a wire format. Changing a single byte of it needs a new
// version number and new test vectors (testdata/).
//
// # Sealed segment, version 1
//
// A sealed segment is a 61-byte header followed by one or more chunks.
//
//	offset  size  field
//	0       4     magic "FCSG"
//	4       1     version, 0x01
//	5       4     chunk size, uint32 big-endian; always 65536 in version 1
//	9       16    recording id (RecordingID)
//	25      4     segment index, uint32 big-endian
//	29      32    salt, random per sealed segment
//	61      ...   chunks
//
// The plaintext is cut into chunks of exactly the chunk size; the last chunk
// holds the rest (1..chunk size bytes). An empty plaintext is one empty last
// chunk, so every sealed segment has at least one chunk and the header is
// always authenticated. Each chunk on the wire is its ciphertext followed by
// the 16-byte GCM tag, so every chunk but the last is exactly 65552 bytes.
//
// Chunk i (counting from 0) is AES-256-GCM under the segment key with
//
//	nonce = i as an 11-byte big-endian integer || last, where last is 0x01
//	        for the final chunk and 0x00 for all others (12 bytes)
//	aad   = the 61 header bytes
//
// and the segment key is
//
//	HKDF-SHA-256(secret = data key, salt = header salt,
//	             info = "framecast seal v1 segment key" || header bytes 0..28)
//
// Why this shape: one data key seals every segment of a recording, so the
// key is never used directly. The random salt gives every sealed segment its
// own key (sealing the same index twice after a crash is harmless), which
// lets the nonce be a plain counter with no birthday bound. The counter in
// the nonce catches reordered, dropped or duplicated chunks; the last flag
// catches truncation at a chunk boundary and appended data; the header as
// associated data, and its recording id and segment index in the key
// derivation, catch chunks moved between segments or recordings and any edit
// of the header. Whole sealed segments swapped between slots are caught by
// the opener comparing the header with the recording id and index it expects.
//
// SealedSize gives the exact sealed length for a plaintext length (for
// Content-Length), and PlainSize the reverse.
//
// # Wrapped key, version 1
//
// A data key wrapped under a key-encryption key (WrapKey) is 61 bytes:
//
//	offset  size  field
//	0       1     version, 0x01
//	1       12    nonce, random
//	13      48    AES-256-GCM(kek) of the 32-byte data key, tag included
//
// with associated data "framecast seal v1 wrapped key" || 0x00 || purpose.
// The purpose names what the key is for (for example the recording it
// belongs to), so a wrapped key copied to another purpose does not open.
// AES-GCM rather than AES-KW because it takes associated data and is in the
// standard library; random 96-bit nonces are safe for far more wraps than one
// key-encryption key will ever do.
//
// # Errors
//
// Every failure wraps one of the sentinel errors (ErrFormat, ErrVersion,
// ErrMisplaced, ErrTruncated, ErrTampered) with what and where, so callers
// test with errors.Is. A wrong key cannot be told apart from tampering and is
// reported as ErrTampered. The Reader only ever returns authenticated
// plaintext, but a caller must treat any error, even after some bytes were
// read, as "this segment is not valid".
package seal
