package sync

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	stdsync "sync"
	"time"

	"framecast.dev/desktop/internal/queue"
	"framecast.dev/shared/api"
	"framecast.dev/shared/seal"
)

// uploadSegment delivers one segment and files the outcome; it runs on a
// worker.
func (u *Uploader) uploadSegment(ctx context.Context, j job) {
	s := j.seg
	k := segKey{s.RecordingID, s.Index}
	u.mu.Lock()
	title := ""
	if st := u.recs[s.RecordingID]; st != nil {
		title = st.title
	}
	hadRetry := u.segRetry[k] != nil
	u.mu.Unlock()
	what := fmt.Sprintf("segment %s of “%s”", s.Index, title)

	err := u.send(ctx, j)
	if err == nil {
		// The database write is what makes "delivered" stick. If it fails
		// (the disk is full) the segment waits like any failed one, and
		// is asked about before being sent again.
		if merr := u.q.MarkUploaded(context.WithoutCancel(ctx), s.RecordingID, s.Index); merr != nil {
			err = itemRetry(merr, "The server has %s, but the upload queue cannot record it (%v).", what, merr)
		}
	}
	switch {
	case err != nil && canceled(ctx, err):
		u.resetInflight(k)
	case err == nil:
		if s.Attempts > 0 || hadRetry {
			// Clears the segment's last error in `framecast queue`.
			_ = u.q.RecordAttempt(context.WithoutCancel(ctx), s.RecordingID, s.Index, nil)
		}
		var ev, prog Event
		u.mu.Lock()
		delete(u.segRetry, k)
		u.delivered[k] = true
		u.stats.Segments++
		if st := u.recs[s.RecordingID]; st != nil {
			delete(st.inflight, s.Index)
			st.sent += s.SealedSize
			ev = Event{Kind: EventSegmentUploaded, Recording: s.RecordingID.String(), Title: st.title, Index: s.Index, Sent: st.sent, Total: st.total}
			prog = u.progressEventLocked(s.RecordingID, st)
		}
		u.mu.Unlock()
		u.serverOK()
		if ev.Kind != "" {
			u.emit(ev)
			u.emit(prog)
		}
	default:
		if err := u.q.RecordAttempt(context.WithoutCancel(ctx), s.RecordingID, s.Index, err); err != nil {
			u.log.Error("could not record an upload attempt", "err", err)
		}
		u.resetInflight(k)
		u.failed(ctx, s.RecordingID, title, classify(err, what), func(now time.Time) time.Duration {
			sr := u.segRetry[k]
			if sr == nil {
				sr = &retry{b: newRetry(u.cfg)}
				u.segRetry[k] = sr
			}
			d := sr.b.Next()
			sr.at = now.Add(d)
			return d
		}, Event{Kind: EventRetry, Recording: s.RecordingID.String(), Title: title, Index: s.Index})
		u.mu.Lock()
		if u.segRetry[k] == nil {
			// A server-wide failure: the global backoff paces it, and
			// the next attempt must still ask what the server holds.
			u.segRetry[k] = &retry{b: newRetry(u.cfg)}
		}
		u.mu.Unlock()
	}
	u.mu.Lock()
	delete(u.inflight, k)
	if j.probe {
		u.probes--
	}
	u.mu.Unlock()
	u.kick()
}

func (u *Uploader) resetInflight(k segKey) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if st := u.recs[k.rec]; st != nil {
		delete(st.inflight, k.index)
	}
}

// send uploads one segment: asks first what the server holds when told to,
// then PUTs it whole or PATCHes the rest. nil means the server has it all.
func (u *Uploader) send(ctx context.Context, j job) error {
	s := j.seg
	what := fmt.Sprintf("segment %s", s.Index)
	// Only a hint for after a crash (ask before sending again): written
	// while the upload starts rather than before it, and a full disk does
	// not hold the upload back.
	marked := make(chan struct{})
	go func() {
		defer close(marked)
		if err := u.q.MarkUploading(context.WithoutCancel(ctx), s.RecordingID, s.Index); err != nil && !errors.Is(err, queue.ErrState) {
			u.log.Warn("could not note an upload starting", "segment", s.Index, "err", err)
		}
	}()
	defer func() { <-marked }()
	f, err := os.Open(s.Path)
	if err != nil {
		return permanent(err, "The sealed file of %s is gone from the queue folder (%v), so the recording cannot be completed. Whatever else was recorded is still in the queue.", what, err)
	}
	defer f.Close()
	sum := hex.EncodeToString(s.SHA256[:])

	var offset int64
	if j.head {
		hctx, cancel := context.WithTimeout(ctx, requestTimeout)
		st, err := u.client.SegmentState(hctx, s.ServerID, s.Index)
		cancel()
		var ae *api.Error
		switch {
		case errors.As(err, &ae) && ae.Status == http.StatusNotFound:
			// Nothing held: send it all.
		case err != nil:
			return err
		case st.SHA256 != sum:
			// Leftovers of another upload: a PUT starts over (and the
			// server answers 409 if another copy is stored whole).
		case st.Stored():
			return nil
		default:
			offset = st.Offset
		}
	}

	tctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	body := &progressReader{r: io.NewSectionReader(f, offset, s.SealedSize-offset), last: time.Now()}
	body.onRead = func(total int64) { u.progress(s.RecordingID, s.Index, offset+total) }
	stop := u.watchStall(tctx, cancel, body)
	var seg api.Segment
	if offset > 0 {
		seg, err = u.client.PatchSegment(tctx, s.ServerID, s.Index, sum, s.SealedSize, offset, body)
	} else {
		seg, err = u.client.PutSegment(tctx, s.ServerID, s.Index, sum, s.SealedSize, body)
	}
	stop()
	u.mu.Lock()
	u.stats.Bytes += body.count()
	if offset > 0 {
		u.stats.Resumed++
	}
	u.mu.Unlock()

	if rerr := body.readErr(); rerr != nil {
		return permanent(rerr, "The sealed file of %s cannot be read (%v); check the disk.", what, rerr)
	}
	if err != nil {
		if errors.Is(context.Cause(tctx), errStalled) {
			return fmt.Errorf("%w for %s: %v", errStalled, u.cfg.StallTimeout, err)
		}
		var ae *api.Error
		if errors.As(err, &ae) {
			switch {
			case offset > 0 && ae.Status == http.StatusNotFound:
				return itemRetry(err, "The server dropped the partial upload of %s; sending it again.", what)
			case ae.Code == api.CodeChecksumMismatch:
				if lerr := checkFile(s); lerr != nil {
					return permanent(lerr, "The sealed file of %s changed on disk after it was queued (%v), so it cannot be uploaded as recorded. Check the disk.", what, lerr)
				}
			}
		}
		return err
	}
	if !seg.Stored {
		return itemRetry(nil, "The server holds %d of %d bytes of %s.", seg.Offset, s.SealedSize, what)
	}
	return nil
}

// checkFile compares a sealed file with the hash and size it was queued
// with.
func checkFile(s queue.Segment) error {
	f, err := os.Open(s.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return err
	}
	if n != s.SealedSize || [32]byte(h.Sum(nil)) != s.SHA256 {
		return fmt.Errorf("%s no longer has the size and SHA-256 it was queued with", s.Path)
	}
	return nil
}

// progress notes how far a transfer has got and emits a progress event,
// at most every progressEvery per recording.
func (u *Uploader) progress(id seal.RecordingID, index api.SegmentIndex, at int64) {
	u.mu.Lock()
	st := u.recs[id]
	if st == nil {
		u.mu.Unlock()
		return
	}
	st.inflight[index] = at
	now := time.Now()
	if now.Sub(st.lastProgress) < progressEvery {
		u.mu.Unlock()
		return
	}
	ev := u.progressEventLocked(id, st)
	u.mu.Unlock()
	u.emit(ev)
}

const progressEvery = 100 * time.Millisecond

func (u *Uploader) progressEventLocked(id seal.RecordingID, st *recState) Event {
	st.lastProgress = time.Now()
	sent := st.sent
	for _, n := range st.inflight {
		sent += n
	}
	return Event{Kind: EventProgress, Recording: id.String(), Title: st.title, Sent: min(sent, st.total), Total: st.total}
}

// watchStall cancels the transfer when body has not been read from for
// StallTimeout. It returns the function that stops watching.
func (u *Uploader) watchStall(ctx context.Context, cancel context.CancelCauseFunc, body *progressReader) func() {
	done := make(chan struct{})
	var once stdsync.Once
	every := max(u.cfg.StallTimeout/4, 10*time.Millisecond)
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				// Also after the last byte: the kernel's send buffer takes
				// the end of the body at once, so "all read" is not "all
				// received", and the server answers within moments of
				// receiving it.
				if body.idle() > u.cfg.StallTimeout {
					cancel(errStalled)
					return
				}
			}
		}
	}()
	return func() { once.Do(func() { close(done) }) }
}

// progressReader counts what the HTTP client takes from the sealed file,
// and keeps a read error apart from network errors.
type progressReader struct {
	r      io.Reader
	onRead func(total int64)

	mu   stdsync.Mutex
	n    int64
	last time.Time
	err  error
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.mu.Lock()
	p.n += int64(n)
	p.last = time.Now()
	total := p.n
	if err != nil && err != io.EOF {
		p.err = err
	}
	p.mu.Unlock()
	if n > 0 && p.onRead != nil {
		p.onRead(total)
	}
	return n, err
}

func (p *progressReader) count() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}

func (p *progressReader) idle() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return time.Since(p.last)
}

func (p *progressReader) readErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}
