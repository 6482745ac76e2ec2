// Package blob stores immutable-ish byte objects under slash-separated keys,
// restic style: a small Store interface, one implementation per backend
// (Disk, S3), and one contract suite (blobtest) they all pass.
//
// A Put is atomic: readers see the old object or the whole new one, never a
// partial write. Keys are validated by every implementation with ValidKey,
// so a key can never name anything outside the store.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"time"
)

// ErrNotExist is returned (wrapped) for a key that holds no object.
var ErrNotExist = errors.New("blob does not exist")

// ErrInvalidKey is returned (wrapped) for a key ValidKey rejects.
var ErrInvalidKey = errors.New("invalid blob key")

// Info describes a stored object.
type Info struct {
	Key     string
	Size    int64
	ModTime time.Time
}

// Store is a blob backend.
type Store interface {
	// Put stores everything r yields under key, replacing any previous
	// object atomically. If r fails, nothing becomes visible.
	Put(ctx context.Context, key string, r io.Reader) error
	// Get opens the object for reading. The caller closes it.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// Stat describes the object.
	Stat(ctx context.Context, key string) (Info, error)
	// Delete removes the object. Deleting a missing key is not an error, so
	// a retried clean-up is harmless.
	Delete(ctx context.Context, key string) error
	// List yields every object whose key starts with prefix, in key order.
	// The prefix may end in the middle of a path element.
	List(ctx context.Context, prefix string) iter.Seq2[Info, error]
}

// MaxKeyLen bounds keys so they fit every backend's limits.
const MaxKeyLen = 512

// ValidKey reports whether key is acceptable: slash-separated elements of
// [A-Za-z0-9._-], none empty and none starting with a dot (so no "." or "..",
// and no name that could clash with a backend's own temp files).
func ValidKey(key string) error {
	if key == "" || len(key) > MaxKeyLen {
		return fmt.Errorf("%w: length %d", ErrInvalidKey, len(key))
	}
	for elem := range strings.SplitSeq(key, "/") {
		if err := validElem(elem); err != nil {
			return fmt.Errorf("%w %q: %v", ErrInvalidKey, key, err)
		}
	}
	return nil
}

// ValidPrefix reports whether prefix may be passed to List: empty, or a key
// with an optional trailing slash, or the beginning of a key.
func ValidPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	p := strings.TrimSuffix(prefix, "/")
	if p == "" || len(p) > MaxKeyLen {
		return fmt.Errorf("%w: prefix %q", ErrInvalidKey, prefix)
	}
	for elem := range strings.SplitSeq(p, "/") {
		if err := validElem(elem); err != nil {
			return fmt.Errorf("%w: prefix %q: %v", ErrInvalidKey, prefix, err)
		}
	}
	return nil
}

func validElem(elem string) error {
	if elem == "" {
		return errors.New("empty path element")
	}
	if elem[0] == '.' {
		return errors.New("path element starts with a dot")
	}
	for i := 0; i < len(elem); i++ {
		c := elem[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("character %q not allowed", c)
		}
	}
	return nil
}

// Open returns the Store a blob URL names: file:PATH, or
// s3://BUCKET[/PREFIX]?endpoint=...&region=...&secure=... signed with cred.
func Open(ctx context.Context, blobURL string, cred S3Credentials) (Store, error) {
	if rest, ok := strings.CutPrefix(blobURL, "file:"); ok {
		return NewDisk(strings.TrimPrefix(rest, "//"))
	}
	if strings.HasPrefix(blobURL, "s3:") {
		loc, err := ParseS3URL(blobURL)
		if err != nil {
			return nil, fmt.Errorf("open blob store: %w", err)
		}
		return NewS3(ctx, loc, cred)
	}
	return nil, fmt.Errorf("open blob store: unsupported URL %q (want file:PATH or s3://BUCKET?endpoint=HOST:PORT)", blobURL)
}
