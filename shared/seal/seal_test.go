package seal

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
)

// pattern is the plaintext of every test: byte i is i mod 251, so no two
// chunks are alike and a chunk moved elsewhere changes the output.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

var (
	testKey = Key{0: 0x01, 31: 0x1f}
	testRec = RecordingID{0: 0xaa, 15: 0x0f}
)

func sealBytes(t testing.TB, key Key, rec RecordingID, seg uint32, plain []byte) []byte {
	t.Helper()
	sealed, err := Seal(plain, key, rec, seg)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return sealed
}

func openBytes(key Key, rec RecordingID, seg uint32, sealed []byte) ([]byte, error) {
	r, err := NewReader(bytes.NewReader(sealed), key, rec, seg)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

var sizes = []int{0, 1, 100, ChunkSize - 1, ChunkSize, ChunkSize + 1, 2 * ChunkSize, 5*ChunkSize + 123}

func TestRoundTrip(t *testing.T) {
	for _, n := range sizes {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			plain := pattern(n)
			sealed := sealBytes(t, testKey, testRec, 3, plain)
			if got, want := int64(len(sealed)), SealedSize(int64(n)); got != want {
				t.Fatalf("sealed %d bytes, SealedSize says %d", got, want)
			}
			if got, err := PlainSize(int64(len(sealed))); err != nil || got != int64(n) {
				t.Fatalf("PlainSize(%d) = %d, %v; want %d", len(sealed), got, err, n)
			}
			got, err := openBytes(testKey, testRec, 3, sealed)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			if !bytes.Equal(got, plain) {
				t.Fatalf("opened %d bytes that differ from the %d sealed", len(got), n)
			}
		})
	}
}

// TestRoundTripShortIO feeds the sealer odd write sizes and the opener
// short reads, which is how files and sockets really behave.
func TestRoundTripShortIO(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, ChunkSize, ChunkSize + 1, 3*ChunkSize + 7} {
		plain := pattern(n)
		var out bytes.Buffer
		w, err := NewWriter(&out, testKey, testRec, 9)
		if err != nil {
			t.Fatal(err)
		}
		for p := plain; len(p) > 0; {
			k := min(len(p), 1+rng.IntN(3*ChunkSize))
			if rng.IntN(4) == 0 {
				k = min(len(p), 1+rng.IntN(10))
			}
			if _, err := w.Write(p[:k]); err != nil {
				t.Fatal(err)
			}
			p = p[k:]
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), sealBytesWithSalt(t, plain, 9, out.Bytes())) {
			t.Fatalf("size %d: write pattern changed the sealed bytes", n)
		}
		for name, wrap := range map[string]func(io.Reader) io.Reader{
			"one-byte": iotest.OneByteReader,
			"half":     iotest.HalfReader,
			"data-err": iotest.DataErrReader,
		} {
			r, err := NewReader(wrap(bytes.NewReader(out.Bytes())), testKey, testRec, 9)
			if err != nil {
				t.Fatalf("size %d %s: %v", n, name, err)
			}
			if err := iotest.TestReader(r, plain); err != nil {
				t.Fatalf("size %d %s: %v", n, name, err)
			}
		}
	}
}

// sealBytesWithSalt reseals plain with the salt of an existing sealed
// segment, which must give identical bytes.
func sealBytesWithSalt(t testing.TB, plain []byte, seg uint32, like []byte) []byte {
	t.Helper()
	h, err := ParseHeader(like)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w, err := newWriter(&out, testKey, testRec, seg, h.Salt)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(plain)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestSaltDiffersPerSeal(t *testing.T) {
	a := sealBytes(t, testKey, testRec, 1, pattern(10))
	b := sealBytes(t, testKey, testRec, 1, pattern(10))
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same segment are identical: the salt is not random")
	}
}

func TestWriterAfterClose(t *testing.T) {
	w, err := NewWriter(io.Discard, testKey, testRec, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Fatal("Write after Close succeeded")
	}
}

type failWriter struct{ after int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.after <= 0 {
		return 0, errors.New("disk full")
	}
	f.after--
	return len(p), nil
}

func TestWriterErrorIsSticky(t *testing.T) {
	w, err := NewWriter(&failWriter{after: 2}, testKey, testRec, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.Write(pattern(4 * ChunkSize))
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Write error = %v, want the writer's disk full", err)
	}
	if err := w.Close(); err == nil {
		t.Fatal("Close after a failed write succeeded")
	}
}

func TestPlainSizeRejectsImpossibleLengths(t *testing.T) {
	for _, n := range []int64{0, HeaderSize, HeaderSize + TagSize - 1, HeaderSize + sealedSize + 1, HeaderSize + sealedSize + TagSize} {
		if _, err := PlainSize(n); !errors.Is(err, ErrFormat) {
			t.Errorf("PlainSize(%d) error = %v, want ErrFormat", n, err)
		}
	}
	for plain := int64(0); plain < 3*ChunkSize+3; plain += 997 {
		if got, err := PlainSize(SealedSize(plain)); err != nil || got != plain {
			t.Fatalf("PlainSize(SealedSize(%d)) = %d, %v", plain, got, err)
		}
	}
}

func TestKeyNeverPrints(t *testing.T) {
	k := Key{0: 0xde, 1: 0xad, 2: 0xbe, 3: 0xef}
	type holder struct{ K Key }
	var logged bytes.Buffer
	// Without the time: its digits can hold "222" (0xde) by chance.
	noTime := &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}
	slog.New(slog.NewTextHandler(&logged, noTime)).Info("x", "key", k, "h", holder{k})
	slog.New(slog.NewJSONHandler(&logged, noTime)).Info("x", "key", k)
	outs := []string{
		fmt.Sprint(k), fmt.Sprintf("%x %X %v %+v %#v %s %d", k, k, k, k, k, k, k),
		fmt.Sprintf("%v %+v", holder{k}, &holder{k}), logged.String(),
	}
	for _, s := range outs {
		if strings.Contains(strings.ToLower(s), "dead") || strings.Contains(s, "222") {
			t.Errorf("key material printed: %s", s)
		}
	}
	if _, err := k.MarshalText(); err == nil {
		t.Error("MarshalText of a key succeeded")
	}
}

func TestRecordingIDParse(t *testing.T) {
	id := NewRecordingID()
	got, err := ParseRecordingID(id.String())
	if err != nil || got != id {
		t.Fatalf("ParseRecordingID(%s) = %s, %v", id, got, err)
	}
	for _, bad := range []string{"", "abc", strings.Repeat("g", 32), id.String() + "00"} {
		if _, err := ParseRecordingID(bad); err == nil {
			t.Errorf("ParseRecordingID(%q) succeeded", bad)
		}
	}
}
