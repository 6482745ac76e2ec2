package queue

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"framecast.dev/shared/api"
	"framecast.dev/shared/seal"
)

// crashHook, when set by a test, runs at each step of AddSegment so the
// crash test can kill the process at exactly that point.
var crashHook func(step string)

func step(name string) {
	if crashHook != nil {
		crashHook(name)
	}
}

// AddSegment queues a closed plaintext segment: it seals it to a temp file
// in the recording's folder, fsyncs it, renames it to its final name,
// fsyncs the folder, inserts its row, and only then deletes the plaintext.
// Killed anywhere in between, Recover finds either the plaintext (and
// queues it again) or the complete sealed file.
//
// index is the segment's api.SegmentIndex: 0, 1, ... for media segments and
// api.InitSegment for the HLS init segment; it is sealed with
// index.SealIndex(), as the server expects.
//
// duration is a media segment's playing time (the recorder knows it from
// ffmpeg's playlist); pass 0 for the init segment, or when unknown, and the
// uploader reads it from the segment before finalizing.
func (q *Queue) AddSegment(ctx context.Context, id seal.RecordingID, index api.SegmentIndex, plaintextPath string, duration time.Duration) (Segment, error) {
	q.addMu.Lock()
	defer q.addMu.Unlock()
	seg, err := q.addSegment(ctx, id, index, plaintextPath, duration, false)
	if err != nil {
		return Segment{}, fmt.Errorf("queue segment %d of %s: %w", index, id, err)
	}
	return seg, nil
}

// addSegment does AddSegment's work; recovering lets Recover add to a
// recording it is about to close whatever state it is in.
func (q *Queue) addSegment(ctx context.Context, id seal.RecordingID, index api.SegmentIndex, plaintextPath string, duration time.Duration, recovering bool) (Segment, error) {
	if !index.Valid() {
		return Segment{}, fmt.Errorf("index %d is not a segment index (0..%d or init)", index, api.MaxSegmentIndex)
	}
	if duration < 0 || index == api.InitSegment && duration != 0 {
		return Segment{}, fmt.Errorf("duration %v is not a playing time for segment %d", duration, index)
	}
	var state RecordingState
	var exists bool
	err := q.db.QueryRowContext(ctx, `SELECT r.state, EXISTS (SELECT 1 FROM segments s WHERE s.recording_id = r.id AND s.idx = ?)
		FROM recordings r WHERE r.id = ?`, index, id.String()).Scan(&state, &exists)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Segment{}, ErrNotFound
	case err != nil:
		return Segment{}, err
	case exists:
		return Segment{}, ErrSegmentExists
	case state != StateRecording && !recovering:
		return Segment{}, fmt.Errorf("recording is %s: %w", state, ErrState)
	}
	dek, err := q.DataKey(ctx, id)
	if err != nil {
		return Segment{}, err
	}

	dir := q.recordingDir(id)
	final := filepath.Join(dir, sealedName(index))
	plain, sealed, sum, err := sealFile(dek, id, index, plaintextPath, dir, final)
	if err != nil {
		return Segment{}, err
	}
	step("renamed")
	if err := syncDir(dir); err != nil {
		return Segment{}, err
	}
	step("dir-synced")

	rel := filepath.ToSlash(filepath.Join(segmentsDir, id.String(), sealedName(index)))
	if err := q.insertSegment(ctx, id, index, plain, sealed, sum, rel, duration); err != nil {
		// The sealed file stays: it is complete, and Recover adopts it if
		// the plaintext is gone by then.
		return Segment{}, err
	}
	step("committed")

	if err := os.Remove(plaintextPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		// Queued all the same; Recover removes leftovers of queued segments.
		slog.Warn("could not delete a queued plaintext segment", "path", plaintextPath, "err", err)
	}
	step("plaintext-removed")
	return Segment{RecordingID: id, Index: index, PlainSize: plain, SealedSize: sealed, SHA256: sum,
		Path: final, State: SegmentQueued, Duration: duration.Truncate(time.Microsecond)}, nil
}

func (q *Queue) insertSegment(ctx context.Context, id seal.RecordingID, index api.SegmentIndex, plain, sealed int64, sum [32]byte, rel string, duration time.Duration) error {
	tx, err := q.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	durUS := sql.NullInt64{Int64: duration.Microseconds(), Valid: duration.Microseconds() > 0}
	if _, err := tx.ExecContext(ctx, `INSERT INTO segments (recording_id, idx, plain_size, sealed_size, sha256, path, state, duration_us)
		VALUES (?, ?, ?, ?, ?, ?, 'queued', ?)`, id.String(), index, plain, sealed, sum[:], rel, durUS); err != nil {
		return fmt.Errorf("insert segment row: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE recordings SET segment_count = segment_count + 1 WHERE id = ?`, id.String()); err != nil {
		return fmt.Errorf("count segment: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit segment row: %w", err)
	}
	return nil
}

// sealFile seals plaintextPath into final through a temp file in dir and
// returns the plaintext size, sealed size and the sealed bytes' sha256.
func sealFile(dek seal.Key, id seal.RecordingID, index api.SegmentIndex, plaintextPath, dir, final string) (plain, sealed int64, sum [32]byte, err error) {
	in, err := os.Open(plaintextPath)
	if err != nil {
		return 0, 0, sum, fmt.Errorf("open plaintext: %w", err)
	}
	defer in.Close()
	tmp, err := os.CreateTemp(dir, sealedName(index)+tmpMarker+"*")
	if err != nil {
		return 0, 0, sum, fmt.Errorf("create temp file: %w", err)
	}
	published := false
	defer func() {
		if !published {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	step("temp-created")

	h := sha256.New()
	counted := &countingWriter{w: io.MultiWriter(tmp, h)}
	w, err := seal.NewWriter(counted, dek, id, index.SealIndex())
	if err != nil {
		return 0, 0, sum, err
	}
	if plain, err = io.Copy(w, in); err != nil {
		return 0, 0, sum, fmt.Errorf("seal %s: %w", plaintextPath, err)
	}
	if err := w.Close(); err != nil {
		return 0, 0, sum, fmt.Errorf("seal %s: %w", plaintextPath, err)
	}
	if want := seal.SealedSize(plain); counted.n != want {
		return 0, 0, sum, fmt.Errorf("sealed %d bytes, expected %d", counted.n, want)
	}
	step("sealed")
	if err := tmp.Sync(); err != nil {
		return 0, 0, sum, fmt.Errorf("fsync sealed segment: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return 0, 0, sum, fmt.Errorf("close sealed segment: %w", err)
	}
	step("synced")
	if err := os.Rename(tmp.Name(), final); err != nil {
		return 0, 0, sum, fmt.Errorf("publish sealed segment: %w", err)
	}
	published = true
	copy(sum[:], h.Sum(nil))
	return plain, counted.n, sum, nil
}

// tmpMarker is in every temp file's name; Recover deletes such files.
const tmpMarker = ".tmp-"

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
