package daemon

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"framecast.dev/server/internal/config"
	"framecast.dev/server/internal/mail/mailtest"
)

// TestPrivacyChoices: the profile shows everything kept (sign-ins by
// network only); restricting processing stops informational mail;
// informational mail carries List-Unsubscribe, and one click (a POST
// without cookies, as mail providers send it) stops it; a legal notice
// still reaches everyone.
func TestPrivacyChoices(t *testing.T) {
	clk := newClock()
	ts, smtp := startAccounts(t, clk, func(c *config.Config) { c.Privacy.AdminEmails = []string{"admin@example.com"} })
	ctx := context.Background()
	admin := signUp(t, ts, smtp, "Admin", "admin@example.com")
	ada := signUp(t, ts, smtp, "Ada", "ada@example.com")
	bob := signUp(t, ts, smtp, "Bob", "bob@example.com")

	// Access: everything kept, on the profile.
	p := ada.get("/profile")
	want(t, p, http.StatusOK, "Everything else we keep about you", "version 1 accepted", "<td>password</td><td>127.0.0.0</td>",
		"informational mail on, processing not restricted")
	if strings.Contains(p.Body, "<td>127.0.0.1</td>") {
		t.Error("the profile shows a full IP address")
	}

	// Restriction, in Ada's privacy log.
	wantRedirect(t, ada.post("/privacy/restriction", url.Values{"restrict": {"on"}}), "/privacy?notice=restricted")
	want(t, ada.get("/privacy"), http.StatusOK, "Restricted since", "You restricted the processing of your data")
	if r, err := ts.d.Privacy().Restricted(ctx, ada.ID); err != nil || !r {
		t.Fatalf("restricted = %v, %v", r, err)
	}

	day := 24 * time.Hour
	publish := func(version string, in time.Duration, major bool) {
		t.Helper()
		f := url.Values{"version": {version}, "summary": {"Change " + version}, "body": {"Text " + version}, "effective": {clk.Now().Add(in).Format("2006-01-02")}}
		if major {
			f.Set("major", "on")
		}
		wantRedirect(t, admin.post("/admin/policy", f), "/admin/policy?notice=published")
		waitNoPending(t, ts, "privacy-policy-notice")
	}
	mailsTo := func(to, subject string) []mailtest.Message {
		var out []mailtest.Message
		for _, m := range smtp.Messages() {
			for _, r := range m.To {
				if r == to && strings.Contains(m.Text, subject) {
					out = append(out, m)
				}
			}
		}
		return out
	}

	// A minor change is informational: not to Ada (restricted); to Bob
	// with List-Unsubscribe.
	publish("2", 29*day, false)
	if n := len(mailsTo("ada@example.com", "Change 2")); n != 0 {
		t.Errorf("a restricted user got %d informational mails", n)
	}
	bm := mailsTo("bob@example.com", "Change 2")
	if len(bm) != 1 || len(mailsTo("admin@example.com", "Change 2")) != 1 {
		t.Fatalf("minor notice: bob %d, admin %d mails", len(bm), len(mailsTo("admin@example.com", "Change 2")))
	}
	lu := bm[0].Header.Get("List-Unsubscribe")
	if bm[0].Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || !strings.HasPrefix(lu, "<"+ts.URL+"/unsubscribe/") {
		t.Fatalf("unsubscribe headers: %v", bm[0].Header)
	}
	unsub := strings.Trim(lu, "<>")
	if !strings.Contains(bm[0].Text, unsub) {
		t.Errorf("no footer link in:\n%s", bm[0].Text)
	}

	// One click, as a mail provider sends it: no cookies, no CSRF token.
	forged := unsub[:len(unsub)-3] + "xyz"
	resp, err := http.Post(forged, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, resp, http.StatusNotFound)
	want(t, newBrowser(t, ts.URL).get(strings.TrimPrefix(unsub, ts.URL)), http.StatusOK, "Unsubscribe")
	if ps, _ := ts.d.store.PrivacySettings(ctx, bob.ID); !ps.OptionalMail {
		t.Fatal("opening the link (GET) unsubscribed; only the POST may")
	}
	resp, err = http.Post(unsub, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Header.Values("Set-Cookie")) != 0 {
		t.Errorf("one-click unsubscribe set cookies: %v", resp.Header.Values("Set-Cookie"))
	}
	wantStatus(t, resp, http.StatusOK)
	want(t, bob.get("/privacy"), http.StatusOK, "You turned informational mail off with the link in a mail.")

	publish("3", 30*day, false)
	if n := len(mailsTo("bob@example.com", "Change 3")); n != 0 {
		t.Errorf("an unsubscribed user got %d informational mails", n)
	}
	if n := len(mailsTo("admin@example.com", "Change 3")); n != 1 {
		t.Errorf("admin got %d mails about version 3", n)
	}

	// A major change is a legal notice: to everyone, without unsubscribe.
	publish("4", 31*day, true)
	for _, to := range []string{"ada@example.com", "bob@example.com", "admin@example.com"} {
		ms := mailsTo(to, "Change 4")
		if len(ms) != 1 || ms[0].Header.Get("List-Unsubscribe") != "" {
			t.Errorf("major notice to %s: %d mails %v", to, len(ms), ms)
		}
	}

	// Mail back on from the preferences; the restriction lifted.
	wantRedirect(t, bob.post("/privacy/mail", url.Values{"optional_mail": {"on"}}), "/privacy?notice=saved#mail")
	wantRedirect(t, ada.post("/privacy/restriction", url.Values{"restrict": {"off"}}), "/privacy?notice=unrestricted")
	for _, id := range []string{ada.ID, bob.ID} {
		if ok, err := ts.d.Privacy().MayMailOptional(ctx, id); err != nil || !ok {
			t.Errorf("informational mail for %s: %v, %v", id, ok, err)
		}
	}
}

func waitNoPending(t *testing.T, ts *testServer, kind string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		n, err := ts.d.store.PendingJobs(context.Background(), kind)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d %s jobs still pending", n, kind)
		}
	}
}

// TestCookies: viewers of a shared video get no cookie at all; a
// signed-in user holds exactly the session and CSRF cookies, whatever
// pages they use; the cookies page lists exactly those.
func TestCookies(t *testing.T) {
	ts, smtp := startAccounts(t, nil)
	r := newRecording(t, ts, 1000, 2000)
	for i := range r.seal {
		r.put(t, ts, i)
	}
	v := r.finalize(t, ts, 2)
	share := strings.TrimPrefix(v.ShareURL, ts.URL)

	// A viewer: every request a share page makes, and none sets a cookie.
	jar, _ := cookiejar.New(nil)
	viewer := &http.Client{Jar: jar}
	for _, path := range []string{share, share + "/playlist.m3u8", share + "/init.mp4", share + "/seg/0.m4s",
		strings.Replace(share, "/v/", "/embed/", 1), "/oembed?url=" + url.QueryEscape(v.ShareURL)} {
		resp, err := viewer.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("viewer GET %s: %d", path, resp.StatusCode)
		}
		if c := resp.Header.Values("Set-Cookie"); len(c) != 0 {
			t.Errorf("a viewer got cookies from %s: %v", path, c)
		}
	}
	resp, err := viewer.Post(v.ShareURL+"/events", "text/plain", strings.NewReader(`{"view":"0123456789abcdef0123456789abcdef","k":"start"}`))
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	if c := resp.Header.Values("Set-Cookie"); resp.StatusCode != http.StatusNoContent || len(c) != 0 {
		t.Errorf("a viewer's event: %d, cookies %v", resp.StatusCode, c)
	}
	if c := jar.Cookies(mustURL(ts.URL)); len(c) != 0 {
		t.Errorf("the viewer holds cookies: %v", c)
	}

	// A signed-in user, through the app's pages.
	p := signUp(t, ts, smtp, "Pat", "pat@example.com")
	allowed := []string{"fc_csrf", "fc_session"}
	for _, path := range []string{"/library", "/videos", "/profile", "/privacy", "/privacy/cookies", "/privacy/policy", "/workspaces", "/devices", "/support", share} {
		a := p.get(path)
		if a.Status != http.StatusOK {
			t.Fatalf("GET %s: %d", path, a.Status)
		}
		for _, c := range a.Header.Values("Set-Cookie") {
			if name, _, _ := strings.Cut(c, "="); !slices.Contains(allowed, name) {
				t.Errorf("%s set cookie %s", path, name)
			}
		}
	}
	wantRedirect(t, p.post("/privacy/mail", url.Values{"optional_mail": {"on"}}), "/privacy")
	var held []string
	for _, c := range p.c.Jar.Cookies(mustURL(ts.URL)) {
		held = append(held, c.Name)
	}
	sort.Strings(held)
	if !slices.Equal(held, allowed) {
		t.Errorf("a signed-in user holds cookies %v, want exactly %v", held, allowed)
	}

	// The cookies page lists exactly what is set.
	var listed []string
	for _, m := range regexp.MustCompile(`<code class="cookie-name">([^<]+)</code>`).FindAllStringSubmatch(p.get("/privacy/cookies").Body, -1) {
		listed = append(listed, m[1])
	}
	sort.Strings(listed)
	if !slices.Equal(listed, allowed) {
		t.Errorf("the cookies page lists %v, want %v", listed, allowed)
	}
}

// TestFirstViewMailFollowsChoices: the first-view mail (informational)
// carries List-Unsubscribe, and stops when its owner turns such mail off.
func TestFirstViewMailFollowsChoices(t *testing.T) {
	clk := newClock()
	ts, smtp := startAccounts(t, clk)
	owner := signUp(t, ts, smtp, "Olga", "olga@example.com")
	wantRedirect(t, owner.post("/analytics", url.Values{"tracking": {"anonymous"}, "first_view_mail": {"on"}}), "/analytics")
	app, _ := signInDevice(t, ts, clk, owner, "laptop")
	view := func() {
		t.Helper()
		r := newRecordingWith(t, app, 1000)
		for i := range r.seal {
			if _, err := app.PutSegment(context.Background(), r.video.ID, i, sum(r.seal[i]), int64(len(r.seal[i])), strings.NewReader(string(r.seal[i]))); err != nil {
				t.Fatal(err)
			}
		}
		v, err := app.Finalize(context.Background(), r.video.ID, r.finalizeRequest(1))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Post(v.ShareURL+"/events", "text/plain", strings.NewReader(`{"view":"0123456789abcdef0123456789abcdef","k":"start"}`))
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, resp, http.StatusNoContent)
	}
	view()
	m := smtp.WaitFor(t, "olga@example.com", "First view of")
	if m.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || !strings.Contains(m.Text, "/unsubscribe/") {
		t.Fatalf("first-view mail without one-click unsubscribe: %v\n%s", m.Header, m.Text)
	}
	wantRedirect(t, owner.post("/privacy/mail", nil), "/privacy?notice=saved#mail")
	view()
	time.Sleep(1500 * time.Millisecond) // the batcher writes within a second
	n := 0
	for _, m := range smtp.Messages() {
		if strings.Contains(m.Subject, "First view of") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d first-view mails; the second video's went to an owner who turned informational mail off", n)
	}
}

// TestRestrictionStopsTracking: while the owner restricts processing,
// a view of their video records nothing at all; lifted, views count
// again.
func TestRestrictionStopsTracking(t *testing.T) {
	clk := newClock()
	ts, smtp := startAccounts(t, clk)
	owner := signUp(t, ts, smtp, "Rita", "rita@example.com")
	wantRedirect(t, owner.post("/analytics", url.Values{"tracking": {"full"}}), "/analytics")
	app, _ := signInDevice(t, ts, clk, owner, "laptop")
	r := newRecordingWith(t, app, 1000)
	for i := range r.seal {
		if _, err := app.PutSegment(context.Background(), r.video.ID, i, sum(r.seal[i]), int64(len(r.seal[i])), strings.NewReader(string(r.seal[i]))); err != nil {
			t.Fatal(err)
		}
	}
	v, err := app.Finalize(context.Background(), r.video.ID, r.finalizeRequest(1))
	if err != nil {
		t.Fatal(err)
	}
	wantRedirect(t, owner.post("/privacy/restriction", url.Values{"restrict": {"on"}}), "/privacy?notice=restricted")
	beacon(t, v, `{"view":"0123456789abcdef0123456789abcdef","k":"start"}`)
	time.Sleep(1500 * time.Millisecond) // the batcher writes within a second
	for _, table := range []string{"track_views", "track_daily", "track_seen", "track_countries"} {
		var n int
		if err := ts.d.store.(interface{ DB() *sql.DB }).DB().QueryRow("SELECT count(*) FROM "+table+" WHERE video_id = ?", v.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%s holds %d rows about a restricted owner's video", table, n)
		}
	}
	wantRedirect(t, owner.post("/privacy/restriction", url.Values{"restrict": {"off"}}), "/privacy?notice=unrestricted")
	// Another viewer: the same browser starting the video again within
	// minutes would be the view already started (see track.Guard).
	req, _ := http.NewRequest(http.MethodPost, v.ShareURL+"/events", strings.NewReader(`{"view":"fedcba9876543210fedcba9876543210","k":"start"}`))
	req.Header.Set("User-Agent", "another viewer")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, resp, http.StatusNoContent)
	waitRows(t, ts, "track_views", v.ID)
}
