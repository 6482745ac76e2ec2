package keystore

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"framecast.dev/shared/seal"
	"framecast.dev/shared/testenv"
	"github.com/zalando/go-keyring"
)

func fileStore(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := OpenWith(dir, File)
	if err != nil {
		t.Fatalf("OpenWith: %v", err)
	}
	return s
}

func TestFileBackendCreatesOnceAndReloads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "framecast")
	s := fileStore(t, dir)
	k1, err := s.DeviceKey()
	if err != nil {
		t.Fatal(err)
	}
	if k1 == (seal.Key{}) {
		t.Fatal("device key is all zeros")
	}
	if s.Backend() != File {
		t.Fatalf("Backend() = %q, want file", s.Backend())
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, keyFileName): 0o600} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s has mode %04o, want %04o", path, st.Mode().Perm(), want)
		}
	}
	k2, err := fileStore(t, dir).DeviceKey()
	if err != nil || k2 != k1 {
		t.Fatalf("a second store on the same folder got another key (%v)", err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, "*.tmp-*"))
	if _, err := os.Stat(filepath.Join(dir, lockFileName)); err == nil || len(leftovers) > 0 {
		t.Fatalf("lock or temp files left behind: %v", leftovers)
	}
}

func TestKeyFileWithWrongPermissions(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, keyFileName)
	if err := os.WriteFile(path, make([]byte, 32), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o644) // past the umask
	_, err := fileStore(t, dir).DeviceKey()
	if !errors.Is(err, ErrInsecureKeyFile) || !strings.Contains(err.Error(), "chmod 600 "+path) {
		t.Fatalf("error %v, want ErrInsecureKeyFile saying how to fix it", err)
	}
}

func TestKeyFileWithWrongContent(t *testing.T) {
	for name, content := range map[string][]byte{
		"empty":    {},
		"short":    make([]byte, 31),
		"long":     make([]byte, 33),
		"hex text": []byte(strings.Repeat("ab", 32)),
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, keyFileName), content, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := fileStore(t, dir).DeviceKey()
		if !errors.Is(err, ErrBadKeyFile) {
			t.Errorf("%s: error %v, want ErrBadKeyFile", name, err)
		}
		if got, _ := os.ReadFile(filepath.Join(dir, keyFileName)); !bytes.Equal(got, content) {
			t.Errorf("%s: the damaged key file was replaced", name)
		}
	}
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, keyFileName), 0o700)
	if _, err := fileStore(t, dir).DeviceKey(); !errors.Is(err, ErrBadKeyFile) {
		t.Errorf("key path is a folder: error %v, want ErrBadKeyFile", err)
	}
}

func TestWrapDataKey(t *testing.T) {
	s := fileStore(t, t.TempDir())
	dek := seal.NewKey()
	wrapped, err := s.WrapDataKey(dek, "recording a")
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.UnwrapDataKey(wrapped, "recording a")
	if err != nil || got != dek {
		t.Fatalf("UnwrapDataKey: %v", err)
	}
	if _, err := s.UnwrapDataKey(wrapped, "recording b"); !errors.Is(err, seal.ErrTampered) {
		t.Errorf("other purpose: %v, want seal.ErrTampered", err)
	}
	other := fileStore(t, t.TempDir())
	if _, err := other.UnwrapDataKey(wrapped, "recording a"); !errors.Is(err, seal.ErrTampered) {
		t.Errorf("another device: %v, want seal.ErrTampered", err)
	}
}

// Stores racing on one folder stand in for the app and the CLI starting
// together: they must all end up with one key.
func TestConcurrentCreateGivesOneKey(t *testing.T) {
	dir := t.TempDir()
	keys := make([]seal.Key, 8)
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() { keys[i], errs[i] = fileStore(t, dir).DeviceKey() })
	}
	wg.Wait()
	for i := range keys {
		if errs[i] != nil || keys[i] != keys[0] {
			t.Fatalf("store %d: different key or error %v", i, errs[i])
		}
	}
}

func TestStaleLockIsTakenOver(t *testing.T) {
	dir := t.TempDir()
	lock := filepath.Join(dir, lockFileName)
	os.WriteFile(lock, nil, 0o600)
	old := time.Now().Add(-2 * lockStale)
	os.Chtimes(lock, old, old)
	if _, err := fileStore(t, dir).DeviceKey(); err != nil {
		t.Fatalf("stale lock: %v", err)
	}
}

// captureLog points slog's default logger at a buffer for one test.
func captureLog(t *testing.T) *bytes.Buffer {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	return &buf
}

// TestHeadlessFallsBackToFile is the headless Linux case for real: first no
// session bus at all, then a real D-Bus session bus on which no Secret
// Service runs. Both must fall back to the key file with one warning, and
// the key must never show up in the log.
func TestHeadlessFallsBackToFile(t *testing.T) {
	fallbackWarned = sync.Once{}
	logged := captureLog(t)

	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	s1, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	k1, err := s1.DeviceKey()
	if err != nil {
		t.Fatalf("no session bus: %v", err)
	}
	if s1.Backend() != File {
		t.Fatalf("no session bus: backend %q, want file", s1.Backend())
	}

	t.Setenv("DBUS_SESSION_BUS_ADDRESS", startSessionBus(t))
	s2, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	k2, err := s2.DeviceKey()
	if err != nil {
		t.Fatalf("bus without Secret Service: %v", err)
	}
	if s2.Backend() != File {
		t.Fatalf("bus without Secret Service: backend %q, want file", s2.Backend())
	}

	out := logged.String()
	if n := strings.Count(out, "no usable OS keychain"); n != 1 {
		t.Errorf("fallback warning logged %d times, want once:\n%s", n, out)
	}
	for _, k := range []seal.Key{k1, k2} {
		if strings.Contains(out, hex.EncodeToString(k[:])) {
			t.Fatal("the device key reached the log")
		}
	}
}

// startSessionBus runs a private dbus-daemon and returns its address.
func startSessionBus(t *testing.T) string {
	t.Helper()
	bin := testenv.Require(t, "dbus-daemon")
	sock := filepath.Join(t.TempDir(), "bus")
	addr := "unix:path=" + sock
	cmd := exec.Command(bin, "--session", "--nofork", "--nopidfile", "--address="+addr)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dbus-daemon: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(10 * time.Second); ; {
		if _, err := os.Stat(sock); err == nil {
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("dbus-daemon did not create %s within 10s: %s", sock, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

const keychainChildEnv = "FRAMECAST_KEYSTORE_KEYCHAIN_CHILD"

// TestKeychainBackend checks which key wins when keychain, marker and key
// file disagree. There is no keychain on a headless test machine, so it
// uses go-keyring's own in-memory provider; that swaps a global for the
// whole process, so the checks run in a child process of their own.
func TestKeychainBackend(t *testing.T) {
	if os.Getenv(keychainChildEnv) == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKeychainBackend$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), keychainChildEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !bytes.Contains(out, []byte("--- PASS: TestKeychainBackend")) {
			t.Fatalf("keychain child: %v\n%s", err, out)
		}
		return
	}
	keyring.MockInit()
	dir := t.TempDir()

	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	k, err := s.DeviceKey()
	if err != nil {
		t.Fatal(err)
	}
	if s.Backend() != Keychain {
		t.Fatalf("backend %q, want keychain", s.Backend())
	}
	if _, err := os.Stat(filepath.Join(dir, markerFileName)); err != nil {
		t.Fatalf("no marker after creating the key in the keychain: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, keyFileName)); err == nil {
		t.Fatal("a key file was written although the keychain worked")
	}
	again, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if k2, err := again.DeviceKey(); err != nil || k2 != k {
		t.Fatalf("reload from keychain: other key or %v", err)
	}

	// The config folder is lost but the keychain kept the key: reuse it.
	fresh, _ := Open(t.TempDir())
	if k3, err := fresh.DeviceKey(); err != nil || k3 != k {
		t.Fatalf("keychain key not reused for a fresh folder (%v)", err)
	}

	// A key file beats the keychain: it only exists because keys were
	// wrapped with it while the keychain was not usable.
	withFile := t.TempDir()
	fk := seal.NewKey()
	if err := os.WriteFile(filepath.Join(withFile, keyFileName), fk[:], 0o600); err != nil {
		t.Fatal(err)
	}
	fs, _ := Open(withFile)
	if got, err := fs.DeviceKey(); err != nil || got != fk || fs.Backend() != File {
		t.Fatalf("key file did not win over the keychain (%v)", err)
	}

	// The keychain lost the key: say so, never make a new one.
	if err := keyring.Delete(KeychainService, keychainUser); err != nil {
		t.Fatal(err)
	}
	lost, _ := Open(dir)
	if _, err := lost.DeviceKey(); !errors.Is(err, ErrKeyMissing) {
		t.Fatalf("key gone from keychain: error %v, want ErrKeyMissing", err)
	}

	// The keychain is locked or its service is down: an error, no new key.
	keyring.MockInitWithError(errors.New("secret service is locked"))
	down, _ := Open(dir)
	if _, err := down.DeviceKey(); !errors.Is(err, ErrKeychainUnavailable) {
		t.Fatalf("keychain down: error %v, want ErrKeychainUnavailable", err)
	}
	if _, err := os.Stat(filepath.Join(dir, keyFileName)); err == nil {
		t.Fatal("a new key file was made while the keychain holding the key was down")
	}
	// With no key anywhere yet, a keychain that fails falls back to a file.
	fallbackWarned = sync.Once{}
	logged := captureLog(t)
	nokc, _ := Open(t.TempDir())
	if _, err := nokc.DeviceKey(); err != nil || nokc.Backend() != File {
		t.Fatalf("no keychain and no key: backend %q, %v", nokc.Backend(), err)
	}
	if !strings.Contains(logged.String(), "no usable OS keychain") {
		t.Fatalf("no fallback warning: %s", logged)
	}
	fileOnly, _ := OpenWith(dir, File)
	if _, err := fileOnly.DeviceKey(); !errors.Is(err, ErrKeychainUnavailable) {
		t.Fatalf("file-only store on a folder whose key is in the keychain: error %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, keyFileName)); err == nil {
		t.Fatal("a file-only store made a key file that shadows the keychain's key")
	}
	forced, _ := OpenWith(t.TempDir(), Keychain)
	if _, err := forced.DeviceKey(); !errors.Is(err, ErrKeychainUnavailable) {
		t.Fatalf("keychain forced and down: error %v", err)
	}
}

func TestPrintingTheStoreShowsNoKey(t *testing.T) {
	s := fileStore(t, t.TempDir())
	k, err := s.DeviceKey()
	if err != nil {
		t.Fatal(err)
	}
	logged := captureLog(t)
	slog.Info("store", "s", s)
	out := fmt.Sprintf("%v %+v %#v", s, s, s) + logged.String()
	if strings.Contains(out, hex.EncodeToString(k[:])) || strings.Contains(out, fmt.Sprint(k[:])) {
		t.Fatalf("printing a Store shows its key: %s", out)
	}
}
