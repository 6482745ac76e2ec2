package blob_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"framecast.dev/server/internal/blob"
	"framecast.dev/server/internal/blob/blobtest"
)

func TestDiskContract(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		d, err := blob.NewDisk(filepath.Join(t.TempDir(), "blobs"))
		if err != nil {
			t.Fatal(err)
		}
		return d
	})
}

// TestDiskTraversal plants a file next to the store's root and checks that
// no key reaches it, and that refused writes create nothing anywhere.
func TestDiskTraversal(t *testing.T) {
	parent := t.TempDir()
	secret := filepath.Join(parent, "secret")
	if err := os.WriteFile(secret, []byte("top secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := blob.NewDisk(filepath.Join(parent, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, k := range []string{"../secret", "a/../../secret", secret, "..%2fsecret", "./../secret"} {
		if _, err := d.Get(ctx, k); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Get(%q) = %v, want ErrInvalidKey", k, err)
		}
		if err := d.Put(ctx, k, strings.NewReader("pwned")); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Put(%q) = %v, want ErrInvalidKey", k, err)
		}
		if err := d.Delete(ctx, k); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("Delete(%q) = %v, want ErrInvalidKey", k, err)
		}
	}
	if b, _ := os.ReadFile(secret); string(b) != "top secret" {
		t.Fatalf("file outside the store changed: %q", b)
	}
	entries, _ := os.ReadDir(parent)
	if len(entries) != 2 {
		t.Fatalf("something was created beside the store: %v", entries)
	}
}

func TestDiskLeavesNoTempFiles(t *testing.T) {
	root := filepath.Join(t.TempDir(), "blobs")
	d, err := blob.NewDisk(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := d.Put(ctx, "ok", bytes.NewReader([]byte("x"))); err != nil {
		t.Fatal(err)
	}
	_ = d.Put(ctx, "bad", iotestErrReader{})
	tmp, err := os.ReadDir(filepath.Join(root, ".tmp"))
	if err != nil || len(tmp) != 0 {
		t.Fatalf("temp files left behind: %v %v", tmp, err)
	}
	if fi, err := os.Stat(filepath.Join(root, "ok")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("stored file mode: %v %v", fi, err)
	}
}

type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, errors.New("boom") }

func TestOpenURL(t *testing.T) {
	dir := t.TempDir()
	for _, u := range []string{"file://" + dir + "/a", "file:" + dir + "/b"} {
		s, err := blob.Open(context.Background(), u, blob.S3Credentials{})
		if err != nil {
			t.Fatalf("Open(%q): %v", u, err)
		}
		if err := s.Put(context.Background(), "x", strings.NewReader("y")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := blob.Open(context.Background(), "gs://bucket", blob.S3Credentials{}); err == nil {
		t.Fatal("Open accepted an unknown scheme")
	}
}

// TestDiskDeleteRemovesEmptiedDirs: directory names are ids (a deleted
// video's, a deleted user's), so emptied directories go with the last
// blob; a Put racing with that still lands.
func TestDiskDeleteRemovesEmptiedDirs(t *testing.T) {
	ctx := context.Background()
	d, err := blob.NewDisk(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"videos/v1/assets/a", "videos/v1/0-x", "videos/v2/0-y"} {
		if err := d.Put(ctx, k, strings.NewReader(k)); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"videos/v1/assets/a", "videos/v1/0-x"} {
		if err := d.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(d.Root(), "videos", "v1")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the emptied directory of v1 is still there: %v", err)
	}
	if _, err := d.Stat(ctx, "videos/v2/0-y"); err != nil {
		t.Fatalf("a sibling went too: %v", err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 100 {
		wg.Add(2)
		go func() { defer wg.Done(); errs <- d.Put(ctx, fmt.Sprintf("race/dir/p%d", i), strings.NewReader("x")) }()
		go func() { defer wg.Done(); errs <- d.Delete(ctx, fmt.Sprintf("race/dir/p%d", i-1)) }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}
