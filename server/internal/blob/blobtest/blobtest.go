// Package blobtest is the contract every blob.Store implementation passes.
// An implementation's tests call Run with a constructor for an empty store.
package blobtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"

	"framecast.dev/server/internal/blob"
)

// Run runs the contract suite against stores made by open, one per subtest.
func Run(t *testing.T, open func(t *testing.T) blob.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s blob.Store)
	}{
		{"PutGet", testPutGet},
		{"Empty", testEmpty},
		{"Large", testLarge},
		{"Overwrite", testOverwrite},
		{"Missing", testMissing},
		{"Delete", testDelete},
		{"List", testList},
		{"FailedPutLeavesNothing", testFailedPut},
		{"CancelledPutLeavesNothing", testCancelledPut},
		{"ConcurrentPuts", testConcurrentPuts},
		{"InvalidKeys", testInvalidKeys},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// InvalidKeys are keys every implementation must refuse, for every method.
var InvalidKeys = []string{
	"", "/", "/abs", "a//b", "a/", "../x", "a/../../x", "..", ".", "./a", "a/./b",
	".hidden", "a/.tmp/x", `a\b`, "a b", "a\x00b", "ä", "a?b", "a%2e%2e", "C:/x",
	string(bytes.Repeat([]byte("a"), blob.MaxKeyLen+1)),
}

func put(t *testing.T, s blob.Store, key string, data []byte) {
	t.Helper()
	if err := s.Put(context.Background(), key, bytes.NewReader(data)); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func get(t *testing.T, s blob.Store, key string) []byte {
	t.Helper()
	rc, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Get(%q): read: %v", key, err)
	}
	return b
}

func random(t *testing.T, n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func testPutGet(t *testing.T, s blob.Store) {
	data := random(t, 1000)
	put(t, s, "videos/v1/seg/000001", data)
	if got := get(t, s, "videos/v1/seg/000001"); !bytes.Equal(got, data) {
		t.Fatal("Get returned other bytes than Put stored")
	}
	info, err := s.Stat(context.Background(), "videos/v1/seg/000001")
	if err != nil || info.Size != 1000 || info.Key != "videos/v1/seg/000001" {
		t.Fatalf("Stat = %+v, %v", info, err)
	}
}

func testEmpty(t *testing.T, s blob.Store) {
	put(t, s, "empty", nil)
	if got := get(t, s, "empty"); len(got) != 0 {
		t.Fatalf("empty object read back as %d bytes", len(got))
	}
}

func testLarge(t *testing.T, s blob.Store) {
	data := random(t, 5<<20+7)
	put(t, s, "big.bin", data)
	if got := get(t, s, "big.bin"); !bytes.Equal(got, data) {
		t.Fatal("large object corrupted")
	}
}

func testOverwrite(t *testing.T, s blob.Store) {
	put(t, s, "k", []byte("first"))
	put(t, s, "k", []byte("second, longer"))
	if got := string(get(t, s, "k")); got != "second, longer" {
		t.Fatalf("after overwrite Get = %q", got)
	}
}

func testMissing(t *testing.T, s blob.Store) {
	ctx := context.Background()
	if _, err := s.Get(ctx, "nope"); !errors.Is(err, blob.ErrNotExist) {
		t.Errorf("Get(missing): %v, want ErrNotExist", err)
	}
	if _, err := s.Stat(ctx, "no/pe"); !errors.Is(err, blob.ErrNotExist) {
		t.Errorf("Stat(missing): %v, want ErrNotExist", err)
	}
	put(t, s, "dir/file", []byte("x"))
	if _, err := s.Get(ctx, "dir"); !errors.Is(err, blob.ErrNotExist) {
		t.Errorf("Get of a key prefix: %v, want ErrNotExist", err)
	}
}

func testDelete(t *testing.T, s blob.Store) {
	ctx := context.Background()
	put(t, s, "a/b", []byte("x"))
	if err := s.Delete(ctx, "a/b"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(ctx, "a/b"); !errors.Is(err, blob.ErrNotExist) {
		t.Fatalf("Stat after Delete: %v", err)
	}
	if err := s.Delete(ctx, "a/b"); err != nil {
		t.Fatalf("second Delete: %v, want nil", err)
	}
}

func keys(t *testing.T, s blob.Store, prefix string) []string {
	t.Helper()
	var out []string
	for info, err := range s.List(context.Background(), prefix) {
		if err != nil {
			t.Fatalf("List(%q): %v", prefix, err)
		}
		out = append(out, info.Key)
	}
	return out
}

func testList(t *testing.T, s blob.Store) {
	all := []string{"v/a/0", "v/a/1", "v/a/10", "v/ab/0", "v/a-c", "w/x", "top"}
	for _, k := range all {
		put(t, s, k, []byte(k))
	}
	cases := map[string][]string{
		"":      {"top", "v/a-c", "v/a/0", "v/a/1", "v/a/10", "v/ab/0", "w/x"},
		"v/":    {"v/a-c", "v/a/0", "v/a/1", "v/a/10", "v/ab/0"},
		"v/a/":  {"v/a/0", "v/a/1", "v/a/10"},
		"v/a":   {"v/a-c", "v/a/0", "v/a/1", "v/a/10", "v/ab/0"},
		"v/a/1": {"v/a/1", "v/a/10"},
		"nope/": nil,
		"t":     {"top"},
	}
	for prefix, want := range cases {
		if got := keys(t, s, prefix); !slices.Equal(got, want) {
			t.Errorf("List(%q) = %q, want %q", prefix, got, want)
		}
	}
	for info, err := range s.List(context.Background(), "w/") {
		if err != nil || info.Size != 3 {
			t.Errorf("List info = %+v, %v", info, err)
		}
	}
	// Stopping early must be allowed.
	for range s.List(context.Background(), "") {
		break
	}
}

type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("connection reset")
	}
	n := min(len(p), f.n)
	f.n -= n
	return n, nil
}

func testFailedPut(t *testing.T, s blob.Store) {
	ctx := context.Background()
	if err := s.Put(ctx, "half", &failingReader{n: 100000}); err == nil {
		t.Fatal("Put from a failing reader succeeded")
	}
	if _, err := s.Stat(ctx, "half"); !errors.Is(err, blob.ErrNotExist) {
		t.Fatalf("a failed Put left something visible: %v", err)
	}
	put(t, s, "kept", []byte("old"))
	if err := s.Put(ctx, "kept", &failingReader{n: 10}); err == nil {
		t.Fatal("Put from a failing reader succeeded")
	}
	if got := string(get(t, s, "kept")); got != "old" {
		t.Fatalf("a failed overwrite changed the object to %q", got)
	}
	if got := keys(t, s, ""); !slices.Equal(got, []string{"kept"}) {
		t.Fatalf("List after failed puts = %q", got)
	}
}

func testCancelledPut(t *testing.T, s blob.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	go func() {
		pw.Write(random(t, 1000))
		cancel()
		pw.Write(random(t, 1000))
		pw.Close()
	}()
	err := s.Put(ctx, "cancelled", pr)
	pr.Close() // unblocks the writer
	if err == nil {
		t.Fatal("Put with a cancelled context succeeded")
	}
	if _, err := s.Stat(context.Background(), "cancelled"); !errors.Is(err, blob.ErrNotExist) {
		t.Fatalf("a cancelled Put left something visible: %v", err)
	}
}

func testConcurrentPuts(t *testing.T, s blob.Store) {
	var wg sync.WaitGroup
	versions := make([][]byte, 6)
	for i := range versions {
		versions[i] = bytes.Repeat([]byte{byte('a' + i)}, 256<<10)
	}
	for _, v := range versions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Put(context.Background(), "race", bytes.NewReader(v)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got := get(t, s, "race")
	if !slices.ContainsFunc(versions, func(v []byte) bool { return bytes.Equal(v, got) }) {
		t.Fatal("concurrent Puts produced a mix of versions")
	}
}

func testInvalidKeys(t *testing.T, s blob.Store) {
	ctx := context.Background()
	for _, k := range InvalidKeys {
		name := fmt.Sprintf("%q", k)
		if err := s.Put(ctx, k, bytes.NewReader([]byte("x"))); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Put(%s): %v, want ErrInvalidKey", name, err)
		}
		if _, err := s.Get(ctx, k); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Get(%s): %v, want ErrInvalidKey", name, err)
		}
		if _, err := s.Stat(ctx, k); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Stat(%s): %v, want ErrInvalidKey", name, err)
		}
		if err := s.Delete(ctx, k); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Delete(%s): %v, want ErrInvalidKey", name, err)
		}
	}
	for _, p := range []string{"/", "../", "a/../", "/etc", ".tmp/", "a//"} {
		for _, err := range s.List(ctx, p) {
			if !errors.Is(err, blob.ErrInvalidKey) {
				t.Errorf("List(%q): %v, want ErrInvalidKey", p, err)
			}
		}
	}
	if got := keys(t, s, ""); len(got) != 0 {
		t.Fatalf("invalid keys created objects: %q", got)
	}
}
