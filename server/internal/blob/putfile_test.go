package blob

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestPutFileMovesIntoDisk(t *testing.T) {
	d, err := NewDisk(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "part")
	if err := os.WriteFile(src, []byte("the bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := PutFile(context.Background(), d, "videos/v/source/0", src); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(src); !os.IsNotExist(err) {
		t.Errorf("the source file is still there: %v", err)
	}
	rc, err := d.Get(context.Background(), "videos/v/source/0")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "the bytes" {
		t.Errorf("stored %q", b)
	}
	if p := LocalPath(d, "videos/v/source/0"); p == "" {
		t.Error("no local path for a disk blob")
	}
	if p := LocalPath(d, "../x"); p != "" {
		t.Errorf("a bad key has the local path %q", p)
	}
	if err := os.WriteFile(src, []byte("again"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := PutFile(context.Background(), d, "../escape", src); err == nil {
		t.Error("PutFile took a key outside the store")
	}
	if _, err := os.Stat(src); err != nil {
		t.Errorf("a refused file was removed: %v", err)
	}
}

func TestPutFileUnsyncedThenFlush(t *testing.T) {
	d, err := NewDisk(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"a", "b"} {
		src := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(src, []byte(name), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := PutFileUnsynced(context.Background(), d, "videos/v/"+name, src); err != nil {
			t.Fatalf("file %d: %v", i, err)
		}
	}
	if err := Flush(d); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b"} {
		rc, err := d.Get(context.Background(), "videos/v/"+name)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if string(b) != name {
			t.Errorf("%s holds %q", name, b)
		}
	}
}
