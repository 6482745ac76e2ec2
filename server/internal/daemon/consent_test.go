package daemon

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"framecast.dev/server/internal/config"
)

// TestConsent: signing up records consent to the policy in effect, with
// its time; an administrator publishes a new version at least four weeks
// ahead; every user is mailed and sees a banner; once a major version is
// in effect it must be accepted before anything else, a minor one not;
// withdrawing consent deletes the account. The clock is the test's.
func TestConsent(t *testing.T) {
	clk := newClock()
	ts, smtp := startAccounts(t, clk, func(c *config.Config) { c.Privacy.AdminEmails = []string{"admin@example.com"} })
	ctx := context.Background()
	signedUpAt := clk.Now()
	ada := signUp(t, ts, smtp, "Ada", "ada@example.com")
	admin := signUp(t, ts, smtp, "Admin", "admin@example.com")
	bob := signUp(t, ts, smtp, "Bob", "bob@example.com")

	want(t, newBrowser(t, ts.URL).get("/signup"), http.StatusOK, `name="policy_version" value="1"`, "By signing up you accept")
	cs, err := ts.d.store.Consents(ctx, ada.ID)
	if err != nil || len(cs) != 1 || cs[0].Version != "1" || !cs[0].At.Equal(signedUpAt.Truncate(time.Microsecond)) {
		t.Fatalf("consents after sign-up: %+v, %v (signed up at %v)", cs, err, signedUpAt)
	}
	want(t, ada.get("/privacy"), http.StatusOK, "<td>1</td>", "You accepted version 1 of the privacy policy by signing up.")

	// Only administrators publish, and not sooner than four weeks ahead.
	want(t, ada.get("/admin/policy"), http.StatusNotFound)
	want(t, ada.post("/admin/policy", url.Values{"version": {"2"}, "summary": {"x"}, "body": {"y"}, "effective": {"2099-01-01"}}), http.StatusNotFound)
	want(t, admin.get("/admin/policy"), http.StatusOK, "Publish a new version")
	day := func(d time.Duration) string { return clk.Now().Add(d).Format("2006-01-02") }
	publish := func(version, effective string, major bool) answer {
		f := url.Values{"version": {version}, "summary": {"Viewer analytics now keep countries " + version}, "body": {"The whole text of version " + version}, "effective": {effective}}
		if major {
			f.Set("major", "on")
		}
		return admin.post("/admin/policy", f)
	}
	want(t, publish("2", day(27*24*time.Hour), true), http.StatusBadRequest, "four weeks after it is published at the earliest")
	wantRedirect(t, publish("2", day(29*24*time.Hour), true), "/admin/policy?notice=published")
	want(t, publish("2", day(60*24*time.Hour), true), http.StatusConflict)

	// Everyone is told: a mail, and a banner until it takes effect.
	for _, to := range []string{"ada@example.com", "admin@example.com", "bob@example.com"} {
		m := smtp.WaitFor(t, to, "privacy policy changes on")
		if !strings.Contains(m.Text, "Viewer analytics now keep countries 2") || !strings.Contains(m.Text, ts.URL+"/privacy/policy") || !strings.Contains(m.Text, "major change") {
			t.Fatalf("policy mail:\n%s", m.Text)
		}
	}
	time.Sleep(200 * time.Millisecond)
	n := 0
	for _, m := range smtp.Messages() {
		if strings.Contains(m.Subject, "privacy policy changes on") {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("%d policy mails, want one to each of the 3 users", n)
	}
	want(t, ada.get("/library"), http.StatusOK, `id="policy-banner"`, "Our privacy policy changes on")
	want(t, newBrowser(t, ts.URL).get("/privacy/policy"), http.StatusOK, "Version 2, from", "The whole text of version 2")

	// In effect: a major version must be accepted before anything else.
	clk.Add(29 * 24 * time.Hour)
	wantRedirect(t, ada.get("/library"), "/privacy/consent?next=%2Flibrary")
	want(t, ada.post("/workspaces", url.Values{"name": {"Not yet"}}), http.StatusForbidden, "Accept the new privacy policy first")
	want(t, ada.get("/privacy/consent?next=%2Flibrary"), http.StatusOK, "I accept version 2", "Withdraw my consent")
	wantRedirect(t, ada.post("/privacy/consent", url.Values{"version": {"2"}, "next": {"/library"}}), "/library")
	a := ada.get("/library")
	want(t, a, http.StatusOK)
	if strings.Contains(a.Body, "policy-banner") {
		t.Error("the banner stays after the version took effect")
	}
	want(t, ada.get("/privacy"), http.StatusOK, "<td>2</td>", "You accepted version 2 of the privacy policy.")

	// A minor version needs no new acceptance.
	wantRedirect(t, admin.post("/privacy/consent", url.Values{"version": {"2"}}), "/privacy?notice=accepted")
	wantRedirect(t, publish("2.1", day(29*24*time.Hour), false), "/admin/policy?notice=published")
	smtp.WaitFor(t, "ada@example.com", "privacy policy changes on")
	clk.Add(29 * 24 * time.Hour)
	want(t, ada.get("/library"), http.StatusOK)

	// Bob (whose session lapsed) signs in again and does not accept
	// version 2: withdrawing deletes his account.
	wantRedirect(t, bob.post("/signin", url.Values{"email": {"bob@example.com"}, "password": {testPassword}}), "/library")
	wantRedirect(t, bob.get("/videos"), "/privacy/consent")
	want(t, bob.post("/privacy/withdraw", url.Values{"confirm": {"wrong password"}}), http.StatusBadRequest, "The password is wrong")
	wantRedirect(t, bob.post("/privacy/withdraw", url.Values{"confirm": {testPassword}}), "/signin?notice=account-deleted")
	if _, err := ts.d.store.User(ctx, bob.ID); err == nil {
		t.Fatal("withdrawing consent left the account")
	}
	if cs, _ := ts.d.store.Consents(ctx, bob.ID); len(cs) != 0 {
		t.Fatalf("consents outlived the account: %+v", cs)
	}
}
