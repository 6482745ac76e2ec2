//go:build linux

package autostart

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Turning it on writes an XDG autostart entry whose Exec line, read back
// as the desktop reads it, runs the program; turning it off removes it.
func TestLinuxEntryStartsTheProgram(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	// A path with a space and a quote: the Exec line must keep it whole.
	exe := filepath.Join(t.TempDir(), `my "apps"`, "framecast")
	if err := os.MkdirAll(filepath.Dir(exe), 0o755); err != nil {
		t.Fatal(err)
	}
	mark := filepath.Join(t.TempDir(), "ran")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\ntouch '"+mark+"'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if on, _ := Enabled(); on {
		t.Fatal("enabled before Set")
	}
	if err := Set(true, exe); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(cfg, "autostart", "framecast.desktop")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no autostart entry: %v", err)
	}
	if on, err := Enabled(); !on || err != nil {
		t.Fatalf("Enabled = %v, %v", on, err)
	}
	var execLine string
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Exec="); ok {
			execLine = v
		}
	}
	if !strings.HasPrefix(string(b), "[Desktop Entry]\n") || !strings.Contains(string(b), "Type=Application\n") || execLine == "" {
		t.Fatalf("entry:\n%s", b)
	}
	// The spec's quoting is the shell's double quotes (field codes aside),
	// so sh runs the line as a session would.
	if out, err := exec.Command("sh", "-c", strings.ReplaceAll(execLine, "%%", "%")).CombinedOutput(); err != nil {
		t.Fatalf("Exec=%s: %v %s", execLine, err, out)
	}
	if _, err := os.Stat(mark); err != nil {
		t.Fatalf("the Exec line did not run the program: %v", err)
	}
	if err := Set(false, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("entry still there after turning it off: %v", err)
	}
	if err := Set(false, ""); err != nil {
		t.Fatalf("turning off twice: %v", err)
	}
}
