package daemon

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"framecast.dev/server/internal/config"
	"framecast.dev/server/internal/mail/mailtest"
	"framecast.dev/server/internal/store"
	"framecast.dev/shared/api"
)

// The authorisation matrix: every route the server registers, asked by
// each kind of caller, with the status each must get. A route missing from
// the table fails the test, so a new route cannot ship without deciding
// who may use it.

type principal int

const (
	anonymous principal = iota
	stranger            // signed in, not in the workspace, owns nothing here
	member
	admin
	owner // owns the workspace and the fixture's personal videos and devices
	nPrincipals
)

var principalNames = [nPrincipals]string{"anonymous", "another user", "member", "admin", "owner"}

type matrixFixture struct {
	t      *testing.T
	ts     *testServer
	clk    *clock
	people [nPrincipals]*person     // anonymous: a browser with a CSRF cookie, no session
	apps   [nPrincipals]*api.Client // device-token clients; anonymous has none
	devs   [nPrincipals]string      // device ids
	extra  *person                  // a second member, target of role changes and removal
	ws     string                   // the workspace: owner, admin, member (and extra)

	pendingInv  string    // id of an open invitation (pending@example.com), target of revoke
	nobodyToken string    // secret of an invitation to nobody@example.com
	ownVideo    api.Video // owner's personal video, uploading, with its init segment stored
	readyVideo  api.Video // owner's ready video, for the share routes
	shared      string    // id of the member's video in the workspace library
	importID    string    // owner's upload of a video file in progress (see importUploadID)
}

type matrixRow struct {
	method, route string
	path          func(f *matrixFixture, p principal) string // default: route as is
	form          func(f *matrixFixture, p principal) url.Values
	upload        string // multipart form with an image in this field
	json          string
	headers       []string
	want          [nPrincipals]int
	after         func(f *matrixFixture, p principal, status int) // puts the fixture back
}

func TestAuthorisationMatrix(t *testing.T) {
	clk := newClock()
	addr := reserve(t)
	base := "http://" + addr
	op := startOP(t, opUsers{}, base+"/auth/google/callback")
	ts, smtp := startAccounts(t, clk, func(c *config.Config) { c.Listen, c.BaseURL = addr, base }, withProviders(&op, nil))
	f := newMatrixFixture(t, ts, smtp, clk)
	rows := matrixRows()

	// Every registered route is in the table, and every row is a route.
	registered := map[string]bool{}
	gets := map[string]bool{}
	for _, r := range ts.d.Routes() {
		if r.Method == http.MethodGet {
			gets[r.Path] = true
		}
	}
	for _, r := range ts.d.Routes() {
		if r.Method == http.MethodHead && gets[r.Path] {
			continue // fiber answers HEAD for every GET route; it is the GET's handler
		}
		registered[r.Method+" "+r.Path] = true
	}
	inTable := map[string]bool{}
	for _, r := range rows {
		inTable[r.method+" "+r.route] = true
		if !registered[r.method+" "+r.route] {
			t.Errorf("the table has %s %s, which is not a registered route", r.method, r.route)
		}
	}
	var missing []string
	for k := range registered {
		if !inTable[k] {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	for _, k := range missing {
		t.Errorf("route %s is not in the authorisation matrix: add a row saying who may use it", k)
	}

	for _, r := range rows {
		for p := range nPrincipals {
			got := f.call(r, p)
			if got.Status != r.want[p] {
				t.Errorf("%s %s as %s: %d, want %d\n%s", r.method, r.route, principalNames[p], got.Status, r.want[p], clip(got.Body))
			}
			if r.after != nil {
				r.after(f, p, got.Status)
			}
		}
	}
}

func newMatrixFixture(t *testing.T, ts *testServer, smtp *mailtest.Server, clk *clock) *matrixFixture {
	t.Helper()
	ctx := context.Background()
	f := &matrixFixture{t: t, ts: ts, clk: clk}
	f.people[owner] = signUp(t, ts, smtp, "Olga Owner", "owner@acme.example")
	f.people[admin] = signUp(t, ts, smtp, "Adam Admin", "admin@acme.example")
	f.people[member] = signUp(t, ts, smtp, "Mia Member", "member@acme.example")
	f.people[stranger] = signUp(t, ts, smtp, "Sam Stranger", "stranger@other.example")
	f.extra = signUp(t, ts, smtp, "Eve Extra", "extra@acme.example")
	f.people[anonymous] = &person{browser: newBrowser(t, ts.URL)}
	f.people[anonymous].csrf()

	o := f.people[owner]
	a := o.post("/workspaces", url.Values{"name": {"Acme"}})
	f.ws = workspaceID(t, a.Location)
	for _, m := range []struct {
		p    *person
		role string
	}{{f.people[admin], "admin"}, {f.people[member], "member"}, {f.extra, "member"}} {
		wantRedirect(t, o.post("/w/"+f.ws+"/invitations", url.Values{"email": {m.p.Email}, "role": {m.role}}), "/w/")
		link := smtp.WaitFor(t, m.p.Email, "invited you").Link(t, "/invite/")
		wantRedirect(t, m.p.post(link, nil), "/w/"+f.ws)
	}
	wantRedirect(t, o.post("/w/"+f.ws+"/invitations", url.Values{"email": {"nobody@else.example"}, "role": {"member"}}), "/w/")
	link := smtp.WaitFor(t, "nobody@else.example", "invited you").Link(t, "/invite/")
	f.nobodyToken = link[strings.LastIndex(link, "/")+1:]
	wantRedirect(t, o.post("/w/"+f.ws+"/invitations", url.Values{"email": {"pending@else.example"}, "role": {"member"}}), "/w/")
	invs, err := ts.d.store.Invitations(ctx, f.ws)
	if err != nil {
		t.Fatal(err)
	}
	for _, inv := range invs {
		if inv.Email == "pending@else.example" {
			f.pendingInv = inv.ID
		}
	}
	wantRedirect(t, f.people[admin].upload("/w/"+f.ws+"/logo", "logo", "logo.png", pngBytes(t, 4)), "/w/")

	for p := stranger; p < nPrincipals; p++ {
		f.signInDevice(p)
	}
	// The owner's videos: one uploading (init segment stored), one ready.
	r := newRecordingWith(t, f.apps[owner])
	if _, err := f.apps[owner].PutSegment(ctx, r.video.ID, api.InitSegment, sum(r.seal[api.InitSegment]), int64(len(r.seal[api.InitSegment])), bytes.NewReader(r.seal[api.InitSegment])); err != nil {
		t.Fatal(err)
	}
	f.ownVideo = r.video
	r = newRecordingWith(t, f.apps[owner], 3000)
	for i := range r.seal {
		if _, err := f.apps[owner].PutSegment(ctx, r.video.ID, i, sum(r.seal[i]), int64(len(r.seal[i])), bytes.NewReader(r.seal[i])); err != nil {
			t.Fatal(err)
		}
	}
	if f.readyVideo, err = f.apps[owner].Finalize(ctx, r.video.ID, api.FinalizeRequest{SegmentCount: 1, Init: true, SegmentDurations: []float64{2}, DataKey: r.key[:]}); err != nil {
		t.Fatal(err)
	}
	// The member's video, shared in the workspace.
	v, _, err := f.apps[member].CreateVideo(ctx, apiCreate("Shared"))
	if err != nil {
		t.Fatal(err)
	}
	f.shared = v.ID
	wantRedirect(t, f.people[member].post("/videos/"+v.ID+"/move", url.Values{"to": {f.ws}}), "/library")

	// A new hour: the fixture's sign-ups and sign-ins do not count against
	// the rate limits the matrix meets.
	clk.Add(61 * time.Minute)
	return f
}

// signInDevice gives p a (new) device token.
func (f *matrixFixture) signInDevice(p principal) {
	app, tok := signInDevice(f.t, f.ts, f.clk, f.people[p], "desktop of "+principalNames[p])
	f.apps[p], f.devs[p] = app, tok.Device.ID
}

// resignIn opens a new session for p after a row signed them out.
func (f *matrixFixture) resignIn(p principal) {
	if p == anonymous {
		return
	}
	wantRedirect(f.t, f.people[p].post("/signin", url.Values{"email": {f.people[p].Email}, "password": {testPassword}}), "/")
}

func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// addMember puts a user back into the workspace (fixture repair, through
// the store: an accepted invitation).
func (f *matrixFixture) addMember(userID, role string) {
	ctx := context.Background()
	secret := randomID()
	h := sha256.Sum256([]byte(secret))
	now := f.clk.Now()
	inv := store.Invitation{ID: randomID(), WorkspaceID: f.ws, Email: "repair@x.example", EmailNorm: "repair@x.example", Role: role,
		TokenHash: hex.EncodeToString(h[:]), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := f.ts.d.store.CreateInvitation(ctx, inv); err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.ts.d.store.AcceptInvitation(ctx, inv.TokenHash, userID, now); err != nil {
		f.t.Fatal(err)
	}
}

func (f *matrixFixture) call(r matrixRow, p principal) answer {
	f.t.Helper()
	path := r.route
	if r.path != nil {
		path = r.path(f, p)
	}
	b := f.people[p].browser
	if strings.HasPrefix(r.route, "/api/") {
		var body io.Reader
		if r.json != "" {
			body = strings.NewReader(r.json)
		}
		headers := append([]string(nil), r.headers...)
		if f.apps[p] != nil {
			headers = append(headers, "Authorization", "Bearer "+f.apps[p].Token)
		}
		ct := ""
		if r.json != "" {
			ct = "application/json"
		}
		// A fresh browser: the API does not look at cookies.
		return newBrowser(f.t, f.ts.URL).do(r.method, path, body, ct, headers...)
	}
	switch {
	case r.json != "":
		// A dashboard script's request: JSON or a file's bytes, with the
		// CSRF token in its header.
		headers := append([]string{"X-CSRF-Token", b.csrf()}, r.headers...)
		return b.do(r.method, path, strings.NewReader(r.json), "application/json", headers...)
	case r.upload != "":
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		w.WriteField("csrf", b.csrf())
		fw, _ := w.CreateFormFile(r.upload, "image.png")
		fw.Write(pngBytes(f.t, 4))
		w.Close()
		return b.do(r.method, path, &buf, w.FormDataContentType())
	case r.method == http.MethodPost:
		var form url.Values
		if r.form != nil {
			form = r.form(f, p)
		}
		return b.post(path, form)
	}
	return b.do(r.method, path, nil, "")
}

func values(kv ...string) func(*matrixFixture, principal) url.Values {
	return func(*matrixFixture, principal) url.Values {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
}

func all(s int) [nPrincipals]int { return [nPrincipals]int{s, s, s, s, s} }

// signedIn: anonymous gets anon, everyone signed in gets s.
func signedIn(anon, s int) [nPrincipals]int { return [nPrincipals]int{anon, s, s, s, s} }

func ws(rest string) func(*matrixFixture, principal) string {
	return func(f *matrixFixture, _ principal) string { return "/w/" + f.ws + rest }
}

const (
	ok       = http.StatusOK
	created  = http.StatusCreated
	noBody   = http.StatusNoContent
	see      = http.StatusSeeOther
	bad      = http.StatusBadRequest
	unauth   = http.StatusUnauthorized
	denied   = http.StatusForbidden
	missing  = http.StatusNotFound
	conflict = http.StatusConflict
	unproc   = http.StatusUnprocessableEntity
)

func matrixRows() []matrixRow {
	segmentHeaders := func(body string) []string {
		h := sha256.Sum256([]byte(body))
		return []string{api.HeaderUploadLength, fmt.Sprint(len(body)), api.HeaderSHA256, hex.EncodeToString(h[:])}
	}
	ownVideo := func(rest string) func(*matrixFixture, principal) string {
		return func(f *matrixFixture, _ principal) string { return api.VideoPath(f.ownVideo.ID) + rest }
	}
	share := func(rest string) func(*matrixFixture, principal) string {
		return func(f *matrixFixture, _ principal) string {
			return strings.TrimPrefix(f.readyVideo.ShareURL, f.ts.URL) + rest
		}
	}
	dash := func(ready bool, rest string) func(*matrixFixture, principal) string {
		return func(f *matrixFixture, _ principal) string {
			if ready {
				return "/videos/" + f.readyVideo.ID + rest
			}
			return "/videos/" + f.ownVideo.ID + rest
		}
	}
	embed := func(f *matrixFixture, _ principal) string {
		return strings.Replace(strings.TrimPrefix(f.readyVideo.ShareURL, f.ts.URL), "/v/", "/embed/", 1)
	}
	oembed := func(f *matrixFixture, _ principal) string {
		return "/oembed?url=" + url.QueryEscape(f.readyVideo.ShareURL)
	}
	perPrincipal := func(prefix string) func(*matrixFixture, principal) url.Values {
		return func(f *matrixFixture, p principal) url.Values {
			return url.Values{"email": {fmt.Sprintf("%s-%d@new.example", prefix, p)}, "name": {"New"}, "password": {testPassword}}
		}
	}
	return []matrixRow{
		// Operations and share links: the same for everyone.
		{method: "GET", route: "/healthz", want: all(ok)},
		{method: "GET", route: "/readyz", want: all(ok)},
		{method: "GET", route: "/metrics", want: all(missing)}, // off without FRAMECAST_METRICS_TOKEN; no principal holds it (TestMetricsNeedTheirToken)
		{method: "GET", route: "/v/:slug", path: share(""), want: all(ok)},
		{method: "GET", route: "/v/:slug/playlist.m3u8", path: share("/playlist.m3u8"), want: all(ok)},
		{method: "GET", route: "/v/:slug/init.mp4", path: share("/init.mp4"), want: all(ok)},
		{method: "GET", route: "/v/:slug/seg/:file", path: share("/seg/0.m4s"), want: all(ok)},
		// Share pages (the fixture's video is public, in a personal
		// library, and its fake segments make no thumbnail, GIF or MP4).
		{method: "POST", route: "/v/:slug", path: share(""), form: values("password", "x"), want: all(ok)},
		{method: "GET", route: "/embed/:slug", path: embed, want: all(ok)},
		{method: "POST", route: "/embed/:slug", path: embed, form: values("password", "x"), want: all(ok)},
		{method: "GET", route: "/oembed", path: oembed, want: all(ok)},
		{method: "GET", route: "/v/:slug/thumbnail.jpg", path: share("/thumbnail.jpg"), want: all(missing)},
		{method: "GET", route: "/v/:slug/preview.gif", path: share("/preview.gif"), want: all(missing)},
		{method: "GET", route: "/v/:slug/download", path: share("/download"), want: all(missing)},
		{method: "GET", route: "/v/:slug/logo", path: share("/logo"), want: all(missing)},
		// The owner's dashboard: only the owner edits; the fixture's
		// videos are in the owner's personal library.
		{method: "GET", route: "/videos", want: signedIn(see, ok)},
		{method: "GET", route: "/videos/:id", path: dash(true, ""), want: [nPrincipals]int{see, missing, missing, missing, ok}},
		{method: "POST", route: "/videos/:id", path: dash(true, ""), form: values("title", "Ready", "buttons", "default", "privacy", "public", "downloads", "on"),
			want: [nPrincipals]int{unauth, missing, missing, missing, see}},
		{method: "POST", route: "/videos/:id/rotate", path: dash(false, "/rotate"), want: [nPrincipals]int{unauth, missing, missing, missing, see}},
		{method: "POST", route: "/videos/:id/delete", path: dash(false, "/delete"), want: [nPrincipals]int{unauth, missing, missing, missing, bad}},
		{method: "POST", route: "/videos/:id/trim", path: dash(false, "/trim"), form: values("start", "1", "end", "2"), want: [nPrincipals]int{unauth, missing, missing, missing, bad}},
		{method: "GET", route: "/videos/:id/thumbnail.jpg", path: dash(true, "/thumbnail.jpg"), want: [nPrincipals]int{see, missing, missing, missing, missing}},
		{method: "POST", route: "/jobs/:id/retry", path: func(*matrixFixture, principal) string { return "/jobs/" + randomID() + "/retry" },
			want: [nPrincipals]int{unauth, missing, missing, missing, missing}},
		// A public video takes no grant; forged ones open nothing.
		{method: "GET", route: "/v/:slug/g/:grant/playlist.m3u8", path: share("/g/1-AAAA/playlist.m3u8"), want: all(missing)},
		{method: "GET", route: "/v/:slug/g/:grant/init.mp4", path: share("/g/1-AAAA/init.mp4"), want: all(missing)},
		{method: "GET", route: "/v/:slug/g/:grant/seg/:file", path: share("/g/1-AAAA/seg/0.m4s"), want: all(missing)},
		{method: "GET", route: "/v/:slug/g/:grant/thumbnail.jpg", path: share("/g/1-AAAA/thumbnail.jpg"), want: all(missing)},
		{method: "GET", route: "/v/:slug/g/:grant/download", path: share("/g/1-AAAA/download"), want: all(missing)},
		{method: "GET", route: "/v/:slug/t/:part/:file", path: share("/t/0/init.mp4"), want: all(missing)},
		{method: "GET", route: "/v/:slug/g/:grant/t/:part/:file", path: share("/g/1-AAAA/t/0/0.m4s"), want: all(missing)},
		{method: "GET", route: "/v/:slug/g/:grant/logo", path: share("/g/1-AAAA/logo"), want: all(missing)},
		// Viewer events: anyone who may watch (a form is not an event: 400
		// after the access check); a forged grant opens nothing.
		{method: "POST", route: "/v/:slug/events", path: share("/events"), want: all(bad)},
		{method: "POST", route: "/v/:slug/g/:grant/events", path: share("/g/1-AAAA/events"), want: all(missing)},
		{method: "POST", route: "/videos/:id/tracking", path: dash(true, "/tracking"), form: values("tracking", "anonymous"),
			want: [nPrincipals]int{unauth, missing, missing, missing, see}},
		{method: "GET", route: "/videos/:id/analytics", path: dash(true, "/analytics"), want: [nPrincipals]int{see, missing, missing, missing, ok}},
		{method: "GET", route: "/videos/:id/analytics.csv", path: dash(true, "/analytics.csv"), want: [nPrincipals]int{see, missing, missing, missing, ok}},
		{method: "POST", route: "/videos/:id/send", path: dash(true, "/send"), form: values("recipients", "someone@else.example"),
			want: [nPrincipals]int{unauth, missing, missing, missing, see}},
		// Recipients' one-click unsubscribe: the signed token is the
		// capability; a forged one does nothing.
		{method: "GET", route: "/unsubscribe/r/:token", path: func(*matrixFixture, principal) string { return "/unsubscribe/r/" + randomID() }, want: all(ok)},
		{method: "POST", route: "/unsubscribe/r/:token", path: func(*matrixFixture, principal) string { return "/unsubscribe/r/" + randomID() + ".x" },
			want: all(missing)},
		{method: "GET", route: "/analytics", want: signedIn(see, ok)},
		{method: "POST", route: "/analytics", form: values("tracking", "anonymous"), want: signedIn(unauth, see)},

		// Signing up, in and out, links from mails: open to all.
		{method: "GET", route: "/", want: all(see)},
		{method: "GET", route: "/signup", want: [nPrincipals]int{ok, see, see, see, see}},
		{method: "POST", route: "/signup", form: perPrincipal("signup"), want: all(see)},
		{method: "GET", route: "/signin", want: [nPrincipals]int{ok, see, see, see, see}},
		{method: "POST", route: "/signin", form: values("email", "owner@acme.example", "password", "not the password"), want: all(unauth)},
		{method: "GET", route: "/verify/:token", path: func(*matrixFixture, principal) string { return "/verify/" + randomID() + "xxxxxxxx" }, want: all(missing)},
		{method: "GET", route: "/reset", want: all(ok)},
		{method: "POST", route: "/reset", form: perPrincipal("reset"), want: all(see)},
		{method: "GET", route: "/reset/:token", path: func(*matrixFixture, principal) string { return "/reset/" + randomID() }, want: all(ok)},
		{method: "POST", route: "/reset/:token", path: func(*matrixFixture, principal) string { return "/reset/" + randomID() },
			form: values("password", "a fine new password"), want: all(missing)},
		{method: "GET", route: "/auth/:provider", path: func(*matrixFixture, principal) string { return "/auth/google" }, want: all(see)},
		{method: "GET", route: "/auth/:provider/callback", path: func(*matrixFixture, principal) string { return "/auth/google/callback?state=" + randomID() + "&code=x" },
			want: all(unauth)},
		{method: "GET", route: "/invite/:token", path: func(f *matrixFixture, _ principal) string { return "/invite/" + f.nobodyToken }, want: all(ok)},
		{method: "POST", route: "/invite/:token", path: func(f *matrixFixture, _ principal) string { return "/invite/" + f.nobodyToken },
			want: [nPrincipals]int{unauth, denied, denied, denied, denied}},

		// One's own profile, devices and library.
		{method: "GET", route: "/profile", want: signedIn(see, ok)},
		{method: "POST", route: "/profile", form: func(f *matrixFixture, p principal) url.Values {
			return url.Values{"name": {"Renamed " + principalNames[p]}, "email": {f.people[p].Email}}
		}, want: signedIn(unauth, see)},
		{method: "POST", route: "/profile/password", form: values("current_password", testPassword, "new_password", testPassword), want: signedIn(unauth, see)},
		{method: "GET", route: "/profile/photo", want: signedIn(see, missing)},
		{method: "POST", route: "/profile/photo", upload: "photo", want: signedIn(unauth, see)},
		{method: "POST", route: "/profile/photo/delete", want: signedIn(unauth, see)},
		{method: "POST", route: "/profile/delete", form: values("confirm", "not the password"), want: signedIn(unauth, bad)},
		{method: "GET", route: "/device", want: signedIn(see, ok)},
		{method: "POST", route: "/device", form: values("code", "BBBB-BBBB", "decision", "approve"), want: signedIn(unauth, missing)},
		{method: "GET", route: "/devices", want: signedIn(see, ok)},
		// The privacy centre: each user's own; an export link opens only
		// for the user it was made for (a made-up one for nobody).
		{method: "GET", route: "/privacy", want: signedIn(see, ok)},
		{method: "POST", route: "/privacy/export", want: signedIn(unauth, see)},
		{method: "GET", route: "/privacy/policy", want: all(ok)},
		{method: "GET", route: "/privacy/consent", want: signedIn(see, see)}, // nobody here owes a consent: back to the library
		{method: "POST", route: "/privacy/consent", form: values("version", "1"), want: signedIn(unauth, see)},
		{method: "POST", route: "/privacy/withdraw", form: values("confirm", "not the password"), want: signedIn(unauth, bad)},
		// Only the server's administrators (none here) publish policies.
		{method: "GET", route: "/admin/policy", want: signedIn(see, missing)},
		{method: "POST", route: "/admin/policy", form: values("version", "9", "summary", "s", "body", "b", "effective", "2099-01-01"), want: signedIn(unauth, missing)},
		{method: "POST", route: "/privacy/restriction", form: values("restrict", "off"), want: signedIn(unauth, see)},
		{method: "POST", route: "/privacy/mail", form: values("optional_mail", "on"), want: signedIn(unauth, see)},
		{method: "GET", route: "/privacy/cookies", want: all(ok)},
		// One-click unsubscribe: the link's MAC is the capability (a
		// made-up one opens nothing); no session, no CSRF token.
		{method: "GET", route: "/unsubscribe/:token", path: func(*matrixFixture, principal) string {
			return "/unsubscribe/" + randomID() + "-AAAAAAAAAAAAAAAAAAAAAAAA"
		}, want: all(ok)},
		{method: "POST", route: "/unsubscribe/:token", path: func(*matrixFixture, principal) string {
			return "/unsubscribe/" + randomID() + "-AAAAAAAAAAAAAAAAAAAAAAAA"
		}, want: all(missing)},
		{method: "GET", route: "/support", want: signedIn(see, ok)},
		{method: "POST", route: "/support", form: values("subject", "Hello", "body", "A question"), want: signedIn(unauth, see)},
		{method: "GET", route: "/admin/support", want: signedIn(see, missing)},
		{method: "GET", route: "/privacy/exports/:token", path: func(*matrixFixture, principal) string {
			return "/privacy/exports/" + strings.Repeat("A", 43)
		}, want: signedIn(see, missing)},
		{method: "POST", route: "/devices/:id/revoke", path: func(f *matrixFixture, _ principal) string { return "/devices/" + f.devs[owner] + "/revoke" },
			want: [nPrincipals]int{unauth, missing, missing, missing, see},
			after: func(f *matrixFixture, p principal, status int) {
				if status == see {
					f.signInDevice(p)
				}
			}},
		{method: "GET", route: "/library", want: signedIn(see, ok)},
		{method: "POST", route: "/videos/:id/move", path: func(f *matrixFixture, _ principal) string { return "/videos/" + f.shared + "/move" },
			form: values("to", ""), want: [nPrincipals]int{unauth, missing, see, see, see},
			after: func(f *matrixFixture, _ principal, status int) {
				if status == see {
					if err := f.ts.d.store.MoveVideo(context.Background(), f.shared, f.ws); err != nil {
						f.t.Fatal(err)
					}
				}
			}},

		// The workspace.
		{method: "GET", route: "/workspaces", want: signedIn(see, ok)},
		{method: "POST", route: "/workspaces", form: values("name", "Another"), want: signedIn(unauth, see)},
		{method: "GET", route: "/w/:id", path: ws(""), want: [nPrincipals]int{see, missing, ok, ok, ok}},
		{method: "POST", route: "/w/:id", path: ws(""), form: values("name", "Acme", "button1_label", "Demo", "button1_url", "https://acme.example/"),
			want: [nPrincipals]int{unauth, missing, denied, see, see}},
		{method: "GET", route: "/w/:id/logo", path: ws("/logo"), want: [nPrincipals]int{see, missing, ok, ok, ok}},
		{method: "POST", route: "/w/:id/logo", path: ws("/logo"), upload: "logo", want: [nPrincipals]int{unauth, missing, denied, see, see}},
		{method: "POST", route: "/w/:id/logo/delete", path: ws("/logo/delete"), want: [nPrincipals]int{unauth, missing, denied, see, see}},
		{method: "POST", route: "/w/:id/invitations", path: ws("/invitations"), form: values("email", "invitee@else.example", "role", "member"),
			want: [nPrincipals]int{unauth, missing, denied, see, see}},
		{method: "POST", route: "/w/:id/invitations/:inv/revoke", path: func(f *matrixFixture, _ principal) string {
			return "/w/" + f.ws + "/invitations/" + f.pendingInv + "/revoke"
		}, want: [nPrincipals]int{unauth, missing, denied, see, see},
			after: func(f *matrixFixture, _ principal, status int) {
				if status == see { // put the invitation back under the same id
					now := f.clk.Now()
					err := f.ts.d.store.CreateInvitation(context.Background(), store.Invitation{ID: f.pendingInv, WorkspaceID: f.ws,
						Email: "pending@else.example", EmailNorm: "pending@else.example", Role: "member", TokenHash: randomID(), CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
					if err != nil {
						f.t.Fatal(err)
					}
				}
			}},
		{method: "POST", route: "/w/:id/members/:uid/role", path: func(f *matrixFixture, _ principal) string {
			return "/w/" + f.ws + "/members/" + f.extra.ID + "/role"
		}, form: values("role", "admin"), want: [nPrincipals]int{unauth, missing, denied, see, see},
			after: func(f *matrixFixture, _ principal, status int) {
				if err := f.ts.d.store.SetMemberRole(context.Background(), f.ws, f.extra.ID, store.RoleMember); err != nil {
					f.t.Fatal(err)
				}
			}},
		{method: "POST", route: "/w/:id/members/:uid/remove", path: func(f *matrixFixture, _ principal) string {
			return "/w/" + f.ws + "/members/" + f.extra.ID + "/remove"
		}, want: [nPrincipals]int{unauth, missing, denied, see, see},
			after: func(f *matrixFixture, _ principal, status int) {
				if status == see {
					f.addMember(f.extra.ID, store.RoleMember)
				}
			}},

		// The desktop API: device tokens.
		{method: "POST", route: "/api/v1/device/code", json: `{"client_name":"matrix"}`, want: all(ok)},
		{method: "POST", route: "/api/v1/device/token", json: `{"device_code":"` + strings.Repeat("x", 43) + `"}`, want: all(bad)},
		{method: "GET", route: "/api/v1/me", want: signedIn(unauth, ok)},
		{method: "POST", route: "/api/v1/videos", json: `{"title":"matrix"}`, want: signedIn(unauth, created)},
		{method: "GET", route: "/api/v1/videos/:id", path: ownVideo(""), want: [nPrincipals]int{unauth, missing, missing, missing, ok}},
		{method: "PUT", route: "/api/v1/videos/:id/segments/:index", path: ownVideo("/segments/0"), json: "not sealed", headers: segmentHeaders("not sealed"),
			want: [nPrincipals]int{unauth, missing, missing, missing, unproc}},
		{method: "PATCH", route: "/api/v1/videos/:id/segments/:index", path: ownVideo("/segments/0"), json: "x", headers: segmentHeaders("x"),
			want: [nPrincipals]int{unauth, missing, missing, missing, bad}},
		{method: "HEAD", route: "/api/v1/videos/:id/segments/:index", path: ownVideo("/segments/init"), want: [nPrincipals]int{unauth, missing, missing, missing, ok}},
		{method: "POST", route: "/api/v1/videos/:id/send", path: ownVideo("/send"), json: `{"recipients":["x@y.example"]}`,
			want: [nPrincipals]int{unauth, missing, missing, missing, ok}},
		{method: "POST", route: "/api/v1/videos/:id/finalize", path: ownVideo("/finalize"),
			json: `{"segment_count":1,"init":true,"segment_durations":[2],"data_key":"` + strings.Repeat("A", 43) + `="}`,
			want: [nPrincipals]int{unauth, missing, missing, missing, conflict}},
		{method: "DELETE", route: "/api/v1/device", want: signedIn(unauth, noBody),
			after: func(f *matrixFixture, p principal, status int) {
				if status == noBody {
					f.signInDevice(p)
				}
			}},

		// Uploading a video file from the dashboard.
		{method: "POST", route: "/uploads", json: `{"name":"matrix.mp4","size":10}`, want: signedIn(unauth, created)},
		{method: "GET", route: "/uploads/:id", path: importUpload, want: [nPrincipals]int{see, missing, missing, missing, ok}},
		{method: "PATCH", route: "/uploads/:id", path: importUpload, json: "x", headers: []string{api.HeaderUploadOffset, "0"},
			want: [nPrincipals]int{unauth, missing, missing, missing, ok}},

		// Last: they end sessions and the workspace.
		{method: "POST", route: "/signout", want: all(see), after: func(f *matrixFixture, p principal, _ int) { f.resignIn(p) }},
		{method: "POST", route: "/w/:id/export", path: ws("/export"), want: [nPrincipals]int{unauth, missing, denied, denied, see}},
		{method: "POST", route: "/w/:id/delete", path: ws("/delete"), want: [nPrincipals]int{unauth, missing, denied, denied, see}},
	}
}
