// Package secrets keeps the server's generated secrets (device token, key-
// encryption key) in files of the data dir, created once with mode 0600.
package secrets

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// LoadOrCreate returns the secret stored in path, creating it with gen if
// the file does not exist. created tells the caller to say where it is.
// Creation is atomic and race-free: two servers starting on one data dir
// end up with the same secret.
func LoadOrCreate(path string, gen func() string) (secret string, created bool, err error) {
	b, err := os.ReadFile(path)
	if err == nil {
		s := strings.TrimSpace(string(b))
		if s == "" {
			return "", false, fmt.Errorf("secret file %s is empty; delete it to generate a new one", path)
		}
		return s, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", false, fmt.Errorf("read secret: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", false, fmt.Errorf("create secret: %w", err)
	}
	s := gen()
	tmp, err := os.CreateTemp(dir, ".secret-*")
	if err != nil {
		return "", false, fmt.Errorf("create secret: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return "", false, fmt.Errorf("create secret: %w", err)
	}
	if _, err := tmp.WriteString(s + "\n"); err != nil {
		tmp.Close()
		return "", false, fmt.Errorf("create secret: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", false, fmt.Errorf("create secret: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", false, fmt.Errorf("create secret: %w", err)
	}
	// Link, unlike rename, fails if another process created the file
	// first; then its secret wins.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return LoadOrCreate(path, gen)
		}
		return "", false, fmt.Errorf("create secret: %w", err)
	}
	return s, true, nil
}

// NewToken returns a random bearer token (256 bits, base64url).
func NewToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// NewID returns a random 128-bit id in lower-case base32 (26 characters):
// unguessable, and safe in URLs and file names.
func NewID() string { return Random(16) }

// Random returns n random bytes in lower-case unpadded base32: ids, slugs
// and link tokens.
func Random(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// Hash is what the store keeps of a bearer secret: its SHA-256, in hex.
// Secrets are 256 random bits, so no salt or slow hash is needed.
func Hash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// NewKEKHex returns a random 256-bit key as 64 hex digits.
func NewKEKHex() string {
	var k [32]byte
	rand.Read(k[:])
	return hex.EncodeToString(k[:])
}

// ParseKEK decodes 64 hex digits into a key.
func ParseKEK(s string) ([32]byte, error) {
	var k [32]byte
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != len(k) {
		return k, errors.New("key-encryption key: want 64 hex digits")
	}
	copy(k[:], b)
	return k, nil
}
