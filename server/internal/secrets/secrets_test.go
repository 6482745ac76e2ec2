package secrets

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestLoadOrCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "device-token")
	s1, created, err := LoadOrCreate(path, NewToken)
	if err != nil || !created || len(s1) != 43 {
		t.Fatalf("first = %q, %v, %v", s1, created, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v, %v; want 0600", fi.Mode(), err)
	}
	s2, created, err := LoadOrCreate(path, NewToken)
	if err != nil || created || s2 != s1 {
		t.Fatalf("second = %q, %v, %v; want the first secret", s2, created, err)
	}
}

func TestLoadOrCreateRace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kek")
	var (
		wg  sync.WaitGroup
		got = make([]string, 8)
	)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, _, err := LoadOrCreate(path, NewKEKHex)
			if err != nil {
				t.Error(err)
			}
			got[i] = s
		}()
	}
	wg.Wait()
	for _, s := range got {
		if s != got[0] {
			t.Fatalf("racing creators disagree: %q", got)
		}
	}
	if _, err := ParseKEK(got[0]); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("temp files left: %v", entries)
	}
}

func TestParseKEK(t *testing.T) {
	for _, bad := range []string{"", "zz", "00", NewKEKHex() + "00"} {
		if _, err := ParseKEK(bad); err == nil {
			t.Errorf("ParseKEK(%q) succeeded", bad)
		}
	}
}
