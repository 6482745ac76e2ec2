package daemon

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"framecast.dev/server/internal/account"
	"framecast.dev/server/internal/config"
	"framecast.dev/server/internal/mail/mailtest"
	"framecast.dev/server/internal/store"
)

// accountJobs lists the account mail jobs in the server's database.
func accountJobs(t *testing.T, ts *testServer) []store.Job {
	t.Helper()
	ids := columnValuesMaybe(t, ts, `SELECT id FROM jobs WHERE kind LIKE 'account-%' ORDER BY created_at`)
	var js []store.Job
	for _, id := range ids {
		j, err := ts.d.store.Job(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		js = append(js, j)
	}
	return js
}

func countKind(js []store.Job, kind string) int {
	n := 0
	for _, j := range js {
		if j.Kind == kind {
			n++
		}
	}
	return n
}

// TestAccountMailGoesThroughTheJobQueue: sign-up and reset mails are
// jobs whose rows hold neither the address nor the link; a reset for an
// address without an account queues the same job as one for a real
// account, so the queue does not tell them apart either.
func TestAccountMailGoesThroughTheJobQueue(t *testing.T) {
	ts, smtp := startAccounts(t, nil)
	signUp(t, ts, smtp, "Ada", "ada@example.com")
	before := accountJobs(t, ts)
	if countKind(before, account.JobSignUp) != 1 || countKind(before, account.JobMail) != 1 {
		t.Fatalf("after a sign-up: %d sign-up and %d mail jobs, want 1 and 1", countKind(before, account.JobSignUp), countKind(before, account.JobMail))
	}

	anon := newBrowser(t, ts.URL)
	known := anon.post("/reset", url.Values{"email": {"ada@example.com"}})
	unknown := anon.post("/reset", url.Values{"email": {"nobody@example.com"}})
	if known.Status != unknown.Status || known.Location != unknown.Location || known.Body != unknown.Body {
		t.Fatalf("reset answers differ: %+v vs %+v", known, unknown)
	}
	link := smtp.WaitFor(t, "ada@example.com", "Reset your Framecast password").Link(t, "/reset/")
	smtp.NoMailTo(t, "nobody@example.com", 300*time.Millisecond)
	secret := link[strings.LastIndex(link, "/")+1:]

	after := accountJobs(t, ts)
	if n := countKind(after, account.JobReset); n != 2 {
		t.Fatalf("%d reset jobs for one known and one unknown address, want 2 (one each)", n)
	}
	if n := countKind(after, account.JobMail); n != 2 {
		t.Fatalf("%d mail jobs, want 2 (the confirmation and one reset mail)", n)
	}
	for _, j := range after {
		if j.State != store.JobDone {
			t.Errorf("job %s (%s) is %s: %s", j.ID, j.Kind, j.State, j.LastError)
		}
		for _, leak := range []string{secret, "ada@example.com", "nobody@example.com", "Ada", "/reset", "argon2id"} {
			if strings.Contains(string(j.Args), leak) {
				t.Errorf("the %s job's row holds %q in plain text: %s", j.Kind, leak, j.Args)
			}
		}
	}
	// The link from the job works, once.
	wantRedirect(t, anon.post(link, url.Values{"password": {"a brand new password"}}), "/signin?notice=password-reset")
	want(t, anon.post(link, url.Values{"password": {"another new password"}}), http.StatusNotFound, "not valid any more")
}

// TestAccountMailSurvivesSMTPOutageAndRestart: with the SMTP server down
// a mail is retried and arrives, once, when the server is back; a mail
// queued by a server that then stops is sent, once, by the next server
// on the same database.
func TestAccountMailSurvivesSMTPOutageAndRestart(t *testing.T) {
	opts := []Option{withMailBackoff(300 * time.Millisecond)}
	smtp := mailtest.Start(t)
	ts := startWith(t, opts, func(c *config.Config) { c.SMTPURL = smtp.URL() })
	signUp(t, ts, smtp, "Ada", "ada@example.com")
	anon := newBrowser(t, ts.URL)

	// waitFailedAttempt waits until the newest mail job failed an attempt
	// and waits for its retry.
	waitFailedAttempt := func(ts *testServer) store.Job {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			js := accountJobs(t, ts)
			if j := js[len(js)-1]; j.Kind == account.JobMail && j.Attempts >= 1 && j.LastError != "" {
				if strings.Contains(j.LastError, "ada@example.com") {
					t.Errorf("the job's error names the recipient: %s", j.LastError)
				}
				return j
			}
			if time.Now().After(deadline) {
				t.Fatalf("no failed mail attempt within 10s; jobs: %+v", js)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	// resetMails checks, after wait, that n reset mails arrived in all.
	resetMails := func(n int, wait time.Duration) {
		t.Helper()
		time.Sleep(wait)
		got := 0
		for _, m := range smtp.Messages() {
			if strings.Contains(m.Subject, "Reset your Framecast password") {
				got++
			}
		}
		if got != n {
			t.Fatalf("%d reset mails arrived, want %d", got, n)
		}
	}

	// An outage: the mail waits for the SMTP server, then arrives once.
	smtp.Stop()
	wantRedirect(t, anon.post("/reset", url.Values{"email": {"ada@example.com"}}), "/reset?notice=reset-sent")
	j := waitFailedAttempt(ts)
	if j.State == store.JobFailed {
		t.Fatalf("the mail job gave up at once: %+v", j)
	}
	smtp.Restart(t)
	first := smtp.WaitFor(t, "ada@example.com", "Reset your Framecast password").Link(t, "/reset/")
	resetMails(1, time.Second)

	// A restart: the server stops with the mail still queued; the next
	// one, on the same database, sends it.
	smtp.Stop()
	wantRedirect(t, anon.post("/reset", url.Values{"email": {"ada@example.com"}}), "/reset?notice=reset-sent")
	queued := waitFailedAttempt(ts)
	cfg := ts.d.cfg
	ts.stop()
	smtp.Restart(t)
	resetMails(1, 500*time.Millisecond) // nobody sends it while no server runs

	ts2 := startWith(t, opts, func(c *config.Config) {
		c.SMTPURL, c.DataDir, c.DatabaseURL, c.BlobURL, c.KEK = smtp.URL(), cfg.DataDir, cfg.DatabaseURL, cfg.BlobURL, cfg.KEK
	})
	second := smtp.WaitFor(t, "ada@example.com", "Reset your Framecast password").Link(t, "/reset/")
	resetMails(2, time.Second)
	if second == first {
		t.Fatal("the second reset mail carries the first link")
	}
	if j, err := ts2.d.store.Job(t.Context(), queued.ID); err != nil || j.State != store.JobDone {
		t.Fatalf("the queued mail job after the restart: %+v, %v", j, err)
	}
	anon2 := newBrowser(t, ts2.URL)
	wantRedirect(t, anon2.post(strings.Replace(second, ts.URL, ts2.URL, 1), url.Values{"password": {"a brand new password"}}), "/signin?notice=password-reset")
}
