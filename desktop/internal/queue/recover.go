package queue

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"framecast.dev/shared/api"
	"framecast.dev/shared/seal"
)

// RecoverReport says what Recover found and did.
type RecoverReport struct {
	Requeued     int                // segments interrupted mid-upload, queued again
	TempRemoved  int                // half-written temp files deleted
	Adopted      int                // complete sealed files without a row, verified and queued
	Discarded    int                // sealed files without a row that did not verify, deleted
	Orphans      int                // folders or files of recordings the database does not know, deleted
	PlainQueued  int                // plaintext segments of interrupted recordings, queued
	PlainRemoved int                // plaintext left behind by segments already queued, deleted
	Closed       []seal.RecordingID // interrupted recordings, now finished
	Missing      []string           // sealed files of waiting segments that are gone
}

// Recover finishes what a crash interrupted. Call it once at start-up,
// before any recording begins: it takes every recording still in the
// "recording" state as interrupted.
//
//   - Temp files are deleted: their plaintext is still there.
//   - A sealed file without a row is complete (it was fsynced before its
//     rename), so it is verified with the recording's key and adopted; its
//     plaintext, if still there, is deleted. One that does not verify is
//     deleted, and its plaintext queued again below. Adopting rather than
//     deleting keeps the segment even if its plaintext is already gone.
//   - In the plaintext folder of an interrupted recording, files of
//     segments already queued are deleted and the others are queued.
//   - The interrupted recording is then finished, with the duration it
//     last had, unless queueing one of its segments failed (it stays
//     "recording" and the next Recover tries again; its queued segments
//     upload meanwhile).
//   - Segments left "uploading" are queued again.
//
// It goes on past a failing file and returns every failure joined.
func (q *Queue) Recover(ctx context.Context) (RecoverReport, error) {
	q.addMu.Lock()
	defer q.addMu.Unlock()
	var rep RecoverReport
	var errs []error

	res, err := q.db.ExecContext(ctx, `UPDATE segments SET state = 'queued' WHERE state = 'uploading'`)
	if err != nil {
		return rep, fmt.Errorf("recover: requeue uploads: %w", err)
	}
	n, _ := res.RowsAffected()
	rep.Requeued = int(n)

	recs, err := q.ListRecordings(ctx)
	if err != nil {
		return rep, fmt.Errorf("recover: %w", err)
	}
	known := map[string]bool{}
	for _, r := range recs {
		known[r.ID.String()] = true
	}
	root := filepath.Join(q.dir, segmentsDir)
	entries, err := os.ReadDir(root)
	if err != nil {
		return rep, fmt.Errorf("recover: %w", err)
	}
	for _, e := range entries {
		if !known[e.Name()] {
			// No row, so no wrapped key: nothing in there can ever be opened.
			if err := os.RemoveAll(filepath.Join(root, e.Name())); err != nil {
				errs = append(errs, fmt.Errorf("recover: remove orphan %s: %w", e.Name(), err))
			}
			rep.Orphans++
		}
	}

	for _, r := range recs {
		if err := q.recoverSealed(ctx, r.ID, &rep); err != nil {
			errs = append(errs, fmt.Errorf("recover %s: %w", r.ID, err))
		}
		if err := q.recoverPlain(ctx, r, &rep); err != nil {
			errs = append(errs, fmt.Errorf("recover %s: %w", r.ID, err))
			continue
		}
		if r.State == StateRecording {
			if _, err := q.db.ExecContext(ctx, `UPDATE recordings SET state = 'finished' WHERE id = ? AND state = 'recording'`,
				r.ID.String()); err != nil {
				errs = append(errs, fmt.Errorf("recover: finish %s: %w", r.ID, err))
				continue
			}
			rep.Closed = append(rep.Closed, r.ID)
		}
	}

	for _, r := range recs {
		segs, err := q.Segments(ctx, r.ID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, s := range segs {
			if s.State == SegmentUploaded {
				continue
			}
			if _, err := os.Stat(s.Path); err != nil {
				rep.Missing = append(rep.Missing, s.Path)
				slog.Error("a queued segment's sealed file is gone; it cannot be uploaded",
					"recording", r.ID.String(), "segment", s.Index, "path", s.Path, "err", err)
			}
		}
	}
	return rep, errors.Join(errs...)
}

// indexesOf returns the indexes of a recording's rows.
func (q *Queue) indexesOf(ctx context.Context, id seal.RecordingID) (map[api.SegmentIndex]bool, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT idx FROM segments WHERE recording_id = ?`, id.String())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	have := map[api.SegmentIndex]bool{}
	for rows.Next() {
		var i api.SegmentIndex
		if err := rows.Scan(&i); err != nil {
			return nil, err
		}
		have[i] = true
	}
	return have, rows.Err()
}

// recoverSealed cleans the recording's sealed folder.
func (q *Queue) recoverSealed(ctx context.Context, id seal.RecordingID, rep *RecoverReport) error {
	dir := q.recordingDir(id)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	have, err := q.indexesOf(ctx, id)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		if strings.Contains(e.Name(), tmpMarker) {
			if err := os.Remove(path); err != nil {
				errs = append(errs, err)
			}
			rep.TempRemoved++
			continue
		}
		index, ok := parseSealedName(e.Name())
		if !ok || have[index] {
			continue
		}
		if err := q.adopt(ctx, id, index, path); err != nil {
			slog.Warn("deleting a sealed segment that does not verify", "recording", id.String(), "segment", index, "err", err)
			if err := os.Remove(path); err != nil {
				errs = append(errs, err)
			}
			rep.Discarded++
			continue
		}
		rep.Adopted++
	}
	return errors.Join(errs...)
}

// adopt verifies a complete sealed file and inserts its row.
func (q *Queue) adopt(ctx context.Context, id seal.RecordingID, index api.SegmentIndex, path string) error {
	dek, err := q.DataKey(ctx, id)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	counted := &countingWriter{w: h}
	plain, err := seal.Verify(io.TeeReader(f, counted), dek, id, index.SealIndex())
	if err != nil {
		return err
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	rel := filepath.ToSlash(filepath.Join(segmentsDir, id.String(), sealedName(index)))
	return q.insertSegment(ctx, id, index, plain, counted.n, sum, rel, 0)
}

// recoverPlain deletes plaintext of queued segments and, for an
// interrupted recording, queues the rest in index order.
func (q *Queue) recoverPlain(ctx context.Context, r Recording, rep *RecoverReport) error {
	var dir, pattern, init string
	var first int
	if err := q.db.QueryRowContext(ctx, `SELECT plain_dir, plain_pattern, plain_init, plain_first FROM recordings WHERE id = ?`,
		r.ID.String()).Scan(&dir, &pattern, &init, &first); err != nil {
		return err
	}
	if dir == "" {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	type plainFile struct {
		index api.SegmentIndex
		path  string
	}
	var files []plainFile
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if e.Name() == init {
			files = append(files, plainFile{api.InitSegment, filepath.Join(dir, e.Name())})
		} else if i, ok := parsePlainName(pattern, e.Name()); ok && i >= first && api.SegmentIndex(i-first).Valid() {
			files = append(files, plainFile{api.SegmentIndex(i - first), filepath.Join(dir, e.Name())})
		}
	}
	slices.SortFunc(files, func(a, b plainFile) int { return int(a.index - b.index) })
	have, err := q.indexesOf(ctx, r.ID)
	if err != nil {
		return err
	}
	var errs []error
	for _, f := range files {
		switch {
		case have[f.index]:
			if err := os.Remove(f.path); err != nil {
				errs = append(errs, err)
			}
			rep.PlainRemoved++
		case r.State == StateRecording:
			// The duration is unknown here; the uploader reads it from the
			// segment before finalizing.
			if _, err := q.addSegment(ctx, r.ID, f.index, f.path, 0, true); err != nil {
				errs = append(errs, fmt.Errorf("queue plaintext segment %d: %w", f.index, err))
				continue
			}
			rep.PlainQueued++
		}
	}
	return errors.Join(errs...)
}
