package track

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"framecast.dev/server/internal/store"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }
func newFakeClock() *fakeClock           { return &fakeClock{t: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)} }
func admitted(g *Guard, c Client, kind string, n int) int {
	ok := 0
	for range n {
		if g.Admit(c, kind) {
			ok++
		}
	}
	return ok
}

// TestGuardLimitsABurst: one client network gets its burst, then its
// rate; another address in the same /24 shares the bucket, another
// network has its own.
func TestGuardLimitsABurst(t *testing.T) {
	clk := newFakeClock()
	g := NewGuard(GuardConfig{}, clk.now)
	bot := Client{IP: "192.0.2.10", UserAgent: "bot"}
	if n := admitted(g, bot, "progress", 1000); n != 120 {
		t.Fatalf("%d of a burst of 1000 admitted, want the burst of 120", n)
	}
	if g.Admit(Client{IP: "192.0.2.77", UserAgent: "other"}, "progress") {
		t.Fatal("another address of the same /24 escaped the limit")
	}
	if !g.Admit(Client{IP: "192.0.3.10"}, "progress") {
		t.Fatal("another network was limited")
	}
	clk.add(time.Second)
	if n := admitted(g, bot, "progress", 100); n != 4 {
		t.Fatalf("%d admitted a second later, want 4", n)
	}
	// Starts have their own, smaller bucket.
	net6 := Client{IP: "2001:db8:1:2::5"}
	if n := admitted(g, net6, "start", 100); n != 20 {
		t.Fatalf("%d of 100 starts admitted, want 20", n)
	}
	if !g.Admit(Client{IP: "2001:db8:1:ffff::9"}, "progress") {
		t.Fatal("progress refused after the starts ran out")
	}
	clk.add(10 * time.Second)
	if n := admitted(g, net6, "start", 100); n != 1 {
		t.Fatalf("%d starts admitted 10 s later, want 1", n)
	}
}

// TestGuardAdmitsRealViewers: a viewer of a 10-minute video, and ten of
// them behind one office router at once, are never limited.
func TestGuardAdmitsRealViewers(t *testing.T) {
	clk := newFakeClock()
	g := NewGuard(GuardConfig{}, clk.now)
	office := make([]Client, 10)
	for i := range office {
		office[i] = Client{IP: fmt.Sprintf("198.51.100.%d", i+1), UserAgent: fmt.Sprintf("browser %d", i)}
		if !g.Admit(office[i], "start") {
			t.Fatalf("viewer %d's start refused", i)
		}
	}
	// Progress every 5 s, a pause and play now and then (another flush),
	// then a finish and three clicks each.
	for s := 5; s <= 600; s += 5 {
		clk.add(5 * time.Second)
		for i, c := range office {
			if !g.Admit(c, "progress") || s%60 == 0 && !g.Admit(c, "progress") {
				t.Fatalf("viewer %d's progress at %d s refused", i, s)
			}
		}
	}
	for i, c := range office {
		for _, k := range []string{"finish", "cta", "cta", "cta"} {
			if !g.Admit(c, k) {
				t.Fatalf("viewer %d's %s refused", i, k)
			}
		}
	}
}

// TestGuardCountsRepeatedStartsOnce: the same browser starting the same
// video again within the window is the same view, and its later events
// go to that view; another browser, another video, another personal
// link or a later start are views of their own.
func TestGuardCountsRepeatedStartsOnce(t *testing.T) {
	clk := newFakeClock()
	g := NewGuard(GuardConfig{}, clk.now)
	c := Client{IP: "203.0.113.5", UserAgent: "Firefox"}
	if !g.start(c, "vid", "view1", "") {
		t.Fatal("the first start did not count")
	}
	for _, v := range []string{"view1", "view2", "view3"} {
		if g.start(c, "vid", v, "") {
			t.Fatalf("a repeated start (%s) counted", v)
		}
	}
	if got, ok := g.view("vid", "view2"); got != "view1" || !ok {
		t.Fatalf("the reload's events go to %s (started %v), want view1", got, ok)
	}
	if got, ok := g.view("vid", "view1"); got != "view1" || !ok {
		t.Fatalf("the view's own events go to %s (started %v)", got, ok)
	}
	// An id no start created is no view, here or on another video.
	if got, ok := g.view("vid", "view9"); got != "view9" || ok {
		t.Fatalf("a view never started: %s, started %v; want itself, not started", got, ok)
	}
	if _, ok := g.view("other", "view1"); ok {
		t.Fatal("a view started on one video counts as started on another")
	}
	for _, tc := range []struct {
		c          Client
		video, rcp string
	}{
		{Client{IP: "203.0.113.5", UserAgent: "Chrome"}, "vid", ""},
		{c, "other", ""},
		{c, "vid", "recipient-secret"},
		{Client{IP: "203.0.114.5", UserAgent: "Firefox"}, "vid", ""},
	} {
		if !g.start(tc.c, tc.video, "view-"+tc.video+tc.c.IP+tc.c.UserAgent+tc.rcp, tc.rcp) {
			t.Errorf("start of %+v counted as a repeat", tc)
		}
	}
	clk.add(10 * time.Minute)
	if !g.start(c, "vid", "view4", "") {
		t.Fatal("a start after the window did not count")
	}
}

// TestGuardMemoryIsBounded: a flood from many networks keeps at most
// MaxEntries of each kind of entry.
func TestGuardMemoryIsBounded(t *testing.T) {
	clk := newFakeClock()
	g := NewGuard(GuardConfig{MaxEntries: 1000}, clk.now)
	for i := range 50000 {
		c := Client{IP: fmt.Sprintf("10.%d.%d.1", i/256, i%256), UserAgent: "bot"}
		g.Admit(c, "start")
		g.start(c, "vid", fmt.Sprintf("v%d", i), "")
		g.start(c, "vid", fmt.Sprintf("w%d", i), "")
		clk.add(time.Millisecond)
	}
	if n := g.Len(); n > 4000 {
		t.Fatalf("the guard holds %d entries after 50,000 networks, want at most 4,000", n)
	}
	// The latest networks are still limited.
	last := Client{IP: "10.195.79.1"}
	if n := admitted(g, last, "start", 100); n != 19 {
		t.Fatalf("the latest network got %d more starts, want 19", n)
	}
}

// TestIngestCountsRepeatedStartsOnce: through the service, a reload's
// start is not queued and its progress is queued for the first view.
func TestIngestCountsRepeatedStartsOnce(t *testing.T) {
	r := &recorder{}
	clk := newFakeClock()
	s := &Service{log: quiet(), now: clk.now, guard: NewGuard(GuardConfig{}, clk.now)}
	s.batch = NewBatcher(r.write, 1000, time.Hour, quiet())
	defer s.batch.Close(context.Background())
	target := Target{Video: store.Video{ID: "vid"}, Duration: 10, Buttons: 3}
	first, reload := strings.Repeat("0a", 16), strings.Repeat("0b", 16)
	c := Client{IP: "203.0.113.5", UserAgent: "Firefox"}
	s.salt, s.saltDay = []byte("salt"), store.DayOf(clk.now()) // no database here
	for _, b := range []Beacon{
		{View: first, Kind: store.EventStart},
		{View: reload, Kind: store.EventStart},
		{View: reload, Kind: store.EventProgress, Seconds: []int{0, 1}, Watched: 2},
	} {
		if err := s.Ingest(context.Background(), target, b, c); err != nil {
			t.Fatal(err)
		}
	}
	s.batch.mu.Lock()
	defer s.batch.mu.Unlock()
	if len(s.batch.buf) != 2 || s.batch.buf[0].Kind != store.EventStart || s.batch.buf[1].ViewID != first {
		t.Fatalf("queued %+v; want the first start and the reload's progress for the first view", s.batch.buf)
	}
}
