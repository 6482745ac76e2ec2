// Package keystore keeps this device's key: the 256-bit key-encryption key
// that wraps every recording's data key while it waits on this machine. The
// key lives in the OS keychain; where there is none (a headless Linux box
// without a Secret Service on D-Bus) it lives in a 0600 file in the user's
// config folder instead.
//
// Losing the device key makes every queued recording unreadable, so the
// store never silently replaces a key it cannot reach: once a key has been
// created in the keychain, a marker file says so, and an unreachable
// keychain is then an error rather than a reason to make a new key.
package keystore

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"framecast.dev/shared/seal"
	"github.com/zalando/go-keyring"
)

// Backend says where the device key is kept.
type Backend string

const (
	// Auto uses the keychain when it answers and the key file otherwise.
	Auto Backend = ""
	// Keychain is the OS keychain (Keychain, Credential Manager, Secret Service).
	Keychain Backend = "keychain"
	// File is the 0600 key file in the store's folder.
	File Backend = "file"
)

const (
	keyFileName    = "device.key"
	markerFileName = "device.key.keychain"
	lockFileName   = "device.key.lock"
	keychainUser   = "device-key"
	// A keychain behind D-Bus can hang while a service is being activated;
	// past this the keychain counts as missing.
	keychainTimeout = 5 * time.Second
	lockStale       = 30 * time.Second
	lockWait        = 15 * time.Second
)

// KeychainService is the service name the key is filed under in the keychain.
var KeychainService = "framecast"

var (
	// ErrInsecureKeyFile means the key file can be read by other users.
	ErrInsecureKeyFile = errors.New("device key file is readable by other users")
	// ErrBadKeyFile means the key file does not hold a 32-byte key.
	ErrBadKeyFile = errors.New("device key file is damaged")
	// ErrKeychainUnavailable means the key is in a keychain that does not answer.
	ErrKeychainUnavailable = errors.New("the OS keychain holding the device key is not available")
	// ErrKeyMissing means the keychain answered but no longer holds the key.
	ErrKeyMissing = errors.New("the device key is missing from the OS keychain")
)

// fallbackWarned makes the "no keychain" warning appear once per process.
var fallbackWarned sync.Once

// Store hands out the device key, creating it on first use.
type Store struct {
	dir     string
	backend Backend // as asked for

	mu sync.Mutex
	// key is behind a pointer so that printing a Store with %v shows an
	// address: fmt does not call Key's redacting methods on unexported fields.
	key   *seal.Key
	where Backend // where the key was found or put
}

// Open returns the store in dir (created 0700 if missing), choosing the
// keychain when it answers and the key file otherwise. The app passes
// settings.Dir(), the one folder for Framecast's local state.
func Open(dir string) (*Store, error) { return OpenWith(dir, Auto) }

// OpenWith is Open with the backend fixed. File never touches the keychain,
// which is what tests and headless tools want.
func OpenWith(dir string, backend Backend) (*Store, error) {
	switch backend {
	case Auto, Keychain, File:
	default:
		return nil, fmt.Errorf("keystore: unknown backend %q", backend)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("keystore: create %s: %w", dir, err)
	}
	return &Store{dir: dir, backend: backend}, nil
}

// Backend reports where the device key is kept. It is empty until
// DeviceKey has succeeded once.
func (s *Store) Backend() Backend {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.where
}

// DeviceKey returns the device key, creating and storing it on first use.
func (s *Store) DeviceKey() (seal.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.key != nil {
		return *s.key, nil
	}
	key, where, err := s.load()
	if err == nil && !found(where) {
		key, where, err = s.create()
	}
	if err != nil {
		return seal.Key{}, fmt.Errorf("keystore: %w", err)
	}
	s.key, s.where = &key, where
	return key, nil
}

// WrapDataKey wraps a recording's data key under the device key. purpose
// names what the key belongs to and must be given again to unwrap it.
func (s *Store) WrapDataKey(dek seal.Key, purpose string) ([]byte, error) {
	kek, err := s.DeviceKey()
	if err != nil {
		return nil, err
	}
	w, err := seal.WrapKey(kek, dek, purpose)
	if err != nil {
		return nil, fmt.Errorf("wrap data key for %q: %w", purpose, err)
	}
	return w, nil
}

// UnwrapDataKey opens a data key wrapped by WrapDataKey.
func (s *Store) UnwrapDataKey(wrapped []byte, purpose string) (seal.Key, error) {
	kek, err := s.DeviceKey()
	if err != nil {
		return seal.Key{}, err
	}
	dek, err := seal.UnwrapKey(kek, wrapped, purpose)
	if err != nil {
		return seal.Key{}, fmt.Errorf("unwrap data key with this device's key: %w", err)
	}
	return dek, nil
}

func found(b Backend) bool { return b != "" }

// load finds an existing key. The key file wins over the keychain: a file
// only exists because the keychain was unusable when the key was made, and
// keys wrapped since then are wrapped with it.
func (s *Store) load() (seal.Key, Backend, error) {
	key, err := readKeyFile(s.path(keyFileName))
	switch {
	case err == nil:
		return key, File, nil
	case !errors.Is(err, os.ErrNotExist):
		return seal.Key{}, "", err
	}
	if _, err := os.Stat(s.path(markerFileName)); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return seal.Key{}, "", nil
		}
		return seal.Key{}, "", fmt.Errorf("check %s: %w", s.path(markerFileName), err)
	}
	if s.backend == File {
		// A new key file here would shadow the keychain's key for good.
		return seal.Key{}, "", fmt.Errorf("%w: %s says the key is in the OS keychain, but this store was opened to use only the key file",
			ErrKeychainUnavailable, s.path(markerFileName))
	}
	key, err = keychainGet()
	switch {
	case err == nil:
		return key, Keychain, nil
	case errors.Is(err, keyring.ErrNotFound):
		return seal.Key{}, "", fmt.Errorf("%w (service %q, account %q); recordings still queued on this device cannot be opened. Remove %s to start over with a new key",
			ErrKeyMissing, KeychainService, keychainUser, s.path(markerFileName))
	default:
		return seal.Key{}, "", fmt.Errorf("%w: %v; unlock the keychain or start its service, then try again", ErrKeychainUnavailable, err)
	}
}

// create makes the key under a lock file, so two processes starting at once
// (the app and the CLI) cannot each make one and lose the other's.
func (s *Store) create() (seal.Key, Backend, error) {
	unlock, err := s.lock()
	if err != nil {
		return seal.Key{}, "", err
	}
	defer unlock()
	if key, where, err := s.load(); err != nil || found(where) {
		return key, where, err
	}

	if s.backend != File {
		key, err := keychainGet()
		switch {
		case err == nil:
			// The key survived while the config folder did not.
			return key, Keychain, s.writeMarker()
		case errors.Is(err, keyring.ErrNotFound):
			key = seal.NewKey()
			if err = keychainSet(key); err == nil {
				return key, Keychain, s.writeMarker()
			}
		}
		if s.backend == Keychain {
			return seal.Key{}, "", fmt.Errorf("%w: %v", ErrKeychainUnavailable, err)
		}
		fallbackWarned.Do(func() {
			slog.Warn("no usable OS keychain; keeping the device key in a file readable only by you",
				"file", s.path(keyFileName), "keychain_error", err.Error())
		})
	}
	key := seal.NewKey()
	if err := writeKeyFile(s.dir, s.path(keyFileName), key); err != nil {
		return seal.Key{}, "", err
	}
	// Another process may have won the race outside our lock (a stale lock
	// taken over); the file on disk is the truth.
	key, err = readKeyFile(s.path(keyFileName))
	return key, File, err
}

func (s *Store) path(name string) string { return filepath.Join(s.dir, name) }

func (s *Store) writeMarker() error {
	text := fmt.Sprintf("This device's Framecast key is in the OS keychain (service %q, account %q).\nDeleting this file does not delete the key.\n", KeychainService, keychainUser)
	if err := os.WriteFile(s.path(markerFileName), []byte(text), 0o600); err != nil {
		return fmt.Errorf("record that the key is in the keychain: %w", err)
	}
	return syncDir(s.dir)
}

func (s *Store) lock() (unlock func(), err error) {
	path := s.path(lockFileName)
	deadline := time.Now().Add(lockWait)
	for {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			f.Close()
			return func() { os.Remove(path) }, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		// A process killed while creating the key leaves its lock behind;
		// creating takes milliseconds, so an old lock is a dead one.
		if st, err := os.Stat(path); err == nil && time.Since(st.ModTime()) > lockStale {
			os.Remove(path)
			continue
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("lock %s: still held after %s; if no other Framecast is running, delete it", path, lockWait)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func readKeyFile(path string) (seal.Key, error) {
	f, err := os.Open(path)
	if err != nil {
		return seal.Key{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return seal.Key{}, fmt.Errorf("stat %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return seal.Key{}, fmt.Errorf("%s is not a regular file: %w", path, ErrBadKeyFile)
	}
	// Windows has no such mode bits; the file sits in the user's profile.
	if runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
		return seal.Key{}, fmt.Errorf("%s has mode %04o: %w; run: chmod 600 %s", path, st.Mode().Perm(), ErrInsecureKeyFile, path)
	}
	var key seal.Key
	if st.Size() != int64(len(key)) {
		return seal.Key{}, fmt.Errorf("%s holds %d bytes, want %d: %w", path, st.Size(), len(key), ErrBadKeyFile)
	}
	if _, err := io.ReadFull(f, key[:]); err != nil {
		return seal.Key{}, fmt.Errorf("read %s: %w", path, err)
	}
	return key, nil
}

// writeKeyFile publishes the key with a hard link, which never replaces an
// existing file: a key that anything was wrapped with is never overwritten.
func writeKeyFile(dir, path string, key seal.Key) error {
	tmp, err := os.CreateTemp(dir, keyFileName+".tmp-*")
	if err != nil {
		return fmt.Errorf("create key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(key[:]) // CreateTemp made it 0600
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("publish key file %s: %w", path, err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be opened for sync there; NTFS journals renames
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// keychainGet and keychainSet give up after keychainTimeout; the call may
// finish later in the background, which is harmless: a late Set leaves a
// key nobody reads, because the key file is made and wins.
func keychainGet() (seal.Key, error) {
	type result struct {
		s   string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		s, err := keyring.Get(KeychainService, keychainUser)
		ch <- result{s, err}
	}()
	var r result
	select {
	case r = <-ch:
	case <-time.After(keychainTimeout):
		return seal.Key{}, fmt.Errorf("keychain did not answer within %s", keychainTimeout)
	}
	if r.err != nil {
		return seal.Key{}, r.err
	}
	var key seal.Key
	b, err := hex.DecodeString(r.s)
	if err != nil || len(b) != len(key) {
		return seal.Key{}, fmt.Errorf("keychain entry %q/%q is not a 32-byte hex key", KeychainService, keychainUser)
	}
	copy(key[:], b)
	return key, nil
}

func keychainSet(key seal.Key) error {
	ch := make(chan error, 1)
	go func() { ch <- keyring.Set(KeychainService, keychainUser, hex.EncodeToString(key[:])) }()
	select {
	case err := <-ch:
		return err
	case <-time.After(keychainTimeout):
		return fmt.Errorf("keychain did not answer within %s", keychainTimeout)
	}
}
