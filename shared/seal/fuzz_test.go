package seal

import (
	"bytes"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpen feeds arbitrary bytes to the opener under the vector key. It
// must never panic, and whatever it accepts must be exactly what the sealer
// writes for that plaintext and salt: the format has one encoding per
// input, so anything else accepted would be a forgery.
//
// As a normal test it runs the seed corpus only; fuzz with
// go test ./seal/ -run '^$' -fuzz FuzzOpen -fuzztime 1m
func FuzzOpen(f *testing.F) {
	vf := vectorCases()
	key := Key(mustHex(vf.Segments[0].Key))
	rec := RecordingID(mustHex(vf.Segments[0].RecordingID))
	for _, v := range vf.Segments {
		if v.PlainLen > ChunkSize+1 {
			continue // large seeds slow every fuzz iteration down
		}
		sealed, err := os.ReadFile(filepath.Join("testdata", v.Sealed))
		if err != nil {
			f.Fatalf("seed %s: %v", v.Name, err)
		}
		f.Add(sealed, v.Segment)
		f.Add(sealed[:len(sealed)-1], v.Segment)
		f.Add(append(bytes.Clone(sealed), 0), v.Segment)
		flipped := bytes.Clone(sealed)
		flipped[len(flipped)-1] ^= 1
		f.Add(flipped, v.Segment)
		f.Add(sealed[:HeaderSize], v.Segment)
	}
	f.Add([]byte{}, uint32(0))
	f.Add([]byte("FCSG"), uint32(0))

	f.Fuzz(func(t *testing.T, sealed []byte, segment uint32) {
		r, err := NewReader(bytes.NewReader(sealed), key, rec, segment)
		if err != nil {
			return
		}
		plain, err := io.ReadAll(r)
		if err != nil {
			return
		}
		h := r.Header()
		var again bytes.Buffer
		w, err := newWriter(&again, key, rec, segment, h.Salt)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(plain)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again.Bytes(), sealed) {
			t.Fatalf("opened %d bytes of input that is not the canonical sealing of its plaintext", len(sealed))
		}
		if n, err := PlainSize(int64(len(sealed))); err != nil || n != int64(len(plain)) {
			t.Fatalf("PlainSize(%d) = %d, %v; opened %d", len(sealed), n, err, len(plain))
		}
	})
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}
