package sync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	stdsync "sync"
	"time"

	"framecast.dev/desktop/internal/backoff"
	"framecast.dev/desktop/internal/queue"
	"framecast.dev/shared/api"
	"framecast.dev/shared/seal"
)

// Config is what an Uploader needs.
type Config struct {
	Queue     *queue.Queue
	ServerURL string // e.g. https://framecast.example.com
	Token     string // the device token; never logged
	// HTTP is the client for the sync API; nil means NewHTTPClient().
	HTTP *http.Client
	// Concurrency is how many segments are in flight at once (default 3).
	Concurrency int
	// Waits between retries: full jitter between RetryMin and a ceiling
	// that starts at RetryBase and doubles up to RetryMax (defaults
	// 100 ms, 500 ms, 30 s).
	RetryMin, RetryBase, RetryMax time.Duration
	// StallTimeout cancels a transfer that moved no byte, or got no
	// answer after the last, for this long (default 60 s): a silently
	// dropped connection would otherwise hang until TCP gives up, many
	// minutes later. It must cover draining the socket's send buffer (a
	// few MB) on the slowest uplink served.
	StallTimeout time.Duration
	// Poll, when set, makes the uploader look at the queue this often
	// for segments another process added (its Notify cannot reach
	// here). Zero: only when notified.
	Poll time.Duration
	// OnEvent receives progress and state changes; see Event.
	OnEvent func(Event)
	Log     *slog.Logger
}

// NewHTTPClient returns the client the uploader uses by default: bounded
// connect and answer waits, enough idle connections for the concurrent
// uploads, and large write buffers for throughput.
func NewHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.MaxIdleConnsPerHost = 16
	// Once a segment is sent the server hashes it and fsyncs it; a minute
	// without an answer means it is not coming.
	t.ResponseHeaderTimeout = time.Minute
	t.WriteBufferSize = 256 << 10
	t.ReadBufferSize = 64 << 10
	return &http.Client{Transport: t}
}

// probeGap is how soon after a failure a Notify may bring the next probe
// forward: a new segment is worth a try, but not a busy loop.
const probeGap = time.Second

// requestTimeout bounds the small requests (create, HEAD, status,
// finalize).
const requestTimeout = 30 * time.Second

// Uploader delivers a queue's segments. Its methods are safe for
// concurrent use.
type Uploader struct {
	cfg    Config
	q      *queue.Queue
	client *api.Client
	log    *slog.Logger
	wake   chan struct{}

	mu       stdsync.Mutex
	running  bool
	inflight map[segKey]bool
	// delivered: uploaded by this run. plan reads the queue before taking
	// the lock, so a segment finishing in between would look pending.
	delivered map[segKey]bool
	recBusy   map[seal.RecordingID]bool
	segRetry  map[segKey]*retry
	recRetry  map[seal.RecordingID]*retry
	recs      map[seal.RecordingID]*recState
	waiters   map[seal.RecordingID][]chan readyResult
	server    *backoff.Backoff
	offline   bool
	serverAt  time.Time // while offline: no request before this
	probes    int       // requests started while offline, still under way
	lastFail  time.Time
	poked     bool
	stats     Stats

	emitMu stdsync.Mutex
}

type segKey struct {
	rec   seal.RecordingID
	index api.SegmentIndex
}

type retry struct {
	b  *backoff.Backoff
	at time.Time
}

// recState is what the uploader keeps about a recording it works on.
type recState struct {
	title    string
	total    int64                      // sealed bytes of the segments known
	sent     int64                      // of which delivered
	inflight map[api.SegmentIndex]int64 // bytes of transfers under way
	seen     map[api.SegmentIndex]bool
	// checked: the server's list of stored segments was read this run (or
	// the video was created this run, so there is nothing to read).
	checked      bool
	shareURL     string
	lastProgress time.Time
}

type readyResult struct {
	url string
	err error
}

// FailedError is what WaitReady returns for a recording given up on.
type FailedError struct {
	Recording seal.RecordingID
	Reason    string
}

func (e *FailedError) Error() string { return e.Reason }

// New checks cfg and returns an Uploader; start it with Run or Drain.
func New(cfg Config) (*Uploader, error) {
	if cfg.Queue == nil {
		return nil, errors.New("uploader: no queue")
	}
	if cfg.ServerURL == "" {
		return nil, errors.New("no server is set: choose one in Settings or set FRAMECAST_SERVER_URL")
	}
	if cfg.Token == "" {
		return nil, errors.New("no device token is set: run `framecast device-token` (or set FRAMECAST_DEVICE_TOKEN) with the token from the server")
	}
	if cfg.HTTP == nil {
		cfg.HTTP = NewHTTPClient()
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 3
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = 500 * time.Millisecond
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = min(100*time.Millisecond, cfg.RetryBase)
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = 30 * time.Second
	}
	if cfg.StallTimeout <= 0 {
		cfg.StallTimeout = time.Minute
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	client := api.NewClient(cfg.ServerURL, cfg.Token)
	client.HTTP = cfg.HTTP
	return &Uploader{
		cfg: cfg, q: cfg.Queue, client: client, log: cfg.Log.With("component", "uploader"),
		wake:     make(chan struct{}, 1),
		inflight: map[segKey]bool{}, delivered: map[segKey]bool{}, recBusy: map[seal.RecordingID]bool{},
		segRetry: map[segKey]*retry{}, recRetry: map[seal.RecordingID]*retry{},
		recs: map[seal.RecordingID]*recState{}, waiters: map[seal.RecordingID][]chan readyResult{},
		server: newRetry(cfg),
	}, nil
}

func newRetry(cfg Config) *backoff.Backoff {
	return backoff.New(cfg.RetryMin, cfg.RetryBase, cfg.RetryMax)
}

// Notify tells the uploader there is something new: a segment queued, a
// recording finished. It never blocks. While the server is failing it
// brings the next attempt forward (to at most a second after the last
// failure), so a recording going on during an outage is delivered soon
// after the server is back.
func (u *Uploader) Notify() {
	u.mu.Lock()
	u.poked = true
	u.mu.Unlock()
	u.kick()
}

func (u *Uploader) kick() {
	select {
	case u.wake <- struct{}{}:
	default:
	}
}

// Stats returns what the uploader has done so far.
func (u *Uploader) Stats() Stats {
	u.mu.Lock()
	defer u.mu.Unlock()
	s := u.stats
	s.Offline = u.offline
	return s
}

// Run uploads until ctx ends, then waits for the transfers under way to
// stop and returns ctx's error.
func (u *Uploader) Run(ctx context.Context) error { return u.run(ctx, false) }

// Drain uploads until nothing is left that it can do: every segment
// delivered and every finished recording finalized or failed. It keeps
// retrying while the server is unreachable; bound it with ctx.
func (u *Uploader) Drain(ctx context.Context) error { return u.run(ctx, true) }

func (u *Uploader) run(ctx context.Context, untilDone bool) error {
	u.mu.Lock()
	if u.running {
		u.mu.Unlock()
		return errors.New("uploader: already running")
	}
	u.running = true
	u.mu.Unlock()
	defer func() {
		u.mu.Lock()
		u.running = false
		u.mu.Unlock()
	}()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan job, u.cfg.Concurrency)
	var workers, ops stdsync.WaitGroup
	for range u.cfg.Concurrency {
		workers.Go(func() {
			for j := range jobs {
				u.uploadSegment(ctx, j)
			}
		})
	}
	defer func() {
		close(jobs)
		workers.Wait()
		ops.Wait()
	}()

	dbFailures := backoff.New(time.Second, time.Second, 30*time.Second)
	for {
		wait, idle, err := u.plan(ctx, jobs, &ops)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			// The queue's database failing is the local disk failing; keep
			// trying, slowly, and say so.
			wait = dbFailures.Next()
			u.log.Error("reading the upload queue failed", "err", err, "retry_in", wait)
			u.emit(Event{Kind: EventWarning, Message: fmt.Sprintf("The upload queue cannot be read (%v); retrying in %s.", err, wait.Round(time.Second)), Err: err})
		default:
			dbFailures.Reset()
		}
		if untilDone && idle {
			return nil
		}
		if u.cfg.Poll > 0 {
			wait = min(wait, u.cfg.Poll)
		}
		if err := backoff.SleepOrWake(ctx, wait, u.wake); err != nil {
			return err
		}
	}
}

type job struct {
	seg   queue.Segment
	head  bool // ask the server what it holds before sending
	probe bool // sent while offline, to see whether the server is back
}

// pendingWindow is how many waiting segments one plan looks at beyond
// those in flight.
const pendingWindow = 256

// plan starts what can start now: recording-level calls (create, status
// check, finalize) on their own goroutines, and segments on the workers.
// It returns how long to sleep at most before planning again, and whether
// nothing at all is left to do.
func (u *Uploader) plan(ctx context.Context, jobs chan<- job, ops *stdsync.WaitGroup) (time.Duration, bool, error) {
	recs, err := u.q.Active(ctx)
	if err != nil {
		return 0, false, err
	}
	u.mu.Lock()
	busy := len(u.inflight)
	u.mu.Unlock()
	segs, err := u.q.Pending(ctx, pendingWindow+busy)
	if err != nil {
		return 0, false, err
	}
	// First sight of a recording: count what it already has, so progress
	// starts from the truth.
	for _, r := range recs {
		u.mu.Lock()
		_, known := u.recs[r.ID]
		u.mu.Unlock()
		if known {
			continue
		}
		all, err := u.q.Segments(ctx, r.ID)
		if err != nil {
			return 0, false, err
		}
		st := &recState{title: r.Title, inflight: map[api.SegmentIndex]int64{}, seen: map[api.SegmentIndex]bool{}}
		for _, s := range all {
			st.seen[s.Index] = true
			st.total += s.SealedSize
			if s.State == queue.SegmentUploaded {
				st.sent += s.SealedSize
			}
		}
		u.mu.Lock()
		if _, known := u.recs[r.ID]; !known {
			u.recs[r.ID] = st
		}
		u.mu.Unlock()
	}

	now := time.Now()
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.poked {
		u.poked = false
		if u.offline {
			probe := u.lastFail.Add(probeGap)
			if probe.Before(now) {
				probe = now
			}
			if probe.Before(u.serverAt) {
				u.serverAt = probe
			}
		}
	}
	// While offline, one request at a time probes the server (requests
	// started before it went offline do not count: one of them may hang
	// until the stall timeout).
	canSend := func() bool {
		return !u.offline || !now.Before(u.serverAt) && u.probes == 0
	}
	// Sleep until woken (Notify, a request ending) or the next due
	// retry. Never zero: with a probe under way, or nothing to probe
	// with, that would be a busy loop.
	wait := time.Hour
	if u.offline && now.Before(u.serverAt) {
		wait = u.serverAt.Sub(now)
	}
	work := false
	active := map[seal.RecordingID]queue.Recording{}

	for _, r := range recs {
		active[r.ID] = r
		st := u.recs[r.ID]
		if st == nil {
			continue // appeared between the two reads; next plan
		}
		var op func(context.Context, queue.Recording) error
		switch {
		case r.ServerID == "":
			op = u.create
		case !st.checked:
			op = u.check
		case r.State == queue.StateFinished && r.Uploaded == r.SegmentCount:
			op = u.finalize
		}
		if r.State == queue.StateFinished {
			work = true // not uploaded yet, or Active would not list it
		}
		if op == nil {
			continue
		}
		work = true
		if u.recBusy[r.ID] {
			continue
		}
		if rr := u.recRetry[r.ID]; rr != nil && now.Before(rr.at) {
			wait = min(wait, rr.at.Sub(now))
			continue
		}
		if !canSend() {
			continue
		}
		u.recBusy[r.ID] = true
		probe := u.offline
		if probe {
			u.probes++
		}
		ops.Go(func() {
			err := op(ctx, r)
			u.recordingDone(ctx, r, err, probe)
		})
	}

	for _, s := range segs {
		k := segKey{s.RecordingID, s.Index}
		st := u.recs[s.RecordingID]
		if st != nil && !st.seen[s.Index] {
			st.seen[s.Index] = true
			st.total += s.SealedSize
		}
		work = true
		r, ok := active[s.RecordingID]
		if !ok || u.inflight[k] || u.delivered[k] || r.ServerID == "" || st == nil || !st.checked {
			continue
		}
		if sr := u.segRetry[k]; sr != nil && now.Before(sr.at) {
			wait = min(wait, sr.at.Sub(now))
			continue
		}
		if len(u.inflight) >= u.cfg.Concurrency || !canSend() {
			continue
		}
		s.ServerID = r.ServerID
		u.inflight[k] = true
		if u.offline {
			u.probes++
		}
		// Ask first when an attempt failed before (here or in an earlier
		// run) or one was under way when the app died: the server may
		// hold all or part of it.
		jobs <- job{seg: s, probe: u.offline, head: s.Attempts > 0 || s.State == queue.SegmentUploading || u.segRetry[k] != nil}
	}
	idle := !work && len(u.inflight) == 0 && len(u.recBusy) == 0
	return wait, idle, nil
}

// recordingDone files the outcome of a recording-level call.
func (u *Uploader) recordingDone(ctx context.Context, r queue.Recording, err error, probe bool) {
	defer u.kick()
	if probe {
		defer func() {
			u.mu.Lock()
			u.probes--
			u.mu.Unlock()
		}()
	}
	if err == nil || canceled(ctx, err) {
		u.mu.Lock()
		delete(u.recBusy, r.ID)
		if err == nil {
			delete(u.recRetry, r.ID)
		}
		u.mu.Unlock()
		if err == nil {
			u.serverOK()
		}
		return
	}
	f := classify(err, "recording “"+r.Title+"”")
	u.failed(ctx, r.ID, r.Title, f, func(now time.Time) time.Duration {
		rr := u.recRetry[r.ID]
		if rr == nil {
			rr = &retry{b: newRetry(u.cfg)}
			u.recRetry[r.ID] = rr
		}
		d := rr.b.Next()
		rr.at = now.Add(d)
		return d
	}, Event{Kind: EventRetry, Recording: r.ID.String(), Title: r.Title})
	u.mu.Lock()
	delete(u.recBusy, r.ID)
	u.mu.Unlock()
}

// failed applies a failure: global backoff for the server kinds, the
// item's own backoff (itemWait, called with u.mu held) for item
// failures, and giving up on the recording for permanent ones.
func (u *Uploader) failed(ctx context.Context, id seal.RecordingID, title string, f *failure, itemWait func(time.Time) time.Duration, ev Event) {
	now := time.Now()
	switch f.kind {
	case kindServer, kindAuth:
		u.mu.Lock()
		d := u.server.Next()
		if f.kind == kindAuth {
			d = max(d, u.cfg.RetryMax/2) // a person has to act; no point asking often
		}
		was := u.offline
		u.offline = true
		u.lastFail = now
		u.serverAt = now.Add(d)
		u.stats.Retries++
		u.mu.Unlock()
		if f.kind == kindAuth {
			u.log.Warn("the server refuses the device token; waiting for a new one", "retry_in", d)
		} else {
			u.log.Warn("the server is failing; backing off", "err", f.err, "retry_in", d)
		}
		kind := EventOffline
		if was {
			kind = EventRetry
		}
		u.emit(Event{Kind: kind, Recording: ev.Recording, Title: ev.Title, Index: ev.Index, RetryIn: d, RetryMs: d.Milliseconds(), Err: f,
			Message: fmt.Sprintf("%s Trying again in %s; recorded segments are kept and upload when it answers.", f.msg, roundWait(d))})
	case kindItem:
		u.mu.Lock()
		d := itemWait(now)
		u.stats.Retries++
		u.mu.Unlock()
		u.log.Info("retrying later", "recording", id.String(), "err", f.err, "retry_in", d)
		ev.RetryIn, ev.RetryMs, ev.Err = d, d.Milliseconds(), f
		ev.Message = fmt.Sprintf("%s Trying again in %s.", f.msg, roundWait(d))
		u.emit(ev)
	case kindPermanent:
		u.giveUp(ctx, id, title, f)
	}
}

// giveUp marks a recording failed and tells everyone waiting for it.
func (u *Uploader) giveUp(ctx context.Context, id seal.RecordingID, title string, f *failure) {
	u.log.Error("giving up on a recording", "recording", id.String(), "reason", f.msg, "err", f.err)
	if err := u.q.MarkFailed(context.WithoutCancel(ctx), id, f.msg); err != nil {
		u.log.Error("could not mark the recording failed", "recording", id.String(), "err", err)
	}
	u.mu.Lock()
	u.stats.Failed++
	u.forget(id)
	u.mu.Unlock()
	u.emit(Event{Kind: EventFailed, Recording: id.String(), Title: title, Message: f.msg, Err: f})
	u.resolve(id, readyResult{err: &FailedError{Recording: id, Reason: f.msg}})
}

// forget drops what is kept about a recording that is done with; u.mu held.
func (u *Uploader) forget(id seal.RecordingID) {
	delete(u.recs, id)
	delete(u.recRetry, id)
	for k := range u.segRetry {
		if k.rec == id {
			delete(u.segRetry, k)
		}
	}
	for k := range u.delivered {
		if k.rec == id {
			delete(u.delivered, k)
		}
	}
}

// serverOK notes a success: the server answers.
func (u *Uploader) serverOK() {
	u.mu.Lock()
	was := u.offline
	u.offline = false
	u.server.Reset()
	u.mu.Unlock()
	if was {
		u.log.Info("the server answers again")
		u.emit(Event{Kind: EventOnline, Message: "The server answers again; uploading."})
	}
}

func (u *Uploader) emit(ev Event) {
	if u.cfg.OnEvent == nil {
		return
	}
	u.emitMu.Lock()
	defer u.emitMu.Unlock()
	u.cfg.OnEvent(ev)
}

func roundWait(d time.Duration) string {
	if d < time.Second {
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}

// WaitReady waits until the recording is playable and returns its share
// URL, or returns a *FailedError if it was given up on. The uploader must
// be running (Run) for it to get there.
func (u *Uploader) WaitReady(ctx context.Context, id seal.RecordingID) (string, error) {
	ch := make(chan readyResult, 1)
	u.mu.Lock()
	u.waiters[id] = append(u.waiters[id], ch)
	u.mu.Unlock()
	defer u.unwait(id, ch)
	u.Notify()
	// The queue is re-read while waiting: another uploader on the same
	// queue (a second app, or `framecast sync`) may finish the recording,
	// and then this one never resolves the waiter.
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		r, err := u.q.Recording(ctx, id)
		if err != nil {
			return "", err
		}
		switch r.State {
		case queue.StateUploaded:
			return u.shareURL(ctx, r)
		case queue.StateFailed:
			return "", &FailedError{Recording: id, Reason: r.Failure}
		}
		select {
		case res := <-ch:
			return res.url, res.err
		case <-ctx.Done():
			return "", ctx.Err()
		case <-tick.C:
		}
	}
}

func (u *Uploader) unwait(id seal.RecordingID, ch chan readyResult) {
	u.mu.Lock()
	defer u.mu.Unlock()
	ws := u.waiters[id]
	for i, w := range ws {
		if w == ch {
			u.waiters[id] = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(u.waiters[id]) == 0 {
		delete(u.waiters, id)
	}
}

func (u *Uploader) resolve(id seal.RecordingID, res readyResult) {
	u.mu.Lock()
	ws := u.waiters[id]
	delete(u.waiters, id)
	u.mu.Unlock()
	for _, w := range ws {
		w <- res
	}
}

// shareURL asks the server for the link of a recording uploaded earlier.
func (u *Uploader) shareURL(ctx context.Context, r queue.Recording) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	v, err := u.client.Video(ctx, r.ServerID)
	if err != nil {
		return "", fmt.Errorf("ask the server for the link of “%s”: %w", r.Title, err)
	}
	return v.ShareURL, nil
}

// slugOf is the last element of a share URL.
func slugOf(shareURL string) string {
	return shareURL[strings.LastIndexByte(shareURL, '/')+1:]
}
