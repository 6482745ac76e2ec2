package daemon

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"framecast.dev/server/internal/config"
	"framecast.dev/shared/api"
)

// TestBeaconsCannotInflateViews: through the real server, a viewer's
// events all count; a reload by the same browser is the same view; a
// script's burst of starts is cut to the start limit with bare 429s,
// and repeating one browser's starts counts one view.
func TestBeaconsCannotInflateViews(t *testing.T) {
	ts := start(t, func(c *config.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	r := newRecording(t, ts, 1000, 1000, 1000)
	r.put(t, ts, api.InitSegment)
	for i := range 3 {
		r.put(t, ts, api.SegmentIndex(i))
	}
	v := r.finalize(t, ts, 3) // 5.5 s
	events := strings.TrimPrefix(v.ShareURL, ts.URL) + "/events"
	post := func(ip, ua, body string) (int, string) {
		t.Helper()
		resp := ts.do(t, http.MethodPost, events, strings.NewReader(body), false,
			"X-Forwarded-For", ip, "User-Agent", ua, "Content-Type", "text/plain;charset=UTF-8")
		return resp.StatusCode, readAll(t, resp)
	}
	view := func(n int) string { return fmt.Sprintf("%032x", n) }

	// A viewer, as player.js sends it: every event is taken.
	for _, b := range []string{
		`{"view":"` + view(1) + `","k":"start"}`,
		`{"view":"` + view(1) + `","k":"progress","s":[0,1,2],"p":0,"n":3}`,
		`{"view":"` + view(1) + `","k":"progress","s":[3,4,5],"p":3,"n":6}`,
		`{"view":"` + view(1) + `","k":"finish"}`,
		`{"view":"` + view(1) + `","k":"cta","b":0}`,
	} {
		if st, body := post("203.0.113.7", "Viewer A", b); st != http.StatusNoContent {
			t.Fatalf("viewer event %s: %d %s", b, st, body)
		}
	}
	// Another viewer reloads the page: a new view id, the same view.
	for _, b := range []string{
		`{"view":"` + view(2) + `","k":"start"}`,
		`{"view":"` + view(3) + `","k":"start"}`,
		`{"view":"` + view(3) + `","k":"progress","s":[0,1],"p":0,"n":2}`,
	} {
		if st, body := post("198.51.100.9", "Viewer B", b); st != http.StatusNoContent {
			t.Fatalf("reloading viewer's event %s: %d %s", b, st, body)
		}
	}
	// A script: 300 starts from one /24 with a new address, browser and
	// view each time; then 100 from one browser in another network.
	took, limited := 0, 0
	for i := range 300 {
		st, body := post(fmt.Sprintf("192.0.2.%d", i%250+1), fmt.Sprintf("bot %d", i), `{"view":"`+view(1000+i)+`","k":"start"}`)
		switch st {
		case http.StatusNoContent:
			took++
		case http.StatusTooManyRequests:
			limited++
			if body != "" {
				t.Fatalf("a 429 with a body: %q", body)
			}
		default:
			t.Fatalf("burst: status %d %s", st, body)
		}
	}
	if took < 20 || took > 21 || limited != 300-took {
		t.Fatalf("burst: %d taken, %d limited; want the start limit of 20 (21 if a refill came) and the rest refused", took, limited)
	}
	for i := range 100 {
		if st, body := post("192.0.3.4", "bot", `{"view":"`+view(2000+i)+`","k":"start"}`); st != http.StatusNoContent && st != http.StatusTooManyRequests {
			t.Fatalf("repeated starts: %d %s", st, body)
		}
	}

	ctx := context.Background()
	ts.d.track.Flush(ctx)
	rep, err := ts.d.store.TrackReport(ctx, v.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Days) != 1 {
		t.Fatalf("days %+v", rep.Days)
	}
	d := rep.Days[0]
	if want := 1 + 1 + took + 1; d.Views != want {
		t.Errorf("%d views, want %d: viewer A, the reloading viewer once, the script's %d admitted starts and one for the repeating browser", d.Views, want, took)
	}
	if d.Finishes != 1 || d.CTAClicks != 1 || d.WatchedSeconds != 6+2 {
		t.Errorf("day %+v: want viewer A's finish and click, and 6 + 2 seconds watched", d)
	}
}
