package blob

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// PutFile stores the local file at path under key and removes it from
// path. On a Disk store on the same file system the file is moved
// (fsync, rename), not copied: large uploads and imported segments are
// written once. Elsewhere it is Put and then removed.
func PutFile(ctx context.Context, s Store, key, path string) error {
	if d, ok := s.(*Disk); ok {
		if err := d.adopt(key, path); err == nil {
			return nil
		}
		// Another file system (EXDEV) or a vanished temp dir: copy.
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("put blob %s: %w", key, err)
	}
	err = s.Put(ctx, key, f)
	f.Close()
	if err != nil {
		return err
	}
	return os.Remove(path)
}

// adopt moves a finished local file into the store under key, with the
// same durability as Put.
func (d *Disk) adopt(key, path string) error {
	dst, err := d.path(key)
	if err != nil {
		return fmt.Errorf("put blob: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	f.Close()
	if err != nil {
		return err
	}
	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.Rename(path, dst); err != nil {
		return err
	}
	return syncDir(dir)
}

// LocalPath is the file holding key when the store is a Disk, so a
// local program (ffmpeg) can read it in place; "" otherwise.
func LocalPath(s Store, key string) string {
	d, ok := s.(*Disk)
	if !ok {
		return ""
	}
	p, err := d.path(key)
	if err != nil {
		return ""
	}
	return p
}

// PutFileUnsynced is PutFile without the wait for the disk: on a Disk
// store the file is renamed into place and reaches the disk whenever the
// kernel writes it back, until Flush. For many files that are worth
// nothing until the last one is in (an imported video's segments), one
// Flush at the end costs far less than an fsync per file. Other stores
// are durable at once.
func PutFileUnsynced(ctx context.Context, s Store, key, path string) error {
	if d, ok := s.(*Disk); ok && canSyncFS {
		dst, err := d.path(key)
		if err != nil {
			return fmt.Errorf("put blob: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err == nil {
			if err := os.Rename(path, dst); err == nil {
				return nil
			}
		}
	}
	return PutFile(ctx, s, key, path)
}

// Flush makes everything put into a Disk store durable (syncfs of its
// file system); other stores need nothing.
func Flush(s Store) error {
	d, ok := s.(*Disk)
	if !ok {
		return nil
	}
	if !canSyncFS {
		return nil // PutFileUnsynced synced each file
	}
	if err := syncFS(d.root); err != nil {
		return fmt.Errorf("flush blobs: %w", err)
	}
	return nil
}
