package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Disk is a Store in a local directory. A key maps to the file of the same
// relative path; temp files live in root/.tmp, which no valid key can name.
type Disk struct {
	root string
}

var _ Store = (*Disk)(nil)

const tmpDir = ".tmp"

// NewDisk uses dir (created if missing) as the store's root.
func NewDisk(dir string) (*Disk, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("disk blob store %s: %w", dir, err)
	}
	if err := os.MkdirAll(filepath.Join(abs, tmpDir), 0o700); err != nil {
		return nil, fmt.Errorf("disk blob store: %w", err)
	}
	return &Disk{root: abs}, nil
}

// Root is the directory the store lives in.
func (d *Disk) Root() string { return d.root }

func (d *Disk) path(key string) (string, error) {
	if err := ValidKey(key); err != nil {
		return "", err
	}
	return filepath.Join(d.root, filepath.FromSlash(key)), nil
}

func (d *Disk) Put(ctx context.Context, key string, r io.Reader) (err error) {
	dst, err := d.path(key)
	if err != nil {
		return fmt.Errorf("put blob: %w", err)
	}
	f, err := os.CreateTemp(filepath.Join(d.root, tmpDir), "put-*")
	if err != nil {
		return fmt.Errorf("put blob %s: %w", key, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err := io.Copy(f, ctxReader{ctx, r}); err != nil {
		return fmt.Errorf("put blob %s: %w", key, err)
	}
	// fsync before rename: otherwise a crash can leave the new name
	// pointing at an empty or partial file.
	if err := f.Sync(); err != nil {
		return fmt.Errorf("put blob %s: sync: %w", key, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("put blob %s: %w", key, err)
	}
	dir := filepath.Dir(dst)
	// A concurrent Delete may remove the directory, emptied, between
	// MkdirAll and Rename; then make it again.
	for attempt := 0; ; attempt++ {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("put blob %s: %w", key, err)
		}
		err := os.Rename(f.Name(), dst)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) || attempt == 10 {
			return fmt.Errorf("put blob %s: %w", key, err)
		}
	}
	// The rename is only durable once the directory entry is.
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("put blob %s: %w", key, err)
	}
	return nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}

func (d *Disk) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, fmt.Errorf("get blob: %w", err)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("get blob %s: %w", key, notExist(err))
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("get blob %s: %w", key, ErrNotExist)
	}
	return f, nil
}

func (d *Disk) Stat(ctx context.Context, key string) (Info, error) {
	p, err := d.path(key)
	if err != nil {
		return Info{}, fmt.Errorf("stat blob: %w", err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		return Info{}, fmt.Errorf("stat blob %s: %w", key, notExist(err))
	}
	if !fi.Mode().IsRegular() {
		return Info{}, fmt.Errorf("stat blob %s: %w", key, ErrNotExist)
	}
	return Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

func (d *Disk) Delete(ctx context.Context, key string) error {
	p, err := d.path(key)
	if err != nil {
		return fmt.Errorf("delete blob: %w", err)
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete blob %s: %w", key, err)
	}
	// Empty parent directories go too: their names are ids (a deleted
	// video's, a deleted user's) that must not outlive the data. Removing
	// a directory that is not empty fails, which stops the climb; a Put
	// racing with this makes its directory again.
	for dir := filepath.Dir(p); dir != d.root && strings.HasPrefix(dir, d.root+string(filepath.Separator)); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			break
		}
	}
	return nil
}

func (d *Disk) List(ctx context.Context, prefix string) iter.Seq2[Info, error] {
	return func(yield func(Info, error) bool) {
		if err := ValidPrefix(prefix); err != nil {
			yield(Info{}, fmt.Errorf("list blobs: %w", err))
			return
		}
		// Walk only the deepest directory the prefix fully names.
		start := d.root
		if i := strings.LastIndex(prefix, "/"); i >= 0 {
			start = filepath.Join(d.root, filepath.FromSlash(prefix[:i]))
		}
		var found []Info
		err := filepath.WalkDir(start, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			rel, err := filepath.Rel(d.root, p)
			if err != nil {
				return err
			}
			key := filepath.ToSlash(rel)
			if e.IsDir() {
				if p != start && (e.Name()[0] == '.' || !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/")) {
					return fs.SkipDir
				}
				return nil
			}
			if !e.Type().IsRegular() || !strings.HasPrefix(key, prefix) || ValidKey(key) != nil {
				return nil
			}
			fi, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				return nil // deleted while we walked
			}
			if err != nil {
				return err
			}
			found = append(found, Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime()})
			return nil
		})
		if err != nil {
			yield(Info{}, fmt.Errorf("list blobs %q: %w", prefix, err))
			return
		}
		// WalkDir orders by file name per directory, which is not key
		// order when one name is a prefix of another ("a/b" vs "a-c").
		slices.SortFunc(found, func(a, b Info) int { return strings.Compare(a.Key, b.Key) })
		for _, info := range found {
			if !yield(info, nil) {
				return
			}
		}
	}
}

func notExist(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNotExist
	}
	return err
}

// ctxReader stops a long copy when the context is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
