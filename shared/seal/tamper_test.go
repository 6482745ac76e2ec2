package seal

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
)

// The tamper tests start from three chunks (two full, one short) of
// segment 5 and change them in every way an attacker or a broken disk,
// proxy or upload could. Each must fail with the named error, and the
// opener must never return a byte that differs from the original.

const tamperSeg = 5

var tamperPlain = pattern(2*ChunkSize + 1000)

// chunkAt returns the [start, end) of sealed chunk i.
func chunkAt(sealed []byte, i int) (int, int) {
	start := HeaderSize + i*sealedSize
	return start, min(start+sealedSize, len(sealed))
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// mustFail opens sealed as segment seg of testRec and checks the error and
// that every byte released before it is authentic plaintext.
func mustFail(t *testing.T, name string, sealed []byte, seg uint32, want ...error) {
	t.Helper()
	var got []byte
	r, err := NewReader(bytes.NewReader(sealed), testKey, testRec, seg)
	if err == nil {
		got, err = io.ReadAll(r)
	}
	if err == nil {
		t.Errorf("%s: opened without error (%d bytes)", name, len(got))
		return
	}
	ok := false
	for _, w := range want {
		ok = ok || errors.Is(err, w)
	}
	if !ok {
		t.Errorf("%s: error %q, want one of %v", name, err, want)
	}
	if !bytes.HasPrefix(tamperPlain, got) {
		t.Errorf("%s: released %d bytes that are not the original plaintext", name, len(got))
	}
}

func TestTamperFlip(t *testing.T) {
	sealed := sealBytes(t, testKey, testRec, tamperSeg, tamperPlain)
	flip := func(off int) []byte {
		b := bytes.Clone(sealed)
		b[off] ^= 0x01
		return b
	}
	// Every header byte, each field named by the error it must give.
	for off := range HeaderSize {
		var want error
		switch {
		case off < 4, off >= 5 && off < 9:
			want = ErrFormat
		case off == 4:
			want = ErrVersion
		case off >= 9 && off < 29:
			want = ErrMisplaced
		default:
			want = ErrTampered // salt: another segment key
		}
		mustFail(t, fmt.Sprintf("flip header byte %d", off), flip(off), tamperSeg, want)
	}
	// The edges of every chunk (first ciphertext byte, last ciphertext
	// byte, first and last tag byte), then random bytes anywhere.
	offs := []int{}
	for i := range 3 {
		s, e := chunkAt(sealed, i)
		offs = append(offs, s, e-TagSize-1, e-TagSize, e-1)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for range 64 {
		offs = append(offs, HeaderSize+rng.IntN(len(sealed)-HeaderSize))
	}
	for _, off := range offs {
		mustFail(t, fmt.Sprintf("flip byte %d", off), flip(off), tamperSeg, ErrTampered)
	}
}

func TestTamperTruncate(t *testing.T) {
	sealed := sealBytes(t, testKey, testRec, tamperSeg, tamperPlain)
	_, end0 := chunkAt(sealed, 0)
	_, end1 := chunkAt(sealed, 1)
	for _, n := range []int{0, 1, HeaderSize - 1, HeaderSize, HeaderSize + TagSize - 1} {
		mustFail(t, fmt.Sprintf("truncate to %d", n), sealed[:n], tamperSeg, ErrTruncated)
	}
	// At a chunk boundary the survivor is intact but not flagged last.
	for _, n := range []int{end0, end1} {
		mustFail(t, fmt.Sprintf("truncate at boundary %d", n), sealed[:n], tamperSeg, ErrTruncated)
	}
	// Mid-chunk, the cut chunk cannot be told from a forged one.
	for _, n := range []int{HeaderSize + 100, end0 + 1, end0 + sealedSize/2, end1 + 1, len(sealed) - 1} {
		mustFail(t, fmt.Sprintf("truncate mid-chunk to %d", n), sealed[:n], tamperSeg, ErrTruncated, ErrTampered)
	}
}

func TestTamperReorderDropDuplicate(t *testing.T) {
	sealed := sealBytes(t, testKey, testRec, tamperSeg, tamperPlain)
	h := sealed[:HeaderSize]
	s0, e0 := chunkAt(sealed, 0)
	s1, e1 := chunkAt(sealed, 1)
	s2, e2 := chunkAt(sealed, 2)
	c0, c1, c2 := sealed[s0:e0], sealed[s1:e1], sealed[s2:e2]
	cases := map[string][]byte{
		"swap 0 and 1":      cat(h, c1, c0, c2),
		"last chunk first":  cat(h, c2),
		"drop chunk 0":      cat(h, c1, c2),
		"drop chunk 1":      cat(h, c0, c2),
		"duplicate chunk 0": cat(h, c0, c0, c1, c2),
		"duplicate last":    cat(h, c0, c1, c2, c2),
	}
	for name, b := range cases {
		mustFail(t, name, b, tamperSeg, ErrTampered)
	}
}

func TestTamperCrossSegmentAndRecording(t *testing.T) {
	sealed := sealBytes(t, testKey, testRec, tamperSeg, tamperPlain)
	// Same key on purpose: the binding must not rest on recordings having
	// different keys.
	otherSeg := sealBytes(t, testKey, testRec, tamperSeg+1, tamperPlain)
	otherRecID := testRec
	otherRecID[0] ^= 0xff
	otherRec := sealBytes(t, testKey, otherRecID, tamperSeg, tamperPlain)
	reseal := sealBytesWithSalt(t, tamperPlain, tamperSeg, sealed) // same bytes, proves the splice is exact
	if !bytes.Equal(reseal, sealed) {
		t.Fatal("resealing with the same salt changed the bytes")
	}

	s1, e1 := chunkAt(sealed, 1)
	for name, other := range map[string][]byte{"segment": otherSeg, "recording": otherRec} {
		mustFail(t, "chunk 1 from another "+name, cat(sealed[:s1], other[s1:e1], sealed[e1:]), tamperSeg, ErrTampered)
		mustFail(t, "header on the chunks of another "+name, cat(sealed[:HeaderSize], other[HeaderSize:]), tamperSeg, ErrTampered)
	}
	mustFail(t, "whole segment 6 served as 5", otherSeg, tamperSeg, ErrMisplaced)
	mustFail(t, "whole segment of another recording", otherRec, tamperSeg, ErrMisplaced)
	// Rewriting the header to claim the expected slot changes the segment
	// key, so the chunks no longer open.
	forged := bytes.Clone(otherSeg)
	copy(forged[25:29], sealed[25:29])
	mustFail(t, "segment 6 with its index rewritten to 5", forged, tamperSeg, ErrTampered)

	wrongKey := testKey
	wrongKey[7] ^= 1
	r, err := NewReader(bytes.NewReader(sealed), wrongKey, testRec, tamperSeg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(r); !errors.Is(err, ErrTampered) {
		t.Fatalf("wrong key: error %v, want ErrTampered", err)
	}
}

func TestTamperAppend(t *testing.T) {
	short := sealBytes(t, testKey, testRec, tamperSeg, tamperPlain)
	mustFail(t, "one byte appended", cat(short, []byte{0}), tamperSeg, ErrTampered)
	mustFail(t, "a chunk appended", cat(short, short[HeaderSize:HeaderSize+sealedSize]), tamperSeg, ErrTampered)

	// When the final chunk is full, extra bytes turn it into a non-final
	// chunk; the error must say data follows the final chunk.
	full := sealBytes(t, testKey, testRec, tamperSeg, tamperPlain[:2*ChunkSize])
	for _, extra := range [][]byte{{0}, full[HeaderSize : HeaderSize+TagSize]} {
		r, err := NewReader(bytes.NewReader(cat(full, extra)), testKey, testRec, tamperSeg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.ReadAll(r)
		if !errors.Is(err, ErrTampered) || !bytes.Contains([]byte(err.Error()), []byte("follows the final chunk")) {
			t.Fatalf("%d bytes after a full final chunk: error %v", len(extra), err)
		}
	}
}
