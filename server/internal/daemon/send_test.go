package daemon

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"framecast.dev/server/internal/store"
	"framecast.dev/server/internal/track"
	"framecast.dev/shared/api"
)

// TestSendByMail sends a video from the dashboard: at Full each recipient
// gets a personal link whose views the owner sees, with one-click
// unsubscribe (never mailed again); at Anonymous the mails carry the
// plain link and nothing is kept per recipient.
func TestSendByMail(t *testing.T) {
	clk := newClock()
	ts, smtp := startAccounts(t, clk)
	ctx := context.Background()
	owner := signUp(t, ts, smtp, "Olga Owner", "olga@acme.example")
	app, _ := signInDevice(t, ts, clk, owner, "laptop")
	rec := recordHLS(t, 3, 320, 240)
	v := rec.uploadWith(t, app, "Quarterly plan")
	ts.waitJobs(t, v.ID, 2*time.Minute)
	sv := &sharedVideo{ts: ts, v: v}
	sv.settings(t, func(s *store.VideoSettings) {
		s.CTAButtons = []store.CTAButton{{Label: "Book a demo", URL: "https://acme.example/demo"}}
	})
	wantRedirect(t, owner.post("/videos/"+v.ID+"/tracking", url.Values{"tracking": {"full"}}), "/videos/")
	want(t, owner.get("/videos/"+v.ID), 200, "Send by e-mail", "Ask first", "needs their consent")
	want(t, owner.post("/videos/"+v.ID+"/send", url.Values{"recipients": {"ann@example.com, not an address"}}), 400, "is not an e-mail address")
	if n := len(smtp.Messages()); n != 1 { // the sign-up mail
		t.Fatalf("a refused send mailed: %d mails", n)
	}

	wantRedirect(t, owner.post("/videos/"+v.ID+"/send", url.Values{"recipients": {"Ann@Example.com, bob@example.com\nann@example.com"},
		"note": {"Have a look before Monday."}}), "/videos/"+v.ID+"?notice=video-sent")
	ann := smtp.WaitFor(t, "ann@example.com", "Olga Owner sent you a video: Quarterly plan")
	bob := smtp.WaitFor(t, "bob@example.com", "sent you a video")
	for _, m := range []struct {
		name string
		h    map[string][]string
		raw  string
	}{{"ann", ann.Header, string(ann.Raw)}, {"bob", bob.Header, string(bob.Raw)}} {
		lu := http.Header(m.h).Get("List-Unsubscribe")
		if !strings.HasPrefix(lu, "<"+ts.URL+"/unsubscribe/r/") || http.Header(m.h).Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
			t.Errorf("%s's mail: List-Unsubscribe %q, -Post %q", m.name, lu, http.Header(m.h).Get("List-Unsubscribe-Post"))
		}
		if !strings.Contains(m.raw, "preview.gif") || !strings.Contains(m.raw, "text/html") {
			t.Errorf("%s's mail has no moving preview", m.name)
		}
	}
	if !strings.Contains(ann.Text, "Have a look before Monday.") {
		t.Errorf("the note is missing:\n%s", ann.Text)
	}
	link := ann.Link(t, "?r=")
	if bobLink := bob.Link(t, "?r="); bobLink == link {
		t.Fatal("two recipients got the same personal link")
	}

	// Ann's share page reports her view as player.js does.
	base, token, _ := strings.Cut(link, "?r=")
	events := strings.TrimPrefix(base, ts.URL) + "/events"
	view := strings.Repeat("ab", 16)
	for _, b := range []map[string]any{
		{"view": view, "k": "start", "rcp": token},
		{"view": view, "k": "progress", "s": []int{0, 1, 2}, "p": 0, "n": 3},
		{"view": view, "k": "finish"},
		{"view": view, "k": "cta", "b": 0},
	} {
		body, _ := json.Marshal(b)
		wantStatus(t, ts.do(t, http.MethodPost, events, strings.NewReader(string(body)), false, "Origin", ts.URL, "Content-Type", "text/plain;charset=UTF-8"), http.StatusNoContent)
	}
	// Another site's page cannot post events.
	wantStatus(t, ts.do(t, http.MethodPost, events, strings.NewReader(`{"view":"`+view+`","k":"finish"}`), false, "Origin", "https://evil.example"), http.StatusForbidden)
	page := owner.get("/videos/" + v.ID + "/analytics")
	want(t, page, 200, "Sent by e-mail", "ann@example.com", "bob@example.com", "not opened", "Book a demo")
	stats, err := ts.d.store.RecipientStats(ctx, v.ID)
	if err != nil || len(stats) != 2 {
		t.Fatalf("recipients %+v, %v", stats, err)
	}
	for _, r := range stats {
		switch r.Email {
		case "ann@example.com":
			if r.Views != 1 || !r.Finished || r.WatchedSeconds != 3 || len(r.Clicks) != 1 {
				t.Errorf("ann: %+v", r)
			}
		case "bob@example.com":
			if r.Views != 0 {
				t.Errorf("bob: %+v", r)
			}
		}
	}

	// Bob unsubscribes in one click (his mail provider POSTs the header's
	// URL), and is not mailed again.
	unsub := strings.Trim(http.Header(bob.Header).Get("List-Unsubscribe"), "<>")
	resp, err := http.Post(unsub, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); resp.StatusCode != 200 || !strings.Contains(body, "Done") || len(resp.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("one-click unsubscribe: %d, cookies %v", resp.StatusCode, resp.Header.Values("Set-Cookie"))
	}
	forged := strings.Replace(unsub, "/unsubscribe/r/", "/unsubscribe/r/x", 1)
	if resp, _ := http.Post(forged, "text/plain", nil); resp == nil || resp.StatusCode != 404 {
		t.Errorf("a forged unsubscribe link was taken")
	}
	wantRedirect(t, owner.post("/videos/"+v.ID+"/send", url.Values{"recipients": {"BOB@example.com, carl@example.com"}}), "/videos/"+v.ID+"?notice=video-sent-skipped")
	smtp.WaitFor(t, "carl@example.com", "sent you a video")
	time.Sleep(300 * time.Millisecond)
	toBob := 0
	for _, m := range smtp.Messages() {
		for _, to := range m.To {
			if to == "bob@example.com" {
				toBob++
			}
		}
	}
	if toBob != 1 {
		t.Errorf("%d mails to bob; he unsubscribed after the first", toBob)
	}
	db := ts.d.store.(interface{ DB() *sql.DB }).DB()
	var kept string
	if err := db.QueryRow(`SELECT address_hash FROM mail_suppressions`).Scan(&kept); err != nil || kept != track.AddressHash("bob@example.com") {
		t.Errorf("the suppression list holds %q (%v), want only the hash of bob's address", kept, err)
	}

	// Anonymous: the per-recipient rows go, and new mails carry the plain link.
	wantRedirect(t, owner.post("/videos/"+v.ID+"/tracking", url.Values{"tracking": {"anonymous"}}), "/videos/")
	want(t, owner.get("/videos/"+v.ID), 200, "nothing is kept about each recipient")
	wantRedirect(t, owner.post("/videos/"+v.ID+"/send", url.Values{"recipients": {"dora@example.com"}}), "/videos/"+v.ID+"?notice=video-sent")
	dora := smtp.WaitFor(t, "dora@example.com", "sent you a video")
	if l := dora.Link(t, "/v/"); strings.Contains(l, "?r=") {
		t.Errorf("an Anonymous video was sent with a personal link: %s", l)
	}
	// The desktop's share menu sends through the API, with the same rules.
	res, err := app.SendVideo(ctx, v.ID, api.SendVideoRequest{Recipients: []string{"erin@example.com", "bob@example.com"}})
	if err != nil || res.Sent != 1 || res.Personal || len(res.Unsubscribed) != 1 || res.Unsubscribed[0] != "bob@example.com" {
		t.Fatalf("API send = %+v, %v", res, err)
	}
	smtp.WaitFor(t, "erin@example.com", "sent you a video")
	if _, err := app.SendVideo(ctx, v.ID, api.SendVideoRequest{Recipients: []string{"nope"}}); !api.IsCode(err, api.CodeBadRequest) {
		t.Fatalf("API send to a bad address: %v", err)
	}
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM track_recipients WHERE video_id = ?`, v.ID).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d recipient rows at Anonymous (%v)", n, err)
	}
}
