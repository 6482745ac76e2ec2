package daemon

import (
	"database/sql"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"framecast.dev/server/internal/config"
	"framecast.dev/shared/api"
)

func TestSignUpConfirmSignIn(t *testing.T) {
	ts, smtp := startAccounts(t, nil)
	b := newBrowser(t, ts.URL)
	want(t, b.get("/signup"), http.StatusOK, `name="csrf"`, `autocomplete="new-password"`)
	wantRedirect(t, b.post("/signup", url.Values{"name": {"Zoë Ødegård"}, "email": {"Zoe@Example.com"}, "password": {testPassword},
		"phone": {"+41 44 123 45 67"}, "company": {"Acme & Co"}}), "/signin?notice=signed-up")
	m := smtp.WaitFor(t, "Zoe@Example.com", "Confirm your e-mail address")
	if !strings.Contains(m.Text, "Hello Zoë Ødegård") {
		t.Fatalf("verification mail:\n%s", m.Text)
	}
	link := m.Link(t, ts.URL+"/verify/")

	// Not confirmed yet: the right password is refused, with a new link.
	a := b.post("/signin", url.Values{"email": {"zoe@example.com"}, "password": {testPassword}})
	want(t, a, http.StatusForbidden, "Confirm your e-mail address first")
	smtp.WaitFor(t, "Zoe@Example.com", "Confirm your e-mail address")

	wantRedirect(t, b.get(link), "/signin?notice=verified")
	want(t, b.get(link), http.StatusNotFound, "not valid any more") // single use

	// Wrong password, then the right one (the address in any case).
	want(t, b.post("/signin", url.Values{"email": {"zoe@example.com"}, "password": {"wrong password!"}}), http.StatusUnauthorized,
		"The e-mail address or the password is wrong.")
	wantRedirect(t, b.post("/signin", url.Values{"email": {"ZOE@example.COM"}, "password": {testPassword}, "next": {"/devices"}}), "/devices")
	p := b.get("/profile")
	want(t, p, http.StatusOK, "Zoë Ødegård", "&#43;41 44 123 45 67", "Acme &amp; Co", "Recent sign-ins", "<td>password</td><td>127.0.0.0</td>")

	// Signing out ends the session on the server, not just the cookie.
	session := b.cookie("fc_session")
	wantRedirect(t, b.post("/signout", nil), "/signin?notice=signed-out")
	wantRedirect(t, b.get("/profile"), "/signin?next=%2Fprofile")
	other := newBrowser(t, ts.URL)
	other.c.Jar.SetCookies(mustURL(ts.URL), []*http.Cookie{{Name: "fc_session", Value: session}})
	wantRedirect(t, other.get("/profile"), "/signin")
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// TestSameAnswerWhetherOrNotAnAccountExists: sign-up, sign-in and reset
// answer the same for a known and an unknown address, in about the same
// time; only the mails differ.
func TestSameAnswerWhetherOrNotAnAccountExists(t *testing.T) {
	ts, smtp := startAccounts(t, nil)
	signUp(t, ts, smtp, "Known", "known@example.com")
	b := newBrowser(t, ts.URL)

	signup := func(email string) answer {
		return b.post("/signup", url.Values{"name": {"Someone"}, "email": {email}, "password": {"another password"}})
	}
	known, unknown := signup("known@example.com"), signup("unknown@example.com")
	if known.Status != unknown.Status || known.Location != unknown.Location || known.Body != unknown.Body {
		t.Fatalf("sign-up answers differ: %+v vs %+v", known, unknown)
	}
	m := smtp.WaitFor(t, "known@example.com", "You already have a Framecast account")
	if !strings.Contains(m.Text, ts.URL+"/reset") {
		t.Fatalf("existing-account mail:\n%s", m.Text)
	}
	smtp.WaitFor(t, "unknown@example.com", "Confirm your e-mail address")
	// The known account kept its password.
	wantRedirect(t, newBrowser(t, ts.URL).post("/signin", url.Values{"email": {"known@example.com"}, "password": {testPassword}}), "/library")

	signin := func(email string) (answer, time.Duration) {
		start := time.Now()
		a := b.post("/signin", url.Values{"email": {email}, "password": {"not the password"}})
		return a, time.Since(start)
	}
	var tk, tu time.Duration
	for range 3 {
		ak, dk := signin("known@example.com")
		au, du := signin("nobody@example.com")
		if ak.Status != au.Status || ak.Body != strings.ReplaceAll(au.Body, "nobody@example.com", "known@example.com") {
			t.Fatalf("sign-in answers differ:\n%d %s\n%d %s", ak.Status, clip(ak.Body), au.Status, clip(au.Body))
		}
		tk, tu = tk+dk, tu+du
	}
	if tk > 3*tu || tu > 3*tk {
		t.Errorf("sign-in timing differs: known address %v, unknown %v (3 tries each)", tk, tu)
	}

	rk := b.post("/reset", url.Values{"email": {"known@example.com"}})
	ru := b.post("/reset", url.Values{"email": {"nobody@example.com"}})
	if rk.Status != ru.Status || rk.Location != ru.Location || rk.Body != ru.Body {
		t.Fatalf("reset answers differ: %+v vs %+v", rk, ru)
	}
	smtp.WaitFor(t, "known@example.com", "Reset your Framecast password")
	smtp.NoMailTo(t, "nobody@example.com", 300*time.Millisecond)
}

func TestPasswordReset(t *testing.T) {
	clk := newClock()
	ts, smtp := startAccounts(t, clk)
	p := signUp(t, ts, smtp, "Ada", "ada@example.com")
	second := newBrowser(t, ts.URL)
	wantRedirect(t, second.post("/signin", url.Values{"email": {"ada@example.com"}, "password": {testPassword}}), "/library")

	anon := newBrowser(t, ts.URL)
	wantRedirect(t, anon.post("/reset", url.Values{"email": {"ADA@example.com"}}), "/reset?notice=reset-sent")
	link := smtp.WaitFor(t, "ada@example.com", "Reset your Framecast password").Link(t, "/reset/")
	want(t, anon.get(link), http.StatusOK, `type="password"`)
	want(t, anon.post(link, url.Values{"password": {"short"}}), http.StatusBadRequest, "at least 10 characters")
	wantRedirect(t, anon.post(link, url.Values{"password": {"a brand new password"}}), "/signin?notice=password-reset")
	smtp.WaitFor(t, "ada@example.com", "Your Framecast password was changed")
	want(t, anon.post(link, url.Values{"password": {"yet another password"}}), http.StatusNotFound, "not valid any more")

	// Every session ended; the new password works, the old one not.
	wantRedirect(t, p.get("/profile"), "/signin")
	wantRedirect(t, second.get("/library"), "/signin")
	want(t, anon.post("/signin", url.Values{"email": {"ada@example.com"}, "password": {testPassword}}), http.StatusUnauthorized)
	wantRedirect(t, anon.post("/signin", url.Values{"email": {"ada@example.com"}, "password": {"a brand new password"}}), "/library")

	// A link expires after an hour.
	wantRedirect(t, anon.post("/reset", url.Values{"email": {"ada@example.com"}}), "/reset?notice=reset-sent")
	late := smtp.WaitFor(t, "ada@example.com", "Reset your Framecast password").Link(t, "/reset/")
	clk.Add(61 * time.Minute)
	want(t, anon.post(late, url.Values{"password": {"too late password"}}), http.StatusNotFound)
}

// TestRateLimitsAcrossReplicas runs two servers on one database and
// alternates sign-in attempts between them: the limit counts them all.
func TestRateLimitsAcrossReplicas(t *testing.T) {
	ts1, smtp := startAccounts(t, nil)
	signUp(t, ts1, smtp, "Target", "target@example.com")
	db := ts1.d.cfg.DatabaseURL
	ts2, _ := startAccounts(t, nil, func(c *config.Config) { c.DatabaseURL = db })

	// signUp signed in once: 9 more attempts fit in the window of 10.
	var last answer
	for i := range 10 {
		ts := ts1
		if i%2 == 1 {
			ts = ts2
		}
		last = newBrowser(t, ts.URL).post("/signin", url.Values{"email": {"target@example.com"}, "password": {"guess number " + string(rune('a'+i))}})
		if i < 9 && last.Status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i+1, last.Status)
		}
	}
	want(t, last, http.StatusTooManyRequests, "Too many attempts")
	if last.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	// Even the right password waits now, on either server.
	want(t, newBrowser(t, ts2.URL).post("/signin", url.Values{"email": {"target@example.com"}, "password": {testPassword}}), http.StatusTooManyRequests)

	// Sign-up and reset are limited too (per address of the client).
	b := newBrowser(t, ts1.URL)
	for i := range 10 { // the sign-up of target above was the first of 10 an hour
		a := b.post("/signup", url.Values{"name": {"N"}, "email": {"x" + string(rune('a'+i)) + "@example.com"}, "password": {testPassword}})
		if i < 9 && a.Status != http.StatusSeeOther || i == 9 && a.Status != http.StatusTooManyRequests {
			t.Fatalf("sign-up %d: %d", i+2, a.Status)
		}
	}
	for i := range 6 {
		a := b.post("/reset", url.Values{"email": {"target@example.com"}})
		if i < 5 && a.Status != http.StatusSeeOther || i == 5 && a.Status != http.StatusTooManyRequests {
			t.Fatalf("reset %d: %d", i+1, a.Status)
		}
	}
}

// TestReplicasShareSignIns: a session, a form token, a desktop sign-in
// and a device token made on one server work on another server of the
// same database: nothing of it lives in one process.
func TestReplicasShareSignIns(t *testing.T) {
	clk := newClock()
	ts1, smtp := startAccounts(t, clk)
	db := ts1.d.cfg.DatabaseURL
	ts2, _ := startAccounts(t, clk, func(c *config.Config) { c.DatabaseURL = db; c.BlobURL = ts1.d.cfg.BlobURL })
	p := signUp(t, ts1, smtp, "Rey", "rey@example.com")
	// Cookies are per host, not per port: the same browser talks to both.
	want(t, p.get(ts2.URL+"/profile"), http.StatusOK, "Rey")
	wantRedirect(t, p.post(ts2.URL+"/profile", url.Values{"name": {"Rey Two"}, "email": {"rey@example.com"}}), "/profile?notice=saved")
	want(t, p.get(ts1.URL+"/profile"), http.StatusOK, "Rey Two")

	ctx := t.Context()
	app := api.NewClient(ts1.URL, "")
	auth, err := app.StartDeviceSignIn(ctx, "replica laptop")
	if err != nil {
		t.Fatal(err)
	}
	want(t, p.get(ts2.URL+"/device?code="+auth.UserCode), http.StatusOK, "replica laptop")
	wantRedirect(t, p.post(ts2.URL+"/device", url.Values{"code": {auth.UserCode}, "decision": {"approve"}}), "/devices")
	tok, err := app.PollDeviceToken(ctx, auth.DeviceCode)
	if err != nil {
		t.Fatal(err)
	}
	on2 := api.NewClient(ts2.URL, tok.AccessToken)
	if me, err := on2.Me(ctx); err != nil || me.User.Email != "rey@example.com" {
		t.Fatalf("token on the other replica: %+v, %v", me, err)
	}
	// Revoked on one, refused by the other at once.
	wantRedirect(t, p.post(ts1.URL+"/devices/"+tok.Device.ID+"/revoke", nil), "/devices")
	if _, err := on2.Me(ctx); !api.IsCode(err, api.CodeUnauthorized) {
		t.Fatalf("revoked token on the other replica: %v", err)
	}
	// Signed out on one, out on both.
	wantRedirect(t, p.post(ts2.URL+"/signout", nil), "/signin")
	wantRedirect(t, p.get(ts1.URL+"/profile"), "/signin")
}

func TestCSRFAndCookies(t *testing.T) {
	ts, smtp := startAccounts(t, nil)
	p := signUp(t, ts, smtp, "Cy", "cy@example.com")
	form := func(csrf string) *strings.Reader {
		return strings.NewReader(url.Values{"name": {"Evil"}, "email": {"cy@example.com"}, "csrf": {csrf}}.Encode())
	}
	const ct = "application/x-www-form-urlencoded"
	want(t, p.do(http.MethodPost, "/profile", strings.NewReader("name=Evil&email=cy%40example.com"), ct), http.StatusForbidden)
	want(t, p.do(http.MethodPost, "/profile", form("A"+p.csrf()[1:]), ct), http.StatusForbidden)
	want(t, p.do(http.MethodPost, "/profile", form(p.csrf()), ct, "Origin", "https://evil.example"), http.StatusForbidden)
	want(t, p.do(http.MethodPost, "/profile", form(p.csrf()), ct, "Sec-Fetch-Site", "cross-site"), http.StatusForbidden)
	if u, _ := ts.d.store.User(t.Context(), p.ID); u.Name != "Cy" {
		t.Fatalf("a forged form changed the name to %q", u.Name)
	}
	wantRedirect(t, p.do(http.MethodPost, "/profile", form(p.csrf()), ct, "Origin", ts.URL), "/profile?notice=saved")

	// Cookie attributes (plain-http localhost: no __Host- prefix, no Secure).
	b := newBrowser(t, ts.URL)
	a := b.get("/signin")
	checkCookies(t, a.Header, "fc_csrf", false)
	a = b.post("/signin", url.Values{"email": {"cy@example.com"}, "password": {testPassword}})
	checkCookies(t, a.Header, "fc_session", false)
	// Share pages set none.
	if c := (newBrowser(t, ts.URL).get("/v/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")).Header.Values("Set-Cookie"); len(c) != 0 {
		t.Errorf("a share page set cookies: %v", c)
	}
}

// checkCookies finds the named cookie in Set-Cookie headers and checks
// its attributes.
func checkCookies(t *testing.T, h http.Header, name string, secure bool) {
	t.Helper()
	for _, raw := range h.Values("Set-Cookie") {
		if !strings.HasPrefix(raw, name+"=") || strings.Contains(raw, "Max-Age=0") || strings.Contains(raw, "max-age=-1") {
			continue
		}
		low := strings.ToLower(raw)
		if !strings.Contains(low, "httponly") || !strings.Contains(low, "samesite=lax") || !strings.Contains(low, "path=/") ||
			strings.Contains(low, "domain=") || strings.Contains(low, "secure") != secure {
			t.Errorf("cookie %s: %s", name, raw)
		}
		return
	}
	t.Errorf("no Set-Cookie for %s in %v", name, h.Values("Set-Cookie"))
}

func TestPlaceholderToken(t *testing.T) {
	ts := start(t)
	if _, _, err := ts.client.CreateVideo(t.Context(), apiCreate("placeholder")); err != nil {
		t.Fatal(err)
	}
	u, err := ts.d.store.UserByEmail(t.Context(), placeholderOwner)
	if err != nil || u.Verified() || u.PasswordHash != "" {
		t.Fatalf("placeholder owner %+v, %v", u, err)
	}
	vs, _ := ts.d.store.VideosOwnedBy(t.Context(), u.ID)
	if len(vs) != 1 {
		t.Fatalf("placeholder owner has %d videos", len(vs))
	}
	// Off unless configured.
	off := start(t, func(c *config.Config) { c.DeviceToken, c.DeviceTokenUser = "", "" })
	resp := off.do(t, http.MethodPost, "/api/v1/videos", strings.NewReader(`{}`), false, "Authorization", "Bearer "+ts.Token)
	wantErrorCode(t, resp, http.StatusUnauthorized, "unauthorized")
}

// TestTrustedProxies: behind a trusted proxy the client is the rightmost
// address in X-Forwarded-For that is not a proxy; what the client wrote
// further left does not count. Untrusted peers' headers are ignored.
func TestTrustedProxies(t *testing.T) {
	ts, smtp := startAccounts(t, nil, func(c *config.Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} })
	p := signUp(t, ts, smtp, "Pia", "pia@example.com")
	plain, smtp2 := startAccounts(t, nil)
	q := signUp(t, plain, smtp2, "Quin", "quin@example.com")
	ips := func(ts *testServer, userID string) []string {
		rows, err := ts.d.store.(interface{ DB() *sql.DB }).DB().Query(`SELECT ip FROM sessions WHERE user_id = ? ORDER BY created_at`, userID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var ip string
			rows.Scan(&ip)
			out = append(out, ip)
		}
		return out
	}
	form := strings.NewReader(url.Values{"email": {"pia@example.com"}, "password": {testPassword}, "csrf": {p.csrf()}}.Encode())
	wantRedirect(t, p.do(http.MethodPost, "/signin", form, "application/x-www-form-urlencoded", "X-Forwarded-For", "198.51.100.7, 203.0.113.9, 127.0.0.2"), "/library")
	if got := ips(ts, p.ID); len(got) != 2 || got[1] != "203.0.113.0" {
		t.Fatalf("session addresses behind a trusted proxy: %v", got)
	}
	form = strings.NewReader(url.Values{"email": {"quin@example.com"}, "password": {testPassword}, "csrf": {q.csrf()}}.Encode())
	wantRedirect(t, q.do(http.MethodPost, "/signin", form, "application/x-www-form-urlencoded", "X-Forwarded-For", "203.0.113.9"), "/library")
	if got := ips(plain, q.ID); len(got) != 2 || got[1] != "127.0.0.0" {
		t.Fatalf("session addresses without trusted proxies: %v", got)
	}
}
