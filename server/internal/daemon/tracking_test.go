package daemon

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"framecast.dev/server/internal/config"
	"framecast.dev/server/internal/store"
	"framecast.dev/server/internal/track"
)

// viewerIP is the public address every test viewer presents (through
// the trusted-proxy header): the DB-IP database places it in London.
const viewerIP = "81.2.69.142"

// geoDBPath is the location database make setup installs.
func geoDBPath(t testing.TB) string {
	t.Helper()
	p := filepath.Join(repoRoot(t), "server", config.DefaultGeoIPDB[len("server/"):])
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("the location database is not installed (make setup runs npm ci in server/geoip): %v", err)
	}
	return p
}

// trackCase is one level × signal of the matrix, on a video of its own.
type trackCase struct {
	Level  string `json:"level"`
	Signal string `json:"signal"` // "", "dnt" or "gpc"
	Path   string `json:"path"`
	Notice string `json:"notice"`
	id     string
}

// TestTrackingBrowser plays a video in Chromium for every tracking level
// × viewer signal (none, DNT, GPC), clicks its button, then checks what
// the database holds, that no table and no log line holds the viewer's
// address, and that lowering a level deletes what it must. One server,
// one browser (server/web/e2e/tracking.test.js) for all nine.
func TestTrackingBrowser(t *testing.T) {
	node, chromium, e2e := browserTools(t)
	clk := newClock()
	ts, smtp := startAccounts(t, clk, func(c *config.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		c.GeoIPDB = geoDBPath(t)
	})
	ctx := context.Background()
	owner := signUp(t, ts, smtp, "Olga Owner", "olga@acme.example")
	app, _ := signInDevice(t, ts, clk, owner, "laptop")
	// The account default is Full, with a mail on each first view; the
	// Full videos follow it, the others choose their own level.
	want(t, owner.get("/analytics"), 200, "Tracking default", `value="anonymous" checked`)
	wantRedirect(t, owner.post("/analytics", url.Values{"tracking": {"full"}, "first_view_mail": {"on"}}), "/analytics?notice=")
	rec := recordHLS(t, 3, 320, 240)
	var cases []*trackCase
	for _, level := range []string{store.TrackFull, store.TrackAnonymous, store.TrackOff} {
		for _, signal := range []string{"", "dnt", "gpc"} {
			v := rec.uploadWith(t, app, "Tracking "+level+" "+signal)
			sv := &sharedVideo{ts: ts, v: v, slug: v.ShareURL[strings.LastIndex(v.ShareURL, "/")+1:]}
			sv.settings(t, func(s *store.VideoSettings) {
				s.CTAButtons = []store.CTAButton{{Label: "Book a demo", URL: ts.URL + "/healthz"}}
			})
			form := level
			if level == store.TrackFull {
				form = "default"
			}
			wantRedirect(t, owner.post("/videos/"+v.ID+"/tracking", url.Values{"tracking": {form}}), "/videos/"+v.ID+"?notice=tracking-saved")
			cases = append(cases, &trackCase{Level: level, Signal: signal, Path: "/v/" + sv.slug, Notice: track.Notice(level), id: v.ID})
		}
	}
	want(t, owner.get("/videos/"+cases[0].id), 200, `id="tracking-level">Full<`, `value="default" checked`)
	want(t, owner.get("/videos/"+cases[6].id), 200, `id="tracking-level">Off<`, `value="off" checked`)
	b, _ := json.Marshal(map[string]any{"base": ts.URL, "ip": viewerIP, "cases": cases,
		"session": owner.cookie("fc_session"), "analytics": "/videos/" + cases[0].id + "/analytics"})
	fx := filepath.Join(t.TempDir(), "fixture.json")
	if err := os.WriteFile(fx, b, 0o600); err != nil {
		t.Fatal(err)
	}
	runNode(t, node, chromium, e2e, "tracking.test.js", fx)
	ts.d.track.Flush(ctx)

	db := ts.d.store.(interface{ DB() *sql.DB }).DB()
	count := func(table, id string) int {
		var n int
		if err := db.QueryRow(`SELECT COUNT(*) FROM `+table+` WHERE video_id = ?`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	aggregates := []string{"track_daily", "track_retention", "track_histogram", "track_countries", "track_cta", "track_seen"}
	perView := []string{"track_views", "track_view_clicks"}
	for _, c := range cases {
		name := c.Level + "/" + c.Signal
		r, err := ts.d.store.TrackReport(ctx, c.id, 10)
		if err != nil {
			t.Fatal(err)
		}
		if c.Level == store.TrackOff {
			for _, table := range append(aggregates, perView...) {
				if n := count(table, c.id); n != 0 {
					t.Errorf("%s: %s holds %d rows", name, table, n)
				}
			}
			continue
		}
		// Anonymous, or Full capped by DNT/GPC: the aggregates of one
		// view that played to the end and clicked the button.
		if len(r.Days) != 1 {
			t.Errorf("%s: days %+v, want one", name, r.Days)
			continue
		}
		d := r.Days[0]
		if d.Views != 1 || d.Viewers != 1 || d.Finishes != 1 || d.CTAClicks != 1 || d.WatchedSeconds < 2 || d.WatchedSeconds > 4 {
			t.Errorf("%s: day %+v, want 1 view, 1 viewer, 1 finish, 1 click, 2-4 s watched", name, d)
		}
		if len(r.Countries) != 1 || r.Countries[0].Key != "GB" || len(r.Buttons) != 1 || r.Buttons[0] != (store.TrackCount{Index: 0, N: 1}) {
			t.Errorf("%s: countries %+v, buttons %+v", name, r.Countries, r.Buttons)
		}
		if len(r.Retention) < 2 || r.Retention[0] != (store.TrackCount{Index: 0, N: 1}) {
			t.Errorf("%s: retention %+v", name, r.Retention)
		}
		if count("track_seen", c.id) != 1 {
			t.Errorf("%s: %d viewer hashes, want 1", name, count("track_seen", c.id))
		}
		if c.Level == store.TrackFull && c.Signal == "" {
			if len(r.Views) != 1 {
				t.Errorf("%s: %d view rows, want 1", name, len(r.Views))
				continue
			}
			v := r.Views[0]
			if v.Country != "GB" || v.City != "London" || v.Device != "desktop" || v.Referrer != "news.example.com" ||
				!v.Finished || v.WatchedSeconds != d.WatchedSeconds || len(v.Clicks) != 1 || v.Clicks[0] != 0 {
				t.Errorf("%s: view %+v", name, v)
			}
			continue
		}
		for _, table := range perView {
			if n := count(table, c.id); n != 0 {
				t.Errorf("%s: %s holds %d rows; this view is anonymous", name, table, n)
			}
		}
	}
	noAddress(t, ts, db)

	// The owner's pages: the Full view with its place and the credit to
	// DB-IP, the CSV, the library's totals; a mail for the first view.
	full := cases[0]
	page := owner.get("/videos/" + full.id + "/analytics")
	want(t, page, 200, `id="views">1<`, `id="viewers">1<`, `id="completion">100 %<`, `id="ctr">100 %<`, "London, GB",
		"news.example.com", "Book a demo", `href="https://db-ip.com"`, "IP Geolocation by DB-IP", `id="retention-chart"`)
	daysChart(t, page.Body, 14, 1)
	csv := owner.get("/videos/" + full.id + "/analytics.csv")
	want(t, csv, 200, "day,views,unique_viewers", "London", "news.example.com", "Book a demo")
	want(t, owner.get("/videos/"+cases[6].id+"/analytics"), 200, "tracking is off for this video")
	want(t, owner.get("/analytics"), 200, `<span class="views">6</span> views`)
	smtp.WaitFor(t, "olga@acme.example", "First view of")
	if n := len(smtp.Messages()); n > 1+1+6 { // sign-up, and one first view per tracked video at most
		t.Errorf("%d mails: more than one first-view mail per video", n)
	}

	// Lowering deletes: Full → Anonymous drops the view rows and keeps
	// the totals; Anonymous → Off drops everything; lowering the account
	// default does it for the videos that follow it.
	anon := cases[3]
	wantRedirect(t, owner.post("/videos/"+full.id+"/tracking", url.Values{"tracking": {"anonymous"}}), "/videos/")
	if count("track_views", full.id)+count("track_view_clicks", full.id) != 0 || count("track_daily", full.id) != 1 {
		t.Error("Full → Anonymous: view rows kept or totals lost")
	}
	wantRedirect(t, owner.post("/videos/"+anon.id+"/tracking", url.Values{"tracking": {"off"}}), "/videos/")
	for _, table := range aggregates {
		if n := count(table, anon.id); n != 0 {
			t.Errorf("Anonymous → Off: %s keeps %d rows", table, n)
		}
	}
	wantRedirect(t, owner.post("/analytics", url.Values{"tracking": {"off"}}), "/analytics?notice=")
	for _, c := range cases[1:3] { // Full, following the default
		for _, table := range aggregates {
			if n := count(table, c.id); n != 0 {
				t.Errorf("default lowered to Off: %s keeps %d rows of a video following it", table, n)
			}
		}
	}
	if count("track_daily", full.id) != 1 || count("track_daily", cases[4].id) != 1 {
		t.Error("lowering the default touched videos with their own level")
	}
	// The videos' processing ran beside the browser; let it end before
	// the server is stopped.
	for _, c := range cases {
		ts.waitJobs(t, c.id, 3*time.Minute)
	}
}

// noAddress fails if the viewer's address, whole or truncated, is in any
// table, the database files, or (whole) in the server's log.
func noAddress(t *testing.T, ts *testServer, db *sql.DB) {
	t.Helper()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	prefix := viewerIP[:strings.LastIndex(viewerIP, ".")+1] // "81.2.69."
	for _, table := range tables {
		rs, err := db.Query(`SELECT * FROM "` + table + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rs.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rs.Next() {
			if err := rs.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				s := fmt.Sprint(v)
				if b, ok := v.([]byte); ok {
					s = string(b)
				}
				if strings.Contains(s, prefix) {
					t.Errorf("table %s, column %s holds the viewer's address: %q", table, cols[i], s)
				}
			}
		}
		rs.Close()
	}
	if len(tables) < 10 {
		t.Fatalf("only %d tables walked", len(tables))
	}
	files, _ := filepath.Glob(filepath.Join(ts.DataDir, "framecast.db*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(viewerIP)) {
			t.Errorf("%s holds the viewer's address", filepath.Base(f))
		}
	}
	if len(files) == 0 {
		t.Fatal("no database file found")
	}
	if logs := ts.logs.String(); strings.Contains(logs, viewerIP) || !strings.Contains(logs, "remote="+prefix+"0") {
		t.Errorf("the log holds the viewer's whole address, or no truncated one (is the proxy header honoured?)")
	}
}

// browserTools finds node, chromium and the e2e folder with its
// node_modules; a missing one fails the test.
func browserTools(t *testing.T) (node, chromium, e2e string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed (Node 20+ is needed for the browser tests): ", err)
	}
	chromium = os.Getenv("FRAMECAST_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("chromium is not installed at %s (apt-get install chromium): %v", chromium, err)
	}
	e2e = filepath.Join(repoRoot(t), "server", "web", "e2e")
	if _, err := os.Stat(filepath.Join(e2e, "node_modules", "playwright-core", "package.json")); err != nil {
		t.Fatalf("playwright-core is not installed: run (cd server/web/e2e && npm ci): %v", err)
	}
	return node, chromium, e2e
}

// runNode runs one e2e test file with a fixture.
func runNode(t *testing.T, node, chromium, e2e, file, fixture string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", "--test-concurrency=1", filepath.Join(e2e, file))
	cmd.Dir = e2e
	cmd.Env = append(os.Environ(), "FRAMECAST_E2E="+fixture, "FRAMECAST_ARTIFACTS="+artifactsDir(t), "FRAMECAST_CHROMIUM="+chromium)
	out, err := cmd.CombinedOutput()
	t.Logf("node --test %s:\n%s", file, out)
	if err != nil {
		t.Fatalf("browser tests failed: %v", err)
	}
}

// daysChart checks the views-per-day chart's data on an analytics page:
// n consecutive days ending today, with views on today only.
func daysChart(t *testing.T, body string, n, today int) {
	t.Helper()
	const open = `<script type="application/json" id="chart-data">`
	i := strings.Index(body, open)
	if i < 0 {
		t.Fatal("the analytics page has no chart data")
	}
	raw := body[i+len(open):]
	raw = raw[:strings.Index(raw, "</script>")]
	var c struct {
		Days  []int64 `json:"days"`
		Views []int   `json:"views"`
	}
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		t.Fatalf("chart data %q: %v", raw, err)
	}
	now := time.Now().UTC()
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).Unix()
	if len(c.Days) != n || len(c.Views) != n || c.Days[n-1] != midnight {
		t.Fatalf("chart has days %v (views %v), want %d days ending today (%d)", c.Days, c.Views, n, midnight)
	}
	for k := 1; k < n; k++ {
		if c.Days[k]-c.Days[k-1] != 86400 {
			t.Fatalf("chart days %v are not consecutive", c.Days)
		}
	}
	if c.Views[n-1] != today {
		t.Fatalf("chart views %v, want %d today", c.Views, today)
	}
}
