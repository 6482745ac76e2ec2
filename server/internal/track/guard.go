package track

import (
	"container/list"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"time"

	"framecast.dev/server/internal/account"
)

// Guard keeps a script from inflating a video's numbers. Beacons need no
// session, so without it anyone could post a thousand starts a second.
//
//   - A rate limit per client network (the /24 or /48 the access log
//     keeps): a token bucket for all events and a smaller one for starts.
//     A viewer sends a start, a progress beacon every 5 s or so, a finish
//     and a click or two; the buckets hold what several viewers behind
//     one office router send at once. Over the limit an event is dropped.
//   - Repeated starts of one video by one client (network and browser)
//     within SameView count as one view: the later page's events are
//     added to the first page's view.
//   - A view exists only once its start was taken: progress, finish and
//     click events of a view id no start created are not views. The
//     guard remembers the views it started (for aliasTTL), so telling
//     costs no database read per beacon. It is the simplest sound choice:
//     an id the server signed at start would also work across replicas,
//     but the share page is cached whole and sends beacons it cannot
//     read answers to (sendBeacon), so the browser could not learn it.
//     The price: with several replicas, a page whose later beacons reach
//     a replica other than the one that took its start (or after a
//     restart) loses that view's progress, never invents one.
//
// Nothing of an address is kept: entries are keyed by an HMAC under a
// key made at start and never stored, and their number is bounded (the
// least recently seen go first). Each replica counts on its own.
type Guard struct {
	cfg GuardConfig
	key []byte
	now func() time.Time

	mu      sync.Mutex
	clients *lru[*buckets] // network → its buckets
	starts  *lru[string]   // network, browser, video, recipient → the view counted
	aliases *lru[string]   // a repeated start's view → the view counted
	started *lru[struct{}] // video, view → a start was taken for it
}

// GuardConfig tunes a Guard. Zero values take the defaults in brackets.
type GuardConfig struct {
	Burst      int           // events a client network may send at once [120]
	PerSecond  float64       // events per second after that [4]
	StartBurst int           // starts it may send at once [20]
	StartEvery time.Duration // one more start per [10s]
	SameView   time.Duration // repeated starts within this count once [10m]
	MaxEntries int           // networks, and views, remembered [20000]
}

func (c *GuardConfig) defaults() {
	if c.Burst <= 0 {
		c.Burst = 120
	}
	if c.PerSecond <= 0 {
		c.PerSecond = 4
	}
	if c.StartBurst <= 0 {
		c.StartBurst = 20
	}
	if c.StartEvery <= 0 {
		c.StartEvery = 10 * time.Second
	}
	if c.SameView <= 0 {
		c.SameView = 10 * time.Minute
	}
	if c.MaxEntries <= 0 {
		c.MaxEntries = 20000
	}
}

// aliasTTL is how long a repeated start's page may go on sending events
// that count toward the first view.
const aliasTTL = 6 * time.Hour

// NewGuard returns a Guard; now nil means time.Now.
func NewGuard(c GuardConfig, now func() time.Time) *Guard {
	c.defaults()
	if now == nil {
		now = time.Now
	}
	key := make([]byte, 32)
	rand.Read(key)
	return &Guard{cfg: c, key: key, now: now,
		clients: newLRU[*buckets](c.MaxEntries), starts: newLRU[string](c.MaxEntries), aliases: newLRU[string](c.MaxEntries),
		started: newLRU[struct{}](c.MaxEntries)}
}

type buckets struct {
	events, starts float64
	at             time.Time
}

// Admit counts one event of kind from the client and reports whether it
// is within the limits.
func (g *Guard) Admit(c Client, kind string) bool {
	k := g.hash(account.TruncateIP(c.IP))
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	b, ok := g.clients.get(k, now)
	if !ok {
		b = &buckets{events: float64(g.cfg.Burst), starts: float64(g.cfg.StartBurst), at: now}
	}
	if d := now.Sub(b.at).Seconds(); d > 0 {
		b.events = min(float64(g.cfg.Burst), b.events+d*g.cfg.PerSecond)
		b.starts = min(float64(g.cfg.StartBurst), b.starts+d/g.cfg.StartEvery.Seconds())
		b.at = now
	}
	// Kept whatever the answer, so a client over the limit stays known.
	g.clients.put(k, b, time.Time{})
	if b.events < 1 || kind == "start" && b.starts < 1 {
		return false
	}
	b.events--
	if kind == "start" {
		b.starts--
	}
	return true
}

// start reports whether a start of videoID's page view counts as a new
// view; when it does not, later events of view go to the view counted.
func (g *Guard) start(c Client, videoID, view, recipient string) bool {
	k := g.hash(account.TruncateIP(c.IP), c.UserAgent, videoID, recipient)
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	if first, ok := g.starts.get(k, now); ok {
		if first != view {
			g.aliases.put(g.hash(videoID, view), first, now.Add(aliasTTL))
		}
		return false
	}
	g.starts.put(k, view, now.Add(g.cfg.SameView))
	g.started.put(g.hash(videoID, view), struct{}{}, now.Add(aliasTTL))
	return true
}

// view is the view that events of view count toward, and whether a start
// of it (or of the view it repeats) was taken: false for an id no start
// created, whose events are not a view.
func (g *Guard) view(videoID, view string) (string, bool) {
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	if first, ok := g.aliases.get(g.hash(videoID, view), now); ok {
		view = first
	}
	_, ok := g.started.get(g.hash(videoID, view), now)
	return view, ok
}

// Len is how many entries the guard holds (tests check the bound).
func (g *Guard) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.clients.len() + g.starts.len() + g.aliases.len() + g.started.len()
}

func (g *Guard) hash(parts ...string) [16]byte {
	m := hmac.New(sha256.New, g.key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	var k [16]byte
	copy(k[:], m.Sum(nil))
	return k
}

// lru is a map of at most max entries that forgets the least recently
// used first, and each entry at its expiry (zero: never).
type lru[V any] struct {
	max   int
	order *list.List // front: most recently used
	items map[[16]byte]*list.Element
}

type lruEntry[V any] struct {
	key     [16]byte
	val     V
	expires time.Time
}

func newLRU[V any](max int) *lru[V] {
	return &lru[V]{max: max, order: list.New(), items: map[[16]byte]*list.Element{}}
}

func (l *lru[V]) get(k [16]byte, now time.Time) (V, bool) {
	var zero V
	el, ok := l.items[k]
	if !ok {
		return zero, false
	}
	e := el.Value.(*lruEntry[V])
	if !e.expires.IsZero() && !now.Before(e.expires) {
		l.order.Remove(el)
		delete(l.items, k)
		return zero, false
	}
	l.order.MoveToFront(el)
	return e.val, true
}

func (l *lru[V]) put(k [16]byte, v V, expires time.Time) {
	if el, ok := l.items[k]; ok {
		e := el.Value.(*lruEntry[V])
		e.val = v
		if !expires.IsZero() {
			e.expires = expires
		}
		l.order.MoveToFront(el)
		return
	}
	for l.order.Len() >= l.max {
		last := l.order.Back()
		l.order.Remove(last)
		delete(l.items, last.Value.(*lruEntry[V]).key)
	}
	l.items[k] = l.order.PushFront(&lruEntry[V]{key: k, val: v, expires: expires})
}

func (l *lru[V]) len() int { return l.order.Len() }
