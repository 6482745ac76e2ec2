package track

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"framecast.dev/server/internal/store"
)

// retentionOf plays views (each a list of watched seconds, as the page
// reports them: each second once) through the same aggregation the store
// does, then RetentionCurve.
func retentionOf(duration float64, views [][]int) []float64 {
	per := map[int]int{}
	for _, v := range views {
		for _, s := range v {
			per[s]++
		}
	}
	var counts []store.TrackCount
	for s, n := range per {
		counts = append(counts, store.TrackCount{Index: s, N: n})
	}
	return RetentionCurve(counts, len(views), duration)
}

func seconds(from, to int) []int {
	var out []int
	for s := from; s < to; s++ {
		out = append(out, s)
	}
	return out
}

func TestRetentionCurve(t *testing.T) {
	near := func(a, b []float64) bool {
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if math.Abs(a[i]-b[i]) > 1e-9 {
				return false
			}
		}
		return true
	}
	for _, tc := range []struct {
		name     string
		duration float64
		views    [][]int
		want     []float64
	}{
		{"everyone watches it all", 4, [][]int{seconds(0, 4), seconds(0, 4)}, []float64{1, 1, 1, 1}},
		{"half leave after two seconds", 4, [][]int{seconds(0, 4), seconds(0, 2)}, []float64{1, 1, 0.5, 0.5}},
		{"a steady decline", 4, [][]int{seconds(0, 1), seconds(0, 2), seconds(0, 3), seconds(0, 4)}, []float64{1, 0.75, 0.5, 0.25}},
		{"one skips ahead", 5, [][]int{seconds(0, 5), {0, 3, 4}}, []float64{1, 0.5, 0.5, 1, 1}},
		{"a started view that watched nothing", 2, [][]int{seconds(0, 2), nil}, []float64{0.5, 0.5}},
		{"a partial last second counts as a second", 2.4, [][]int{seconds(0, 3)}, []float64{1, 1, 1}},
		{"seconds past the end are ignored", 2, [][]int{{0, 1, 2, 3}}, []float64{1, 1}},
		{"no views, no curve", 3, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := retentionOf(tc.duration, tc.views); !near(got, tc.want) {
				t.Fatalf("retention = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSummarise(t *testing.T) {
	r := store.TrackReport{
		Days: []store.TrackDay{{Day: 1, Views: 3, Viewers: 2, Finishes: 1, WatchedSeconds: 12, CTAClicks: 1},
			{Day: 2, Views: 1, Viewers: 1, Finishes: 1, WatchedSeconds: 4, CTAClicks: 1}},
		Retention: []store.TrackCount{{Index: 0, N: 4}, {Index: 1, N: 4}, {Index: 2, N: 2}, {Index: 3, N: 2}},
		Histogram: []store.TrackCount{{Index: 4, N: 2}, {Index: 9, N: 2}},
	}
	s := Summarise(r, store.TrackAnonymous, 4)
	if s.Views != 4 || s.Viewers != 3 || s.AvgWatch != 4 || s.Completion != 0.5 || s.ClickThrough != 0.5 {
		t.Fatalf("summary = %+v", s)
	}
	if !slices.Equal(s.Retention, []float64{1, 1, 0.5, 0.5}) || s.Histogram[4] != 2 || s.Histogram[9] != 2 {
		t.Fatalf("curve %v, histogram %v", s.Retention, s.Histogram)
	}
}

func TestTenth(t *testing.T) {
	for _, tc := range []struct {
		s    int
		d    float64
		want int
	}{{0, 10, 0}, {1, 10, 1}, {9, 10, 9}, {10, 10, 9}, {12, 10, 9}, {5, 0, 0}, {30, 60, 5}} {
		if got := Tenth(tc.s, tc.d); got != tc.want {
			t.Errorf("Tenth(%d, %v) = %d, want %d", tc.s, tc.d, got, tc.want)
		}
	}
}

func TestDeviceClass(t *testing.T) {
	for ua, want := range map[string]string{
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36":                                   "desktop",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1": "mobile",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36":                       "mobile",
		"Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36":                              "tablet",
		"Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15":                                                                      "tablet",
		"Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)":                                                                              "bot",
		"curl/8.5.0": "bot",
		"":           "other",
	} {
		if got := DeviceClass(ua); got != want {
			t.Errorf("DeviceClass(%q) = %s, want %s", ua, got, want)
		}
	}
}

func TestReferrerDomain(t *testing.T) {
	for in, want := range map[string]string{
		"https://News.Example.com/story?id=7#top": "news.example.com",
		"mail.google.com":                         "mail.google.com",
		"http://intranet.example:8080/x":          "intranet.example",
		"https://81.2.69.142/page":                "",
		"81.2.69.142":                             "",
		"https://[2001:db8::1]/":                  "",
		"javascript:alert(1)":                     "",
		"not a host":                              "",
		"localhost":                               "localhost",
		"":                                        "",
	} {
		if got := ReferrerDomain(in); got != want {
			t.Errorf("ReferrerDomain(%q) = %q, want %q", in, got, want)
		}
	}
}

// geoDB is the database make setup installs; the tests need it.
func geoDB(t *testing.T) string {
	t.Helper()
	dir, _ := os.Getwd()
	for ; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		p := filepath.Join(dir, "server", "geoip", "node_modules", "@ip-location-db", "dbip-city-mmdb")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatal("the DB-IP location database is not installed: run make setup (npm ci in server/geoip)")
	return ""
}

func TestGeoLookup(t *testing.T) {
	g, err := OpenGeo(geoDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if len(g.Files()) != 2 {
		t.Fatalf("files %v, want the IPv4 and IPv6 databases", g.Files())
	}
	for ip, want := range map[string][2]string{
		"81.2.69.142":       {"GB", "London"},
		"2a00:1450:4001::1": {"DE", "Frankfurt am Main"},
		"127.0.0.1":         {"", ""},
		"192.168.1.7":       {"", ""},
		"not an address":    {"", ""},
	} {
		cc, city := g.Lookup(ip)
		if cc != want[0] || city != want[1] {
			t.Errorf("Lookup(%s) = %s, %s; want %v", ip, cc, city, want)
		}
	}
	if _, err := OpenGeo(filepath.Join(t.TempDir(), "missing.mmdb")); err == nil {
		t.Error("a missing database opened")
	}
	var none *Geo
	if cc, _ := none.Lookup("81.2.69.142"); cc != "" {
		t.Error("a nil Geo found a country")
	}
}

// recorder is a write function that keeps what it was given.
type recorder struct {
	mu      sync.Mutex
	batches [][]store.TrackEvent
	fail    int // fail this many writes first
}

func (r *recorder) write(_ context.Context, es []store.TrackEvent) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail > 0 {
		r.fail--
		return io.ErrUnexpectedEOF
	}
	r.batches = append(r.batches, slices.Clone(es))
	return nil
}

func (r *recorder) events() (n, batches int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range r.batches {
		n += len(b)
	}
	return n, len(r.batches)
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestBatcherFlushesOnSize(t *testing.T) {
	r := &recorder{}
	b := NewBatcher(r.write, 10, time.Hour, quiet())
	for i := range 25 {
		if err := b.Add(store.TrackEvent{ViewID: string(rune('a' + i))}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		// A full batch goes out without waiting for the timer; how many
		// exactly depends on how the adds raced the writer.
		if n, _ := r.events(); n >= 10 {
			break
		}
		if time.Now().After(deadline) {
			n, _ := r.events()
			t.Fatalf("after 25 events with a size of 10, %d were written (the timer is an hour away)", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	n, batches := r.events()
	if n != 25 {
		t.Fatalf("%d events written, want all 25", n)
	}
	for _, bt := range r.batches {
		if len(bt) > 10 {
			t.Fatalf("a batch of %d, more than the size", len(bt))
		}
	}
	if batches < 3 {
		t.Fatalf("%d batches for 25 events of 10 at most", batches)
	}
	if err := b.Add(store.TrackEvent{}); err != ErrClosed {
		t.Fatalf("Add after Close: %v", err)
	}
}

func TestBatcherFlushesOnTime(t *testing.T) {
	r := &recorder{}
	b := NewBatcher(r.write, 1000, 50*time.Millisecond, quiet())
	defer b.Close(context.Background())
	b.Add(store.TrackEvent{})
	deadline := time.Now().Add(5 * time.Second)
	for {
		if n, _ := r.events(); n == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("a lone event was not written by the timer")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestBatcherRetriesAndLosesNothingOnClose(t *testing.T) {
	r := &recorder{fail: 2}
	b := NewBatcher(r.write, 100, time.Hour, quiet())
	for range 250 {
		b.Add(store.TrackEvent{})
	}
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, _ := r.events(); n != 250 {
		t.Fatalf("%d of 250 events written after two failed writes and Close", n)
	}
}

func TestViewerHash(t *testing.T) {
	a := ViewerHash([]byte("salt1"), "81.2.69.142", "UA", "vid")
	if len(a) != 32 || a == ViewerHash([]byte("salt2"), "81.2.69.142", "UA", "vid") ||
		a == ViewerHash([]byte("salt1"), "81.2.69.142", "UA", "other") || a != ViewerHash([]byte("salt1"), "81.2.69.142", "UA", "vid") {
		t.Fatal("the hash must depend on salt and video, and nothing else random")
	}
	// Separators keep fields apart: ("ab", "c") is not ("a", "bc").
	if ViewerHash(nil, "ab", "c", "v") == ViewerHash(nil, "a", "bc", "v") {
		t.Fatal("fields run into each other")
	}
}

func TestParseRecipients(t *testing.T) {
	got, err := ParseRecipients("Ann@Example.com, bob@example.com;\nann@example.com\tcarl@example.org")
	if err != nil || !slices.Equal(got, []string{"ann@example.com", "bob@example.com", "carl@example.org"}) {
		t.Fatalf("ParseRecipients = %v, %v", got, err)
	}
	for _, bad := range []string{"", "  ,; ", "ann", "Ann <ann@example.com>", "ann@example.com, <script>"} {
		if _, err := ParseRecipients(bad); !IsInvalid(err) {
			t.Errorf("ParseRecipients(%q) = %v, want a refusal", bad, err)
		}
	}
	var many []string
	for i := range MaxRecipients + 1 {
		many = append(many, fmt.Sprintf("r%d@example.com", i))
	}
	if _, err := ParseRecipients(strings.Join(many, ",")); !IsInvalid(err) {
		t.Errorf("%d recipients were taken", len(many))
	}
}

func TestUnsubscribeToken(t *testing.T) {
	a := &Service{unsubKey: []byte("key a")}
	b := &Service{unsubKey: []byte("key b")}
	tok := a.UnsubscribeToken("ann@example.com")
	enc, mac, _ := strings.Cut(tok, ".")
	if mac != a.unsubscribeMAC("ann@example.com") || b.UnsubscribeToken("ann@example.com") == tok {
		t.Fatal("the token must be the address MAC'd with the server's key")
	}
	other := a.UnsubscribeToken("bob@example.com")
	if _, bobMAC, _ := strings.Cut(other, "."); bobMAC == mac || enc+"."+bobMAC == other {
		t.Fatal("another address's MAC must not fit")
	}
}

// TestIngestCapsAndChecks: a beacon is checked before it is queued, and
// the viewer's DNT or GPC (header, or read by the page) caps its view.
func TestIngestCapsAndChecks(t *testing.T) {
	r := &recorder{}
	s := &Service{log: quiet(), now: time.Now}
	s.batch = NewBatcher(r.write, 1000, time.Hour, quiet())
	defer s.batch.Close(context.Background())
	target := Target{Video: store.Video{ID: "vid"}, Duration: 10, Buttons: 3}
	view := strings.Repeat("0f", 16)
	one := 1
	for _, tc := range []struct {
		name   string
		b      Beacon
		c      Client
		capped bool
	}{
		{"no signal", Beacon{View: view, Kind: store.EventFinish}, Client{}, false},
		{"DNT header", Beacon{View: view, Kind: store.EventFinish}, Client{DNT: true}, true},
		{"Sec-GPC header", Beacon{View: view, Kind: store.EventFinish}, Client{GPC: true}, true},
		{"the page read DNT or GPC", Beacon{View: view, Kind: store.EventCTA, Button: &one, DNT: true}, Client{}, true},
	} {
		before := s.batch.Pending()
		if err := s.Ingest(context.Background(), target, tc.b, tc.c); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		s.batch.mu.Lock()
		e := s.batch.buf[len(s.batch.buf)-1]
		s.batch.mu.Unlock()
		if s.batch.Pending() != before+1 || e.Capped != tc.capped {
			t.Errorf("%s: queued %+v, want capped=%v", tc.name, e, tc.capped)
		}
	}
	five := 5
	for _, bad := range []Beacon{
		{View: "short", Kind: store.EventFinish},
		{View: strings.Repeat("G", 32), Kind: store.EventFinish},
		{View: view, Kind: "dance"},
		{View: view, Kind: store.EventProgress},
		{View: view, Kind: store.EventProgress, Seconds: []int{3, 40}, Watched: 2},
		{View: view, Kind: store.EventProgress, Seconds: []int{-1}, Watched: 1},
		{View: view, Kind: store.EventProgress, Seconds: []int{1}, Prev: 3, Watched: 2},
		{View: view, Kind: store.EventCTA},
		{View: view, Kind: store.EventCTA, Button: &five},
	} {
		if err := s.Ingest(context.Background(), target, bad, Client{}); !IsInvalid(err) {
			t.Errorf("beacon %+v: %v, want a refusal", bad, err)
		}
	}
	// Progress: seconds are sorted and counted once; the histogram moves
	// from the tenth before to the tenth after.
	if err := s.Ingest(context.Background(), target, Beacon{View: view, Kind: store.EventProgress, Seconds: []int{4, 3, 4}, Prev: 3, Watched: 5}, Client{}); err != nil {
		t.Fatal(err)
	}
	s.batch.mu.Lock()
	e := s.batch.buf[len(s.batch.buf)-1]
	s.batch.mu.Unlock()
	if !slices.Equal(e.Seconds, []int{3, 4}) || e.PrevBucket != 3 || e.Bucket != 5 || e.Watched != 5 {
		t.Errorf("progress queued as %+v", e)
	}
}
