// Package jobs runs background work (thumbnails, previews, downloads,
// trims) from a queue kept in the database, so work survives restarts and
// is shared by every server replica.
//
// A worker claims a job by leasing it for Lease; while the handler runs the
// lease is renewed every Lease/3. A worker that dies (kill -9, power cut)
// stops renewing, and once the lease lapses another worker claims the job
// again, counting the attempt. A failed attempt is retried after an
// exponential backoff with jitter, up to the job's MaxAttempts; then the
// job is failed, with its error kept for the owner, who can retry it.
//
// Stop lets running jobs finish until its context ends, then cancels them
// and gives their leases back without counting the attempt, so a restart
// picks them up at once.
package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"framecast.dev/server/internal/store"
)

// Handler does one job. Returning nil completes it. Any other error is a
// failed attempt, retried after a backoff unless it is Permanent or the
// attempts are used up. The context ends when the queue stops or the
// lease is lost; a handler must then return promptly.
type Handler func(ctx context.Context, j store.Job) error

// permanent marks an error no retry can fix.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent wraps err so the job fails at once, without retries.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// IsPermanent reports whether err was wrapped by Permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

// Config tunes a Queue. Zero values take the defaults in brackets.
type Config struct {
	Store       store.Jobs
	Log         *slog.Logger
	Workers     int           // jobs running at once [2]
	Lease       time.Duration // how long a claim holds without renewal [2m]
	Poll        time.Duration // how often idle workers look for work [1s]
	MaxAttempts int           // attempts before a job fails [5]
	BackoffBase time.Duration // wait after the first failed attempt [10s]
	BackoffMax  time.Duration // longest wait between attempts [15m]
	// ErrorLimit caps the error text kept with a job [2000 bytes].
	ErrorLimit int
	Now        func() time.Time
	// Lanes are pools of workers kept for some kinds of job: the main
	// workers leave those kinds to them, so quick work (a password-reset
	// mail) never waits behind a long transcode.
	Lanes []Lane
}

// Lane is a pool of workers that run only the jobs of its kinds.
type Lane struct {
	Name    string // for logs
	Kinds   []string
	Workers int // [1]
	// BackoffBase and BackoffMax override the queue's for these kinds.
	BackoffBase time.Duration
	BackoffMax  time.Duration
}

// pool is what one group of workers claims and how it retries.
type pool struct {
	name        string
	kinds       []string
	except      bool // claim every kind but kinds
	workers     int
	backoffBase time.Duration
	backoffMax  time.Duration
	wake        chan struct{}
}

// Queue enqueues jobs and runs them on a bounded pool of workers.
type Queue struct {
	cfg      Config
	store    store.Jobs
	log      *slog.Logger
	now      func() time.Time
	owner    string
	handlers map[string]Handler
	giveUps  map[string]GiveUp

	pools   []*pool
	poolOf  map[string]*pool // a lane's kinds to its pool
	stop    chan struct{}
	cancel  context.CancelFunc // cancels running handlers
	ctx     context.Context
	wg      sync.WaitGroup
	started bool
	mu      sync.Mutex

	done     *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// New returns a stopped Queue; register handlers, then Start it.
func New(c Config) *Queue {
	if c.Workers <= 0 {
		c.Workers = 2
	}
	if c.Lease <= 0 {
		c.Lease = 2 * time.Minute
	}
	if c.Poll <= 0 {
		c.Poll = time.Second
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 5
	}
	if c.BackoffBase <= 0 {
		c.BackoffBase = 10 * time.Second
	}
	if c.BackoffMax <= 0 {
		c.BackoffMax = 15 * time.Minute
	}
	if c.ErrorLimit <= 0 {
		c.ErrorLimit = 2000
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	host, _ := os.Hostname()
	var b [4]byte
	rand.Read(b[:])
	main := &pool{name: "main", except: true, workers: c.Workers, backoffBase: c.BackoffBase, backoffMax: c.BackoffMax,
		wake: make(chan struct{}, 1)}
	pools, poolOf := []*pool{main}, map[string]*pool{}
	for _, l := range c.Lanes {
		p := &pool{name: l.Name, kinds: l.Kinds, workers: max(l.Workers, 1), backoffBase: l.BackoffBase, backoffMax: l.BackoffMax,
			wake: make(chan struct{}, 1)}
		if p.backoffBase <= 0 {
			p.backoffBase = c.BackoffBase
		}
		if p.backoffMax <= 0 {
			p.backoffMax = c.BackoffMax
		}
		for _, k := range l.Kinds {
			poolOf[k] = p
		}
		main.kinds = append(main.kinds, l.Kinds...)
		pools = append(pools, p)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Queue{
		cfg:      c,
		store:    c.Store,
		log:      c.Log,
		now:      c.Now,
		owner:    fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:])),
		handlers: map[string]Handler{},
		giveUps:  map[string]GiveUp{},
		pools:    pools,
		poolOf:   poolOf,
		stop:     make(chan struct{}),
		ctx:      ctx,
		cancel:   cancel,
		done: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "framecast_jobs_total",
			Help: "Processing job attempts by kind and outcome (done, retry, failed, released).",
		}, []string{"kind", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "framecast_job_duration_seconds",
			Help:    "How long processing job attempts ran, by kind.",
			Buckets: []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 180, 600},
		}, []string{"kind"}),
	}
}

// Collectors are the queue's Prometheus metrics.
func (q *Queue) Collectors() []prometheus.Collector {
	return []prometheus.Collector{q.done, q.duration}
}

// Handle registers the handler of a kind. Call before Start.
func (q *Queue) Handle(kind string, h Handler) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.started {
		panic("jobs: Handle after Start")
	}
	q.handlers[kind] = h
}

// GiveUp cleans up after a job that failed without its handler seeing the
// end: every attempt was cut off (the server stopped or crashed during
// each), so the handler's own failure path never ran. reason is what the
// job records.
type GiveUp func(ctx context.Context, j store.Job, reason string)

// HandleGiveUp registers the clean-up for jobs of kind given up that way.
func (q *Queue) HandleGiveUp(kind string, f GiveUp) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.giveUps[kind] = f
}

// Spec describes a job to enqueue.
type Spec struct {
	Kind    string
	VideoID string // "" when not about one video
	// UserID is the account the job is about (a mail to or from it):
	// deleting the account deletes the job. "" for none.
	UserID string
	Args   any // marshalled to JSON; nil for none
	// MaxAttempts overrides the queue's default.
	MaxAttempts int
	// After delays the first attempt.
	After time.Duration
}

func (q *Queue) job(sp Spec) (store.Job, error) {
	args := []byte("{}")
	if sp.Args != nil {
		var err error
		if args, err = json.Marshal(sp.Args); err != nil {
			return store.Job{}, fmt.Errorf("enqueue %s: args: %w", sp.Kind, err)
		}
	}
	max := sp.MaxAttempts
	if max <= 0 {
		max = q.cfg.MaxAttempts
	}
	now := q.now().UTC()
	var id [16]byte
	rand.Read(id[:])
	return store.Job{
		ID: hex.EncodeToString(id[:]), Kind: sp.Kind, VideoID: sp.VideoID, UserID: sp.UserID, Args: args,
		MaxAttempts: max, RunAt: now.Add(sp.After), CreatedAt: now,
	}, nil
}

// Enqueue adds a job. A job of the same kind for the same video that is
// still waiting is replaced by this one rather than run twice.
func (q *Queue) Enqueue(ctx context.Context, sp Spec) (store.Job, error) {
	j, err := q.job(sp)
	if err != nil {
		return store.Job{}, err
	}
	got, err := q.store.EnqueueJob(ctx, j)
	if err != nil {
		return store.Job{}, err
	}
	q.poke(got.Kind)
	return got, nil
}

// Ensure adds a job unless one of its kind for its video already exists,
// whatever its state: calling it again after a crash or a retried request
// never does the work twice.
func (q *Queue) Ensure(ctx context.Context, sp Spec) (store.Job, bool, error) {
	j, err := q.job(sp)
	if err != nil {
		return store.Job{}, false, err
	}
	got, created, err := q.store.EnsureJob(ctx, j)
	if err != nil {
		return store.Job{}, false, err
	}
	if created {
		q.poke(got.Kind)
	}
	return got, created, nil
}

// Retry queues a failed job again with fresh attempts.
func (q *Queue) Retry(ctx context.Context, id string) (store.Job, error) {
	j, err := q.store.RetryJob(ctx, id, q.now().UTC())
	if err != nil {
		return store.Job{}, err
	}
	q.poke(j.Kind)
	return j, nil
}

// poke wakes one idle worker of the pool that runs kind in this process;
// workers elsewhere find the job at their next poll.
func (q *Queue) poke(kind string) {
	p := q.poolOf[kind]
	if p == nil {
		p = q.pools[0]
	}
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Start launches the workers.
func (q *Queue) Start() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.started {
		return
	}
	q.started = true
	n := 0
	for _, p := range q.pools {
		for range p.workers {
			q.wg.Add(1)
			go q.work(p, fmt.Sprintf("%s/%d", q.owner, n))
			n++
		}
		if p.name != "main" {
			q.log.Info("job lane started", "lane", p.name, "workers", p.workers, "kinds", p.kinds)
		}
	}
	q.log.Info("job workers started", "workers", q.cfg.Workers)
}

// Stop stops claiming jobs and waits for running ones until ctx ends;
// then it cancels them, and their leases are given back.
func (q *Queue) Stop(ctx context.Context) error {
	q.mu.Lock()
	started := q.started
	q.mu.Unlock()
	select {
	case <-q.stop:
	default:
		close(q.stop)
	}
	if !started {
		q.cancel()
		return nil
	}
	finished := make(chan struct{})
	go func() { q.wg.Wait(); close(finished) }()
	select {
	case <-finished:
		q.cancel()
		return nil
	case <-ctx.Done():
	}
	q.cancel()
	<-finished
	return fmt.Errorf("jobs: stopped running jobs after the shutdown timeout: %w", ctx.Err())
}

func (q *Queue) stopping() bool {
	select {
	case <-q.stop:
		return true
	default:
		return false
	}
}

func (q *Queue) work(p *pool, owner string) {
	defer q.wg.Done()
	for !q.stopping() {
		now := q.now().UTC()
		j, err := q.store.ClaimJobOf(q.ctx, owner, p.kinds, p.except, now, now.Add(q.cfg.Lease))
		if err == nil {
			q.run(p, owner, j)
			continue
		}
		if !errors.Is(err, store.ErrNotFound) && q.ctx.Err() == nil {
			q.log.Error("claiming a job failed", "err", err)
		}
		t := time.NewTimer(q.cfg.Poll)
		select {
		case <-q.stop:
		case <-p.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// run does one claimed job and records the outcome.
func (q *Queue) run(p *pool, owner string, j store.Job) {
	log := q.log.With("job_id", j.ID, "kind", j.Kind, "video_id", j.VideoID, "attempt", j.Attempts)
	// Bookkeeping uses its own context: it must happen even while
	// handlers are being cancelled.
	bg := context.Background()
	now := q.now().UTC()

	if j.Attempts > j.MaxAttempts {
		// A worker died holding it, again: give up rather than loop.
		msg := fmt.Sprintf("interrupted: %d attempts did not finish (the server stopped or crashed during each)", j.MaxAttempts)
		if j.LastError != "" {
			msg += "; earlier: " + j.LastError
		}
		q.mu.Lock()
		giveUp := q.giveUps[j.Kind]
		q.mu.Unlock()
		if giveUp != nil {
			giveUp(bg, j, msg)
		}
		q.record(log, j, "failed", q.store.FailJob(bg, j.ID, owner, q.limit(msg), now, time.Time{}, true))
		return
	}
	q.mu.Lock()
	h := q.handlers[j.Kind]
	q.mu.Unlock()
	if h == nil {
		q.record(log, j, "failed", q.store.FailJob(bg, j.ID, owner, "this server cannot run jobs of kind "+j.Kind, now, time.Time{}, true))
		return
	}

	ctx, cancel := context.WithCancel(q.ctx)
	lost := make(chan struct{})
	heartbeat := make(chan struct{})
	go func() {
		defer close(heartbeat)
		t := time.NewTicker(q.cfg.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				err := q.store.ExtendJobLease(bg, j.ID, owner, q.now().UTC().Add(q.cfg.Lease))
				if errors.Is(err, store.ErrConflict) {
					log.Warn("lost the lease of a running job; abandoning it")
					close(lost)
					cancel()
					return
				}
				if err != nil {
					log.Warn("renewing a job lease failed", "err", err)
				}
			}
		}
	}()

	start := time.Now()
	log.Debug("job started")
	err := safeCall(ctx, log, h, j)
	cancel()
	<-heartbeat
	q.duration.WithLabelValues(j.Kind).Observe(time.Since(start).Seconds())
	now = q.now().UTC()

	select {
	case <-lost:
		q.done.WithLabelValues(j.Kind, "lost").Inc()
		return
	default:
	}
	switch {
	case err == nil:
		q.record(log, j, "done", q.store.CompleteJob(bg, j.ID, owner, now))
		log.Info("job done", "took", time.Since(start).Round(time.Millisecond).String())
	case q.ctx.Err() != nil:
		// Shutting down: someone else (or we, after a restart) runs it.
		q.record(log, j, "released", q.store.ReleaseJob(bg, j.ID, owner, now))
		log.Info("job interrupted by shutdown; released")
	case IsPermanent(err) || j.Attempts >= j.MaxAttempts:
		q.record(log, j, "failed", q.store.FailJob(bg, j.ID, owner, q.limit(err.Error()), now, time.Time{}, true))
		log.Error("job failed; giving up", "err", err)
	default:
		wait := backoff(p, j.Attempts)
		q.record(log, j, "retry", q.store.FailJob(bg, j.ID, owner, q.limit(err.Error()), now, now.Add(wait), false))
		log.Warn("job attempt failed; will retry", "err", err, "retry_in", wait.Round(time.Millisecond).String())
	}
}

func (q *Queue) record(log *slog.Logger, j store.Job, outcome string, err error) {
	q.done.WithLabelValues(j.Kind, outcome).Inc()
	if errors.Is(err, store.ErrConflict) {
		// The row is no longer ours: deleted with its account or video
		// while it ran, or taken over after a lapsed lease.
		log.Warn("a job's outcome was not recorded: the job was deleted or taken over meanwhile", "outcome", outcome)
		return
	}
	if err != nil {
		log.Error("recording a job's outcome failed", "outcome", outcome, "err", err)
	}
}

// backoff is the wait after the given failed attempt: exponential from
// the pool's BackoffBase, capped at its BackoffMax, with ±25% jitter so
// jobs that failed together do not retry together.
func backoff(p *pool, attempt int) time.Duration {
	d := float64(p.backoffBase) * math.Pow(2, float64(max(attempt-1, 0)))
	d = min(d, float64(p.backoffMax))
	d *= 0.75 + 0.5*mrand.Float64()
	return time.Duration(d)
}

func (q *Queue) limit(msg string) string {
	if len(msg) <= q.cfg.ErrorLimit {
		return msg
	}
	return msg[:q.cfg.ErrorLimit] + "…"
}

// safeCall runs h, turning a panic into an error; the stack goes to the
// log, not into the job's error, which the owner sees.
func safeCall(ctx context.Context, log *slog.Logger, h Handler, j store.Job) (err error) {
	defer func() {
		if r := recover(); r != nil {
			log.Error("panic in job handler", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = fmt.Errorf("internal error (panic: %v)", r)
		}
	}()
	return h(ctx, j)
}

// Args decodes a job's arguments.
func Args[T any](j store.Job) (T, error) {
	var v T
	if err := json.Unmarshal(j.Args, &v); err != nil {
		return v, Permanent(fmt.Errorf("job %s: bad args: %w", j.ID, err))
	}
	return v, nil
}
