package seal

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the test vectors in testdata/ from the current code")

// vectorFile is testdata/vectors.json: everything another implementation
// (the server, a browser) needs to check itself against this one.
type vectorFile struct {
	Comment  string          `json:"comment"`
	Segments []segmentVector `json:"segments"`
	Wrapped  []wrapVector    `json:"wrapped_keys"`
}

type segmentVector struct {
	Name        string `json:"name"`
	Key         string `json:"key"`
	RecordingID string `json:"recording_id"`
	Segment     uint32 `json:"segment"`
	Salt        string `json:"salt"`
	PlainLen    int    `json:"plain_len"`
	Sealed      string `json:"sealed_file"`
	SealedSHA   string `json:"sealed_sha256"`
}

type wrapVector struct {
	KEK     string `json:"kek"`
	DEK     string `json:"dek"`
	Purpose string `json:"purpose"`
	Nonce   string `json:"nonce"`
	Wrapped string `json:"wrapped"`
}

func seq(n int, from byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = from + byte(i)
	}
	return b
}

// vectorCases are the inputs; -update seals them into testdata/.
func vectorCases() vectorFile {
	key := hex.EncodeToString(seq(32, 0x00))
	rec := hex.EncodeToString(seq(16, 0xf0))
	seg := func(name string, segment uint32, n int, saltFrom byte) segmentVector {
		return segmentVector{Name: name, Key: key, RecordingID: rec, Segment: segment,
			Salt: hex.EncodeToString(seq(saltSize, saltFrom)), PlainLen: n, Sealed: name + ".sealed"}
	}
	return vectorFile{
		Comment: "Framecast seal v1 test vectors (format: doc.go). Plaintext byte i is i mod 251. " +
			"Regenerate with: go test ./seal/ -run TestVectors -update",
		Segments: []segmentVector{
			seg("empty", 0, 0, 0x20),
			seg("one-byte", 1, 1, 0x40),
			seg("short", 2, 100, 0x60),
			seg("one-full-chunk", 3, ChunkSize, 0x80),
			seg("full-chunk-plus-one", 4, ChunkSize+1, 0xa0),
			seg("two-chunks-and-a-bit", 4294967295, 2*ChunkSize+100, 0xc0),
		},
		Wrapped: []wrapVector{
			{KEK: hex.EncodeToString(seq(32, 0x80)), DEK: key, Purpose: "recording " + rec,
				Nonce: hex.EncodeToString(seq(nonceSize, 0x10))},
		},
	}
}

func unhex(t *testing.T, s string, n int) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != n {
		t.Fatalf("vector hex %q: %d bytes, %v; want %d", s, len(b), err, n)
	}
	return b
}

func TestVectors(t *testing.T) {
	path := filepath.Join("testdata", "vectors.json")
	var vf vectorFile
	if *update {
		vf = vectorCases()
	} else {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("read vectors (regenerate with -update): %v", err)
		}
		if err := json.Unmarshal(raw, &vf); err != nil {
			t.Fatalf("parse %s: %v", path, err)
		}
	}

	for i := range vf.Segments {
		v := &vf.Segments[i]
		key := Key(unhex(t, v.Key, 32))
		rec := RecordingID(unhex(t, v.RecordingID, 16))
		salt := [saltSize]byte(unhex(t, v.Salt, saltSize))
		plain := pattern(v.PlainLen)

		var out bytes.Buffer
		w, err := newWriter(&out, key, rec, v.Segment, salt)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(plain)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join("testdata", v.Sealed)
		sum := sha256.Sum256(out.Bytes())
		if *update {
			v.SealedSHA = hex.EncodeToString(sum[:])
			if err := os.WriteFile(file, out.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		if wantSum := sha256.Sum256(want); hex.EncodeToString(wantSum[:]) != v.SealedSHA {
			t.Fatalf("%s: %s does not match its sha256 in vectors.json", v.Name, file)
		}
		// Seal direction: the code must produce exactly the stored bytes.
		if !bytes.Equal(out.Bytes(), want) {
			t.Errorf("%s: sealing gives different bytes than %s (format changed? bump the version)", v.Name, file)
		}
		// Open direction: the stored bytes must open to the plaintext.
		got, err := openBytes(key, rec, v.Segment, want)
		if err != nil {
			t.Errorf("%s: open %s: %v", v.Name, file, err)
		} else if !bytes.Equal(got, plain) {
			t.Errorf("%s: %s opens to different plaintext", v.Name, file)
		}
	}

	for i := range vf.Wrapped {
		v := &vf.Wrapped[i]
		kek, dek := Key(unhex(t, v.KEK, 32)), Key(unhex(t, v.DEK, 32))
		wrapped, err := wrapKey(kek, dek, v.Purpose, [nonceSize]byte(unhex(t, v.Nonce, nonceSize)))
		if err != nil {
			t.Fatal(err)
		}
		if *update {
			v.Wrapped = hex.EncodeToString(wrapped)
		}
		if hex.EncodeToString(wrapped) != v.Wrapped {
			t.Errorf("wrapped key %d: WrapKey gives %x, vector has %s", i, wrapped, v.Wrapped)
		}
		got, err := UnwrapKey(kek, unhex(t, v.Wrapped, WrappedSize), v.Purpose)
		if err != nil || got != dek {
			t.Errorf("wrapped key %d: UnwrapKey: %v", i, err)
		}
	}

	if *update {
		raw, err := json.MarshalIndent(vf, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(raw, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
