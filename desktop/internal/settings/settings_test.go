package settings

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestDefaultsWhenNothingSaved(t *testing.T) {
	t.Setenv("FRAMECAST_SERVER_URL", "")
	got, err := NewStore(t.TempDir()).Load()
	if err != nil || got.ServerURL != DefaultServerURL {
		t.Fatalf("Load = %+v, %v", got, err)
	}
}

func TestSaveThenLoad(t *testing.T) {
	t.Setenv("FRAMECAST_SERVER_URL", "")
	dir := filepath.Join(t.TempDir(), "nested")
	s := NewStore(dir)
	if err := s.Save(Settings{ServerURL: " https://cast.example.com/ "}); err != nil {
		t.Fatal(err)
	}
	got, err := NewStore(dir).Load()
	if err != nil || got.ServerURL != "https://cast.example.com" {
		t.Fatalf("Load = %+v, %v", got, err)
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("settings dir mode = %v, %v", fi.Mode(), err)
	}
}

func TestSaveRefusesBadAddressAndKeepsOld(t *testing.T) {
	t.Setenv("FRAMECAST_SERVER_URL", "")
	s := NewStore(t.TempDir())
	if err := s.Save(Settings{ServerURL: "http://good.example"}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "good.example", "ftp://x.example", "http://x.example/?q=1"} {
		if err := s.Save(Settings{ServerURL: bad}); err == nil {
			t.Errorf("Save(%q) succeeded", bad)
		}
	}
	got, _ := s.Load()
	if got.ServerURL != "http://good.example" {
		t.Fatalf("a refused save changed the settings: %+v", got)
	}
}

func TestEnvOverridesServer(t *testing.T) {
	t.Setenv("FRAMECAST_SERVER_URL", "http://127.0.0.1:9999")
	got, _ := NewStore(t.TempDir()).Load()
	if got.ServerURL != "http://127.0.0.1:9999" {
		t.Fatalf("got %+v", got)
	}
}

func TestDamagedFileIsReported(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "settings.json"), []byte("{nope"), 0o600)
	_, err := NewStore(dir).Load()
	if err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("err = %v", err)
	}
}

func TestDeviceToken(t *testing.T) {
	t.Setenv("FRAMECAST_DEVICE_TOKEN", "")
	t.Setenv("FRAMECAST_SERVER_URL", "")
	dir := t.TempDir()
	s := NewStore(dir)
	if tok, err := s.DeviceToken(); err != nil || tok != "" {
		t.Fatalf("DeviceToken before any = %q, %v", tok, err)
	}
	if err := s.SaveDeviceToken("short"); err == nil {
		t.Fatal("a 5-character token was accepted")
	}
	if err := s.SaveDeviceToken("has a space in it, long enough"); err == nil {
		t.Fatal("a token with spaces was accepted")
	}
	const tok = "0123456789abcdef0123"
	if err := s.SaveDeviceToken(" " + tok + "\n"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "settings.json"))
	if err != nil {
		t.Fatal(err)
	}
	// Windows has no such mode bits (the profile folder's ACL keeps other
	// users out); everywhere else the file must be the owner's alone.
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Fatalf("settings.json mode = %v; it holds the token and must be 0600", fi.Mode())
	}
	// Saving the settings the window edits keeps the token.
	if err := s.Save(Settings{ServerURL: "https://cast.example.com"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := NewStore(dir).DeviceToken(); got != tok {
		t.Fatalf("token after Save = %q", got)
	}
	// Settings, as the window gets them, do not carry it.
	got, _ := s.Load()
	if b, _ := json.Marshal(got); strings.Contains(string(b), tok) {
		t.Fatalf("Load hands the token to the window: %s", b)
	}
	t.Setenv("FRAMECAST_DEVICE_TOKEN", "from-the-environment-xyz")
	if got, _ := s.DeviceToken(); got != "from-the-environment-xyz" {
		t.Fatalf("env did not override: %q", got)
	}
	t.Setenv("FRAMECAST_DEVICE_TOKEN", "")
	if err := s.SaveDeviceToken(""); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.DeviceToken(); got != "" {
		t.Fatalf("token after removing = %q", got)
	}
}

func TestChoicesRoundTripAndBadOnesAreRefused(t *testing.T) {
	t.Setenv("FRAMECAST_SERVER_URL", "")
	s := NewStore(t.TempDir())
	want := Settings{ServerURL: "http://good.example", Display: 1, Region: &Region{X: 10, Y: 20, Width: 640, Height: 360},
		Mic: "none", SystemAudio: true, SystemAudioDevice: "sink.monitor", MaxHeight: 720, FPS: 60,
		StartAtLogin: true, Tracking: "anonymous", Theme: "dark"}
	if err := s.Save(want); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got.Region == nil || *got.Region != *want.Region || got.Mic != "none" || !got.SystemAudio || got.MaxHeight != 720 ||
		got.FPS != 60 || !got.StartAtLogin || got.Tracking != "anonymous" || got.Theme != "dark" || got.Display != 1 {
		t.Fatalf("Load = %+v, want %+v", got, want)
	}
	for name, bad := range map[string]Settings{
		"fps":      {ServerURL: "http://good.example", FPS: 7},
		"height":   {ServerURL: "http://good.example", MaxHeight: 333},
		"tracking": {ServerURL: "http://good.example", Tracking: "some"},
		"theme":    {ServerURL: "http://good.example", Theme: "pink"},
		"region":   {ServerURL: "http://good.example", Region: &Region{Width: 3, Height: 300}},
		"display":  {ServerURL: "http://good.example", Display: -1},
	} {
		if err := s.Save(bad); err == nil {
			t.Errorf("Save with a bad %s succeeded", name)
		}
	}
	if got, _ := s.Load(); got.FPS != 60 {
		t.Fatalf("a refused save changed the settings: %+v", got)
	}
}
