package daemon

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"image/gif"
	"image/jpeg"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"framecast.dev/server/internal/share"
	"framecast.dev/server/internal/store"
	"framecast.dev/shared/api"
)

// sharedVideo is a processed recording on a test server.
type sharedVideo struct {
	ts    *testServer
	v     api.Video
	slug  string
	title string
	rec   hlsRecording
}

// shareVideo uploads a short real recording and waits for its processing.
func shareVideo(t *testing.T, ts *testServer, title string, seconds float64) *sharedVideo {
	t.Helper()
	rec := recordHLS(t, seconds, 320, 240)
	v := rec.upload(t, ts, title)
	ts.waitJobs(t, v.ID, 90*time.Second)
	return &sharedVideo{ts: ts, v: v, slug: v.ShareURL[strings.LastIndex(v.ShareURL, "/")+1:], title: title, rec: rec}
}

// settings changes the video's share settings directly in the store (the
// dashboard's own tests go through its forms).
func (sv *sharedVideo) settings(t *testing.T, edit func(*store.VideoSettings)) {
	t.Helper()
	ctx := context.Background()
	v, err := sv.ts.d.store.Video(ctx, sv.v.ID)
	if err != nil {
		t.Fatal(err)
	}
	s := store.VideoSettings{Title: v.Title, Description: v.Description, CTAButtons: v.CTAButtons, Privacy: v.Privacy,
		PasswordHash: v.PasswordHash, ExpiresAt: v.ExpiresAt, Downloads: v.Downloads}
	edit(&s)
	if _, err := sv.ts.d.store.UpdateVideoSettings(ctx, sv.v.ID, s); err != nil {
		t.Fatal(err)
	}
	sv.ts.d.Share().Forget(sv.v.ID)
}

// fetch GETs (or POSTs a form to) a path of the server; redirects are not
// followed.
func (ts *testServer) fetch(t *testing.T, method, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, ts.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func (ts *testServer) want(t *testing.T, method, path string, form url.Values, status int) (*http.Response, string) {
	t.Helper()
	resp, body := ts.fetch(t, method, path, form)
	if resp.StatusCode != status {
		t.Fatalf("%s %s: %d, want %d\n%.600s", method, path, resp.StatusCode, status, body)
	}
	if c := resp.Header.Values("Set-Cookie"); len(c) > 0 {
		t.Fatalf("%s %s set cookies on a viewer: %v", method, path, c)
	}
	return resp, body
}

// noLeak fails when a refusal shows anything about the video.
func (sv *sharedVideo) noLeak(t *testing.T, what, body string) {
	t.Helper()
	for _, bad := range []string{sv.title, "og:", "twitter:", "thumbnail.jpg", "playlist.m3u8", "preview.gif", "oembed", sv.v.ID} {
		if strings.Contains(body, bad) {
			t.Errorf("%s shows %q:\n%.800s", what, bad, body)
		}
	}
}

var grantPath = regexp.MustCompile(`/v/[a-z2-7]{32}/g/[0-9a-f]+-[A-Za-z0-9_-]+`)

func TestSharePage(t *testing.T) {
	ts := start(t)
	sv := shareVideo(t, ts, "Quarterly <review> & plans", 4.5)
	sv.settings(t, func(s *store.VideoSettings) {
		s.Description = "First paragraph about the plan.\n\nSecond one."
		s.CTAButtons = []store.CTAButton{{Label: "Book a call", URL: "https://example.com/book?a=1&b=2"}, {Label: "Docs", URL: "https://example.com/docs"}}
	})
	page := "/v/" + sv.slug
	resp, body := ts.want(t, "GET", page, nil, 200)

	for _, want := range []string{
		"<title>Quarterly &lt;review&gt; &amp; plans · Framecast</title>",
		`<meta property="og:title" content="Quarterly &lt;review&gt; &amp; plans">`,
		`<meta property="og:image" content="` + ts.URL + page + `/thumbnail.jpg">`,
		`<meta property="og:image:width" content="320">`,
		`<meta property="og:description" content="First paragraph about the plan.">`,
		`<meta name="twitter:card" content="player">`,
		`<meta name="twitter:player" content="` + ts.URL + `/embed/` + sv.slug + `">`,
		`type="application/json+oembed"`,
		`data-src="` + page + `/playlist.m3u8"`,
		`poster="` + page + `/thumbnail.jpg"`,
		`href="https://example.com/book?a=1&amp;b=2"`, ">Book a call</a>", ">Docs</a>",
		`<p class="description">Second one.</p>`,
		`data-copy="` + ts.URL + page + `"`,
		`https://www.linkedin.com/sharing/share-offsite/?url=`, `https://x.com/intent/post?url=`, `https://www.facebook.com/sharer/sharer.php?u=`, `href="mailto:?subject=`,
		`href="` + page + `/download"`,
		`id="email-snippet"`, `&lt;img src=&#34;` + ts.URL + page + `/preview.gif&#34;`,
		`&lt;iframe src=&#34;` + ts.URL + `/embed/` + sv.slug + `&#34;`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("share page lacks %s", want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("the share page may be framed: CSP %q, XFO %q", csp, resp.Header.Get("X-Frame-Options"))
	}
	if grantPath.MatchString(body) {
		t.Error("a public page carries a grant")
	}

	// The files the page points at.
	resp, thumb := ts.want(t, "GET", page+"/thumbnail.jpg", nil, 200)
	if cfg, err := jpeg.DecodeConfig(strings.NewReader(thumb)); err != nil || cfg.Width != 320 || cfg.Height != 240 || resp.Header.Get("Content-Type") != "image/jpeg" {
		t.Errorf("thumbnail: %+v, %v, %s", cfg, err, resp.Header.Get("Content-Type"))
	}
	_, g := ts.want(t, "GET", page+"/preview.gif", nil, 200)
	if anim, err := gif.DecodeAll(strings.NewReader(g)); err != nil || len(anim.Image) < 10 || len(g) > 1<<20 {
		t.Errorf("GIF preview: %d bytes, %v", len(g), err)
	}
	resp, mp4 := ts.want(t, "GET", page+"/download", nil, 200)
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="Quarterly <review> & plans.mp4"`) ||
		!strings.Contains(cd, "filename*=UTF-8''Quarterly%20%3Creview%3E%20&%20plans.mp4") {
		t.Errorf("download disposition %q", cd)
	}
	f := filepath.Join(t.TempDir(), "d.mp4")
	os.WriteFile(f, []byte(mp4), 0o600)
	if d := probeDuration(t, f); d < sv.rec.duration()-0.1 || d > sv.rec.duration()+0.1 {
		t.Errorf("downloaded MP4 lasts %.2f s, want %.2f", d, sv.rec.duration())
	}

	// oEmbed.
	_, oe := ts.want(t, "GET", "/oembed?format=json&maxwidth=400&url="+url.QueryEscape(ts.URL+page), nil, 200)
	var o share.OEmbed
	if err := json.Unmarshal([]byte(oe), &o); err != nil {
		t.Fatal(err)
	}
	if o.Type != "video" || o.Version != "1.0" || o.Title != sv.title || o.Width != 320 || o.Height != 240 ||
		!strings.Contains(o.HTML, `src="`+ts.URL+`/embed/`+sv.slug+`"`) || o.ThumbnailURL != ts.URL+page+"/thumbnail.jpg" {
		t.Errorf("oEmbed = %+v", o)
	}
	ts.want(t, "GET", "/oembed?url="+url.QueryEscape("https://elsewhere.example/v/"+sv.slug), nil, 404)
	ts.want(t, "GET", "/oembed?format=xml&url="+url.QueryEscape(ts.URL+page), nil, 501)

	// The embed page may be framed by anyone; nothing else may.
	resp, emb := ts.want(t, "GET", "/embed/"+sv.slug, nil, 200)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors *") || resp.Header.Get("X-Frame-Options") != "" {
		t.Errorf("embed page: CSP %q, XFO %q", csp, resp.Header.Get("X-Frame-Options"))
	}
	if !strings.Contains(emb, `data-src="`+page+`/playlist.m3u8"`) || strings.Contains(emb, "og:") {
		t.Errorf("embed page:\n%s", emb)
	}

	// Unknown and malformed slugs.
	ts.want(t, "GET", "/v/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", nil, 404)
	ts.want(t, "GET", "/v/nope", nil, 404)
	ts.want(t, "GET", "/v/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/playlist.m3u8", nil, 404)

	// No slug in the access log.
	if strings.Contains(ts.logs.String(), sv.slug) {
		t.Error("the log contains the slug")
	}
}

func TestSharePassword(t *testing.T) {
	ts := start(t)
	sv := shareVideo(t, ts, "Board meeting secrets", 2.5)
	hash, err := share.HashPassword(context.Background(), "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	sv.settings(t, func(s *store.VideoSettings) { s.Privacy, s.PasswordHash = store.PrivacyPassword, hash })
	page := "/v/" + sv.slug

	_, body := ts.want(t, "GET", page, nil, 401)
	sv.noLeak(t, "the password page", body)
	if !strings.Contains(body, `name="password"`) {
		t.Fatalf("no password form:\n%s", body)
	}
	for _, p := range []string{"/playlist.m3u8", "/init.mp4", "/seg/0.m4s", "/thumbnail.jpg", "/preview.gif", "/download", "/logo"} {
		_, b := ts.want(t, "GET", page+p, nil, 404)
		sv.noLeak(t, p, b)
	}
	_, b := ts.want(t, "GET", "/oembed?url="+url.QueryEscape(ts.URL+page), nil, 404)
	sv.noLeak(t, "oEmbed", b)
	_, b = ts.want(t, "GET", "/embed/"+sv.slug, nil, 401)
	sv.noLeak(t, "the embed page", b)

	_, body = ts.want(t, "POST", page, url.Values{"password": {"wrong"}}, 401)
	sv.noLeak(t, "a wrong password", body)
	if !strings.Contains(body, "not right") {
		t.Errorf("no error for a wrong password:\n%s", body)
	}

	_, body = ts.want(t, "POST", page, url.Values{"password": {"correct horse"}}, 200)
	if !strings.Contains(body, sv.title) || strings.Contains(body, "og:") {
		t.Errorf("the unlocked page: title shown %v, no OG tags %v", strings.Contains(body, sv.title), !strings.Contains(body, "og:"))
	}
	grant := grantPath.FindString(body)
	if grant == "" {
		t.Fatalf("no grant in the unlocked page:\n%s", body)
	}
	_, pl := ts.want(t, "GET", grant+"/playlist.m3u8", nil, 200)
	if !strings.Contains(pl, "seg/0.m4s") {
		t.Fatalf("playlist: %s", pl)
	}
	ts.want(t, "GET", grant+"/init.mp4", nil, 200)
	ts.want(t, "GET", grant+"/seg/0.m4s", nil, 200)
	ts.want(t, "GET", grant+"/thumbnail.jpg", nil, 200)
	// The whole recording plays through the grant.
	if d := probeDuration(t, ts.URL+grant+"/playlist.m3u8"); d < sv.rec.duration()-0.2 {
		t.Errorf("playing through the grant: %.2f s", d)
	}
	// A forged or altered grant opens nothing.
	ts.want(t, "GET", grant[:len(grant)-2]+"xx/playlist.m3u8", nil, 404)

	// Changing the password voids the grant.
	hash2, _ := share.HashPassword(context.Background(), "new one")
	sv.settings(t, func(s *store.VideoSettings) { s.PasswordHash = hash2 })
	ts.want(t, "GET", grant+"/playlist.m3u8", nil, 404)
	ts.want(t, "POST", "/embed/"+sv.slug, url.Values{"password": {"new one"}}, 200)

	// Attempts are rate limited per address (in the database).
	var last *http.Response
	for i := 0; i < 12; i++ {
		last, body = ts.fetch(t, "POST", page, url.Values{"password": {fmt.Sprint("guess", i)}})
		if last.StatusCode == 429 {
			break
		}
	}
	if last.StatusCode != 429 || last.Header.Get("Retry-After") == "" {
		t.Fatalf("after many wrong passwords: %d (Retry-After %q)", last.StatusCode, last.Header.Get("Retry-After"))
	}
	sv.noLeak(t, "the rate-limited page", body)
	// Even the right password waits now.
	ts.want(t, "POST", page, url.Values{"password": {"new one"}}, 429)
	// The limit is in the database, not in memory.
	var n int
	if err := ts.d.store.(interface{ DB() *sql.DB }).DB().QueryRow(`SELECT count(*) FROM rate_limits WHERE key LIKE 'share-pw-%'`).Scan(&n); err != nil || n == 0 {
		t.Errorf("no rate-limit rows: %d, %v", n, err)
	}
	if strings.Contains(ts.logs.String(), "correct horse") || strings.Contains(ts.logs.String(), sv.slug) {
		t.Error("the log contains the password or the slug")
	}
}

func TestShareExpiryRotationDownloads(t *testing.T) {
	ts := start(t)
	sv := shareVideo(t, ts, "Launch video", 2.5)
	page := "/v/" + sv.slug

	// Downloads off: no link, no file.
	sv.settings(t, func(s *store.VideoSettings) { s.Downloads = false })
	_, body := ts.want(t, "GET", page, nil, 200)
	if strings.Contains(body, "/download") {
		t.Error("the page offers a download although downloads are off")
	}
	ts.want(t, "GET", page+"/download", nil, 404)

	// Expired: 410 for the page and everything under it, showing nothing.
	sv.settings(t, func(s *store.VideoSettings) { s.ExpiresAt = time.Now().Add(-time.Minute) })
	for _, p := range []string{"", "/playlist.m3u8", "/seg/0.m4s", "/thumbnail.jpg"} {
		_, b := ts.want(t, "GET", page+p, nil, 410)
		sv.noLeak(t, "the expired "+p, b)
	}
	_, b := ts.want(t, "GET", "/embed/"+sv.slug, nil, 410)
	sv.noLeak(t, "the expired embed", b)
	ts.want(t, "GET", "/oembed?url="+url.QueryEscape(ts.URL+page), nil, 404)
	sv.settings(t, func(s *store.VideoSettings) { s.ExpiresAt = time.Now().Add(time.Hour) })
	ts.want(t, "GET", page, nil, 200)

	// Rotating the link: the old slug is gone, the new one works.
	v, err := ts.d.store.RotateSlug(context.Background(), sv.v.ID, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")
	if err != nil {
		t.Fatal(err)
	}
	ts.d.Share().Forget(sv.v.ID)
	_, b = ts.want(t, "GET", page, nil, 404)
	sv.noLeak(t, "the rotated-away link", b)
	ts.want(t, "GET", page+"/playlist.m3u8", nil, 404)
	ts.want(t, "GET", "/v/"+v.Slug, nil, 200)
}

// TestShareMembersOnly: a members-only video is refused to anonymous
// viewers without showing anything.
func TestShareMembersOnly(t *testing.T) {
	ts := start(t)
	sv := shareVideo(t, ts, "Internal roadmap", 2.5)
	sv.settings(t, func(s *store.VideoSettings) { s.Privacy = store.PrivacyWorkspace })
	_, body := ts.want(t, "GET", "/v/"+sv.slug, nil, 401)
	sv.noLeak(t, "the members-only page", body)
	if !strings.Contains(body, "/signin?next=") {
		t.Errorf("no sign-in link:\n%s", body)
	}
	ts.want(t, "GET", "/v/"+sv.slug+"/playlist.m3u8", nil, 404)
	// The password form does not open it either.
	ts.want(t, "POST", "/v/"+sv.slug, url.Values{"password": {"x"}}, 401)
}
