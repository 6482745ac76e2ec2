package store_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"framecast.dev/server/internal/store"
	"framecast.dev/server/internal/store/storetest"
)

// TestContract runs the contract suite on every kind of database, each
// test on a fresh database from the one helper other packages use too.
func TestContract(t *testing.T) {
	for _, kind := range storetest.Kinds {
		t.Run(kind, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) store.Store { return storetest.Open(t, kind) })
		})
	}
}

func TestSQLitePragmas(t *testing.T) {
	dir := t.TempDir()
	s, err := store.OpenSQLite(context.Background(), "sqlite://"+filepath.Join(dir, "f.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for pragma, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "10000", "synchronous": "2"} {
		var got string
		if err := s.DB().QueryRow("PRAGMA " + pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "f.db-wal")); err != nil {
		t.Errorf("no WAL file next to the database: %v", err)
	}
}

func TestSQLiteReopenKeepsData(t *testing.T) {
	url := "sqlite:" + filepath.Join(t.TempDir(), "f.db")
	ctx := context.Background()
	s, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateVideo(ctx, store.Video{ID: "a", Slug: "b", RecordingID: "c", State: store.StateUploading}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = store.Open(ctx, url) // migrations run again: must be a no-op
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Video(ctx, "a"); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRejectsUnknownScheme(t *testing.T) {
	_, err := store.Open(context.Background(), "mysql://user:hunter2@db/x")
	if err == nil {
		t.Fatal("want an error")
	}
	if got := err.Error(); contains(got, "hunter2") {
		t.Fatalf("error leaks the password: %s", got)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
