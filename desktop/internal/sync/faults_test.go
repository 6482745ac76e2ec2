package sync_test

import (
	"io"
	"math/rand/v2"
	"net"
	stdsync "sync"
	"sync/atomic"
	"testing"
	"time"

	upsync "framecast.dev/desktop/internal/sync"
	"framecast.dev/shared/api"
)

// The server is killed while a recording goes on and stays down for 10 s
// (five segments close meanwhile), then comes back on the same data: every
// segment arrives exactly once, byte for byte, the uploader backs off
// rather than hammering, and the link plays right after the recording
// ends.
func TestServerDownWhileRecording(t *testing.T) {
	requireFFmpeg(t)
	srv := startServer(t, "")
	d := openDesk(t, t.TempDir())
	up := runUploader(t, d, srv.URL)
	r, dir := newRecording(t, d, "Outage")
	rec, err := record(d.q, r.ID, dir, 18, up.Notify, nil)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for up.ev.count(upsync.EventSegmentUploaded) < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if up.ev.count(upsync.EventSegmentUploaded) < 3 {
		t.Fatal("nothing uploaded before the outage")
	}
	// Kill it mid-upload when possible: segments take a while to send.
	srv.Kill()
	before := rec.segments()
	failuresBefore := up.ev.count(upsync.EventOffline) + up.ev.count(upsync.EventRetry)
	time.Sleep(10 * time.Second)
	during := rec.segments() - before
	failures := up.ev.count(upsync.EventOffline) + up.ev.count(upsync.EventRetry) - failuresBefore
	t.Logf("%d segments closed and %d attempts failed during the 10 s outage", during, failures)
	if during < 4 {
		t.Fatalf("only %d segments closed during the outage; the test needs several", during)
	}
	// Backoff with a Notify-driven probe at most every second: about one
	// attempt per second plus a few, never a busy loop.
	if failures < 2 || failures > 25 {
		t.Fatalf("%d failed attempts in a 10 s outage", failures)
	}
	srv.Start()
	back := time.Now()
	rec.wait(t)
	waitReady(t, up.Uploader, r.ID, 20*time.Second)
	t.Logf("recording ready %v after the server came back", time.Since(back).Round(time.Millisecond))
	got := checkDelivered(t, srv, d, r.ID)
	if got.SegmentCount != rec.segments()+1 {
		t.Fatalf("queue has %d segments, the recorder closed %d + init", got.SegmentCount, rec.segments())
	}
	if up.ev.count(upsync.EventOnline) < 1 {
		t.Fatal("no online event after the outage")
	}
}

// cutProxy forwards TCP to the server, but every connection ends after a
// random number of request bytes: most are cut (closed), every few go
// silent (no byte further, no close), as a dropped Wi-Fi does.
type cutProxy struct {
	ln         net.Listener
	target     string
	stallEvery int64 // every stallEvery-th connection goes silent instead of closing
	maxAt      int64 // each connection carries fewer request bytes than this

	mu     stdsync.Mutex
	n      int64
	rng    *rand.Rand
	cuts   atomic.Int64
	stalls atomic.Int64
	done   chan struct{}
	conns  []net.Conn
}

func startProxy(t *testing.T, target string, stallEvery, maxAt int64) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, stallEvery: stallEvery, maxAt: maxAt,
		rng: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7)), done: make(chan struct{})}
	go p.serve()
	t.Cleanup(p.close)
	return p
}

func (p *cutProxy) URL() string { return "http://" + p.ln.Addr().String() }

func (p *cutProxy) close() {
	close(p.done)
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

func (p *cutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.handle(c)
	}
}

func (p *cutProxy) handle(c net.Conn) {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, c, s)
	p.n++
	stall := p.n%p.stallEvery == 2
	at := p.rng.Int64N(p.maxAt)
	p.mu.Unlock()
	go func() { io.Copy(c, s); c.Close() }()
	if n, _ := io.CopyN(s, c, at); n < at {
		s.Close() // the client hung up first
		return
	}
	if stall {
		p.stalls.Add(1)
		<-p.done // silent: both ends stay open until the test ends
		return
	}
	p.cuts.Add(1)
	c.Close()
	s.Close()
}

// Connections cut at random points of the request (headers, body, between
// requests) and connections that go silent: every segment still arrives
// exactly once and byte for byte, cut uploads resume from the server's
// offset instead of starting over, and stalled ones are abandoned after
// the stall timeout.
func TestConnectionsCutMidPut(t *testing.T) {
	srv := startServer(t, "")
	proxy := startProxy(t, srv.Addr, 5, 1_000_000)
	d := openDesk(t, t.TempDir())
	r := d.create(t, "Flaky network")
	d.add(t, r.ID, api.InitSegment, 1000)
	for i := range api.SegmentIndex(16) {
		d.add(t, r.ID, i, 400_000+int(i)*7_000)
	}
	d.finish(t, r.ID)
	up := runUploader(t, d, proxy.URL(), func(c *upsync.Config) {
		c.StallTimeout = 500 * time.Millisecond
		c.RetryMax = time.Second
	})
	waitReady(t, up.Uploader, r.ID, 90*time.Second)
	checkDelivered(t, srv, d, r.ID)
	st := up.Stats()
	t.Logf("%d connections cut, %d stalled; stats %+v", proxy.cuts.Load(), proxy.stalls.Load(), st)
	if proxy.cuts.Load() == 0 || proxy.stalls.Load() == 0 {
		t.Fatal("the proxy cut or stalled nothing; the test tested nothing")
	}
	if st.Resumed == 0 {
		t.Fatal("no upload resumed from an offset: cut uploads started over")
	}
}
