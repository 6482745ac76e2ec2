package store_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"framecast.dev/server/internal/store"
	"framecast.dev/server/internal/store/storetest"
)

// TestMigrationsPaired: every SQLite migration has a PostgreSQL twin of
// the same version and name, so the two schemas cannot drift apart.
func TestMigrationsPaired(t *testing.T) {
	names := func(dir string) []string {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".sql") {
				out = append(out, e.Name())
			}
		}
		return out
	}
	lite, pg := names("migrations/sqlite"), names("migrations/postgres")
	if !slices.Equal(lite, pg) {
		t.Fatalf("migrations differ:\nsqlite   %q\npostgres %q\n(each sqlite migration needs a postgres twin of the same name)", lite, pg)
	}
}

// TestPostgresReplicasMigrateTogether: replicas starting at the same time
// on a fresh database take turns migrating, and all come up.
func TestPostgresReplicasMigrateTogether(t *testing.T) {
	url := storetest.URL(t, storetest.Postgres)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := store.Open(context.Background(), url)
			if err == nil {
				err = s.Ping(context.Background())
				s.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
}

func TestPostgresReopenKeepsData(t *testing.T) {
	url := storetest.URL(t, storetest.Postgres)
	ctx := context.Background()
	s, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateVideo(ctx, store.Video{ID: "a", Slug: "b", RecordingID: "c", State: store.StateUploading}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Video(ctx, "a"); err != nil {
		t.Fatal(err)
	}
}

func TestOpenPostgresKeepsPasswordOut(t *testing.T) {
	for _, u := range []string{
		"postgres://framecast:hunter2@127.0.0.1:1/nope?sslmode=disable", // nothing listens
		"postgres://framecast:hunter2@127.0.0.1:5432/nope?sslmode=bogus",
	} {
		_, err := store.Open(context.Background(), u)
		if err == nil {
			t.Fatalf("Open(%s) succeeded", u)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}
