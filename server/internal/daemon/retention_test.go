package daemon

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"framecast.dev/server/internal/config"
	"framecast.dev/server/internal/store"
	"framecast.dev/shared/api"
	"framecast.dev/shared/seal"
)

// runRetention runs the daily retention job now, as of the test's clock,
// and waits for it.
func (ts *testServer) runRetention(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	j, err := ts.d.Privacy().RunRetentionNow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		got, err := ts.d.store.Job(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State == store.JobDone {
			return
		}
		if got.State == store.JobFailed || got.LastError != "" {
			t.Fatalf("retention job: %s", got.LastError)
		}
		if time.Now().After(deadline) {
			t.Fatalf("retention job still %s", got.State)
		}
	}
}

// TestRetention moves the clock and runs the daily job: abandoned
// uploads' bytes go after 7 days, expired exports with their link,
// unconfirmed accounts after 30 days, a deleted account's support
// messages after 6 months, usage history (sign-ins) after 2 years; what
// is younger stays.
func TestRetention(t *testing.T) {
	clk := newClock()
	ts, smtp := startAccounts(t, clk, func(c *config.Config) { c.Privacy.AdminEmails = []string{"help@example.com"} })
	ctx := context.Background()
	start := clk.Now()

	// The job is scheduled daily from the start.
	if n, err := ts.d.store.PendingJobs(ctx, "privacy-retention"); err != nil || n != 1 {
		t.Fatalf("pending retention jobs at start: %d, %v", n, err)
	}

	ada := signUp(t, ts, smtp, "Ada", "ada@example.com")
	wantRedirect(t, ada.post("/support", url.Values{"subject": {"Ada's question"}, "body": {"How do I trim?"}}), "/support?notice=sent")
	if m := smtp.WaitFor(t, "help@example.com", "Support: Ada's question"); !strings.Contains(m.Text, "How do I trim?") {
		t.Fatalf("support mail:\n%s", m.Text)
	}
	zed := signUp(t, ts, smtp, "Zed Zappington", "zed@example.com")
	wantRedirect(t, zed.post("/support", url.Values{"subject": {"Zed's complaint"}, "body": {"Please call me, Zappington"}}), "/support?notice=sent")
	wantRedirect(t, zed.post("/profile/delete", url.Values{"confirm": {testPassword}}), "/signin?notice=account-deleted")
	wantRedirect(t, newBrowser(t, ts.URL).post("/signup", url.Values{"name": {"Ghost"}, "email": {"ghost@example.com"}, "password": {testPassword}}), "/signin?notice=signed-up")
	smtp.WaitFor(t, "ghost@example.com", "Confirm your e-mail address")

	// An export, and an upload cut off half-way.
	wantRedirect(t, ada.post("/privacy/export", nil), "/privacy?notice=export-requested")
	link := strings.TrimPrefix(smtp.WaitFor(t, "ada@example.com", "Your Framecast data export is ready").Link(t, ts.URL+"/privacy/exports/"), ts.URL)
	app, _ := signInDevice(t, ts, clk, ada, "laptop")
	r := newRecordingWith(t, app, 3*seal.ChunkSize)
	b := r.seal[0]
	cut := seal.ChunkSize + 100
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n%s: %s\r\n%s: %d\r\nContent-Length: %d\r\n\r\n",
		api.SegmentPath(r.video.ID, 0), app.Token, api.HeaderSHA256, sum(b), api.HeaderUploadLength, len(b), len(b))
	conn.Write(b[:cut])
	time.Sleep(100 * time.Millisecond)
	conn.Close()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if st, err := app.SegmentState(ctx, r.video.ID, 0); err == nil && st.Offset == int64(cut) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the cut-off upload was not staged")
		}
	}

	// A view of one of Ada's videos (Full level), usage history too.
	wantRedirect(t, ada.post("/analytics", url.Values{"tracking": {"full"}}), "/analytics")
	viewed := newRecordingWith(t, app, 1000)
	for i := range viewed.seal {
		if _, err := app.PutSegment(ctx, viewed.video.ID, i, sum(viewed.seal[i]), int64(len(viewed.seal[i])), strings.NewReader(string(viewed.seal[i]))); err != nil {
			t.Fatal(err)
		}
	}
	vv, err := app.Finalize(ctx, viewed.video.ID, viewed.finalizeRequest(1))
	if err != nil {
		t.Fatal(err)
	}
	beacon(t, vv, `{"view":"0123456789abcdef0123456789abcdef","k":"start"}`)
	waitRows(t, ts, "track_views", vv.ID)

	// Day 1: nothing is old enough.
	clk.Add(24 * time.Hour)
	ts.runRetention(t)
	if n := len(ts.blobFilesUnder(t, "uploads/"+r.video.ID)); n == 0 {
		t.Fatal("a day-old upload was discarded")
	}
	want(t, ada.get(link), http.StatusOK)

	// Day 8: the upload's bytes and the export (expired after 7 days) go.
	clk.Add(7 * 24 * time.Hour)
	ts.runRetention(t)
	if n := len(ts.blobFilesUnder(t, "uploads/"+r.video.ID)); n != 0 {
		t.Fatalf("%d staged parts of an abandoned upload left", n)
	}
	if st, err := app.SegmentState(ctx, r.video.ID, 0); err == nil && st.Offset != 0 {
		t.Fatalf("the discarded upload still answers offset %d", st.Offset)
	}
	if es, _ := ts.d.store.Exports(ctx, ada.ID); len(es) != 0 || len(ts.blobFilesUnder(t, "exports/"+ada.ID)) != 0 {
		t.Fatalf("the expired export is still kept: %+v", es)
	}
	if _, err := ts.d.store.UserByEmail(ctx, "ghost@example.com"); err != nil {
		t.Fatal("the unconfirmed account went before 30 days")
	}
	// The desktop comes back: the segment goes again whole, nothing lost.
	if _, err := app.PutSegment(ctx, r.video.ID, 0, sum(b), int64(len(b)), strings.NewReader(string(b))); err != nil {
		t.Fatalf("resending the discarded segment: %v", err)
	}

	// Day 31: the unconfirmed account goes; Ada (confirmed) stays.
	clk.Add(23 * 24 * time.Hour)
	ts.runRetention(t)
	if _, err := ts.d.store.UserByEmail(ctx, "ghost@example.com"); err == nil {
		t.Fatal("the unconfirmed account outlived 30 days")
	}
	if _, err := ts.d.store.User(ctx, ada.ID); err != nil {
		t.Fatal("a confirmed account went")
	}

	// Six months after Zed's account went, his message goes; Ada's stays.
	clk.Add(start.Add(183 * 24 * time.Hour).Sub(clk.Now()))
	ts.runRetention(t)
	ms, err := ts.d.store.SupportMessages(ctx, 10)
	if err != nil || len(ms) != 1 || ms[0].Subject != "Ada's question" {
		t.Fatalf("support messages after 6 months: %+v, %v", ms, err)
	}
	sweep(t, ts, []string{zed.ID, "zed@example.com", "Zappington"}, nil)

	// Two years on, Ada's sign-ins go (she signed in once, at the start).
	if si, _ := ts.d.store.SignIns(ctx, ada.ID, 10); len(si) == 0 {
		t.Fatal("no sign-ins to expire; the test would prove nothing")
	}
	if countRows(t, ts, "track_views") != 1 || countRows(t, ts, "track_daily") != 1 {
		t.Fatal("usage history younger than two years went")
	}
	clk.Add(start.Add(731 * 24 * time.Hour).Sub(clk.Now()))
	ts.runRetention(t)
	if si, _ := ts.d.store.SignIns(ctx, ada.ID, 10); len(si) != 0 {
		t.Fatalf("sign-ins older than two years: %+v", si)
	}
	for _, table := range []string{"track_views", "track_daily"} {
		if n := countRows(t, ts, table); n != 0 {
			t.Errorf("%s holds %d rows older than two years", table, n)
		}
	}
	// Still one daily job queued.
	if n, err := ts.d.store.PendingJobs(ctx, "privacy-retention"); err != nil || n != 1 {
		t.Fatalf("pending retention jobs: %d, %v", n, err)
	}
}

// TestSupportFormLimit: the contact form mails the administrators, so one
// account can send ten messages a day; the eleventh is refused with a
// message and stored nowhere, and a day later the form works again.
func TestSupportFormLimit(t *testing.T) {
	clk := newClock()
	ts, smtp := startAccounts(t, clk, func(c *config.Config) { c.Privacy.AdminEmails = []string{"help@example.com"} })
	ada := signUp(t, ts, smtp, "Ada", "ada@example.com")
	for i := range 10 {
		wantRedirect(t, ada.post("/support", url.Values{"subject": {fmt.Sprintf("Question %d", i)}, "body": {"How do I trim?"}}), "/support?notice=sent")
	}
	a := ada.post("/support", url.Values{"subject": {"One more"}, "body": {"Still there?"}})
	if a.Status != http.StatusConflict || !strings.Contains(a.Body, "You sent 10 messages in the last 24 hours") {
		t.Fatalf("the eleventh message: %d, want 409 saying why:\n%s", a.Status, clip(a.Body))
	}
	ms, err := ts.d.store.SupportMessages(context.Background(), 100)
	if err != nil || len(ms) != 10 {
		t.Fatalf("stored %d messages, %v; want the 10 accepted", len(ms), err)
	}
	clk.Add(24*time.Hour + time.Second)
	wantRedirect(t, ada.post("/support", url.Values{"subject": {"Next day"}, "body": {"Thanks"}}), "/support?notice=sent")
}
