package daemon

import (
	"context"
	"image/jpeg"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"framecast.dev/server/internal/store"
)

// TestDashboard: the owner lists, searches and sorts their videos, edits
// a video's share settings through its form, rotates a link, shares a
// video with workspace members only, retries a failed job and deletes a
// video; other people can do none of it.
func TestDashboard(t *testing.T) {
	clk := newClock()
	ts, smtp := startAccounts(t, clk)
	ctx := context.Background()
	owner := signUp(t, ts, smtp, "Olga Owner", "olga@acme.example")
	app, _ := signInDevice(t, ts, clk, owner, "laptop")
	rec := recordHLS(t, 2.5, 320, 240)
	alpha := rec.uploadWith(t, app, "Alpha launch")
	beta := rec.uploadWith(t, app, "Beta notes")
	ts.waitJobs(t, alpha.ID, 90*time.Second)
	ts.waitJobs(t, beta.ID, 90*time.Second)
	slugOf := func(id string) string {
		v, err := ts.d.store.Video(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return v.Slug
	}

	// The list, with thumbnails, search and sort.
	list := owner.get("/videos")
	want(t, list, 200, "Alpha launch", "Beta notes", `src="/videos/`+alpha.ID+`/thumbnail.jpg"`, `data-copy="`+alpha.ShareURL+`"`)
	if a, b := strings.Index(list.Body, "Alpha launch"), strings.Index(list.Body, "Beta notes"); b > a {
		t.Error("newest first: Beta should come before Alpha")
	}
	if l := owner.get("/videos?sort=title"); strings.Index(l.Body, "Alpha launch") > strings.Index(l.Body, "Beta notes") {
		t.Error("sorted by title: Alpha should come first")
	}
	if l := owner.get("/videos?q=BETA"); !strings.Contains(l.Body, "Beta notes") || strings.Contains(l.Body, "Alpha launch") {
		t.Errorf("search for beta:\n%s", clip(l.Body))
	}
	th := owner.get("/videos/" + alpha.ID + "/thumbnail.jpg")
	if cfg, err := jpeg.DecodeConfig(strings.NewReader(th.Body)); th.Status != 200 || err != nil || cfg.Width != 320 {
		t.Errorf("library thumbnail: %d, %v", th.Status, err)
	}

	// Edit: title, description, a button, a password, no downloads.
	want(t, owner.get("/videos/"+alpha.ID), 200, `value="Alpha launch"`, "Who may watch")
	wantRedirect(t, owner.post("/videos/"+alpha.ID, url.Values{
		"title": {"Alpha launch (final)"}, "description": {"What we ship on Monday."},
		"buttons": {"custom"}, "button1_label": {"Sign up"}, "button1_url": {"https://acme.example/signup"},
		"privacy": {"password"}, "password": {"s3cret!"}, "expires": {""},
	}), "/videos/"+alpha.ID+"?notice=video-saved")
	viewer := newBrowser(t, ts.URL)
	page := "/v/" + slugOf(alpha.ID)
	locked := viewer.get(page)
	if locked.Status != 401 || strings.Contains(locked.Body, "Alpha launch") {
		t.Fatalf("password page: %d\n%s", locked.Status, clip(locked.Body))
	}
	open := viewer.post(page, url.Values{"password": {"s3cret!"}, "csrf": {""}})
	want(t, open, 200, "Alpha launch (final)", "What we ship on Monday.", `href="https://acme.example/signup"`, ">Sign up</a>")
	if strings.Contains(open.Body, "/download") {
		t.Error("downloads are off but the page offers one")
	}
	if len(viewer.c.Jar.Cookies(mustURL(ts.URL))) != 0 {
		t.Error("the viewer got cookies")
	}
	// A form error is shown, nothing saved.
	bad := owner.post("/videos/"+beta.ID, url.Values{"title": {"Beta"}, "buttons": {"default"}, "privacy": {"password"}})
	want(t, bad, 400, "Choose a password")
	bad = owner.post("/videos/"+beta.ID, url.Values{"title": {"Beta"}, "buttons": {"custom"}, "button1_label": {"Go"}, "button1_url": {"javascript:alert(1)"}, "privacy": {"public"}})
	want(t, bad, 400, "web address")
	if v, _ := ts.d.store.Video(ctx, beta.ID); v.Title != "Beta notes" || v.Privacy != store.PrivacyPublic {
		t.Fatalf("a refused form changed the video: %+v", v)
	}

	// Rotate: the old link is gone at once.
	old := "/v/" + slugOf(beta.ID)
	wantRedirect(t, owner.post("/videos/"+beta.ID+"/rotate", nil), "/videos/"+beta.ID+"?notice=link-rotated")
	if a := viewer.get(old); a.Status != 404 || strings.Contains(a.Body, "Beta notes") {
		t.Fatalf("old link after rotation: %d", a.Status)
	}
	want(t, viewer.get("/v/"+slugOf(beta.ID)), 200, "Beta notes")

	// Without a workspace there is nowhere to move a video: no such form.
	if lib := owner.get("/library"); lib.Status != 200 || strings.Contains(lib.Body, "Move to") {
		t.Fatalf("library of a user without workspaces (%d) offers to move videos:\n%s", lib.Status, clip(lib.Body))
	}
	// Members only: in a workspace, for its members.
	ws := workspaceID(t, owner.post("/workspaces", url.Values{"name": {"Acme"}}).Location)
	want(t, owner.get("/library"), 200, "Move to", `<option value="`+ws+`">Acme</option>`)
	member := signUp(t, ts, smtp, "Mia Member", "mia@acme.example")
	stranger := signUp(t, ts, smtp, "Sam Stranger", "sam@other.example")
	wantRedirect(t, owner.post("/w/"+ws+"/invitations", url.Values{"email": {member.Email}, "role": {"member"}}), "/w/")
	link := smtp.WaitFor(t, member.Email, "invited you").Link(t, "/invite/")
	wantRedirect(t, member.post(link, nil), "/w/"+ws)
	wantRedirect(t, owner.post("/videos/"+beta.ID+"/move", url.Values{"to": {ws}}), "/library")
	wantRedirect(t, owner.post("/videos/"+beta.ID, url.Values{"title": {"Beta notes"}, "buttons": {"default"}, "privacy": {"workspace"}, "downloads": {"on"}}),
		"/videos/"+beta.ID)
	// The workspace's logo and default buttons show on its videos' pages.
	wantRedirect(t, owner.upload("/w/"+ws+"/logo", "logo", "logo.png", pngBytes(t, 4)), "/w/")
	wantRedirect(t, owner.post("/w/"+ws, url.Values{"name": {"Acme"}, "button1_label": {"Acme pricing"}, "button1_url": {"https://acme.example/pricing"}}), "/w/")
	ts.d.Share().Forget(beta.ID) // the move and the workspace edits went around the share service
	bpage := "/v/" + slugOf(beta.ID)
	mv := member.get(bpage)
	want(t, mv, 200, "Beta notes", `alt="Acme"`, ">Acme pricing</a>", `href="https://acme.example/pricing"`)
	logo := regexp.MustCompile(`src="(/v/[^"]+/logo)"`).FindStringSubmatch(mv.Body)
	if logo == nil {
		t.Fatalf("no logo on the workspace video's page:\n%s", clip(mv.Body))
	}
	if a := member.get(logo[1]); a.Status != 200 || a.Header.Get("Content-Type") != "image/png" {
		t.Errorf("logo: %d %s", a.Status, a.Header.Get("Content-Type"))
	}
	grant := regexp.MustCompile(`/v/[a-z2-7]{32}/g/[0-9a-f]+-[A-Za-z0-9_-]+`).FindString(mv.Body)
	if grant == "" || strings.Contains(mv.Body, "og:") {
		t.Fatalf("member's page: grant %q, OG tags %v", grant, strings.Contains(mv.Body, "og:"))
	}
	want(t, member.get(grant+"/playlist.m3u8"), 200, "#EXTM3U")
	want(t, member.get(grant+"/download"), 200)
	// The member sees it in the workspace library with its thumbnail.
	want(t, member.get("/videos"), 200, "Beta notes", `/videos/`+beta.ID+`/thumbnail.jpg`)
	if a := member.get("/videos/" + beta.ID + "/thumbnail.jpg"); a.Status != 200 {
		t.Errorf("member's library thumbnail: %d", a.Status)
	}
	// Others: nothing.
	for who, b := range map[string]*browser{"stranger": stranger.browser, "anonymous": viewer} {
		a := b.get(bpage)
		if a.Status != 403 && a.Status != 401 || strings.Contains(a.Body, "Beta notes") || strings.Contains(a.Body, "og:") {
			t.Errorf("%s on a members-only page: %d\n%s", who, a.Status, clip(a.Body))
		}
		if a := b.get(bpage + "/playlist.m3u8"); a.Status != 404 {
			t.Errorf("%s got the members-only playlist: %d", who, a.Status)
		}
	}
	// Nor may a member or a stranger edit the owner's videos.
	for _, p := range []*person{member, stranger} {
		if a := p.get("/videos/" + beta.ID); a.Status != 404 {
			t.Errorf("%s opened the owner's video page: %d", p.Name, a.Status)
		}
		if a := p.post("/videos/"+beta.ID, url.Values{"title": {"hijacked"}, "privacy": {"public"}}); a.Status != 404 {
			t.Errorf("%s edited the owner's video: %d", p.Name, a.Status)
		}
		if a := p.post("/videos/"+beta.ID+"/delete", url.Values{"confirm": {"delete"}}); a.Status != 404 {
			t.Errorf("%s deleted the owner's video: %d", p.Name, a.Status)
		}
		if a := p.get("/videos/" + alpha.ID + "/thumbnail.jpg"); a.Status != 404 {
			t.Errorf("%s got a personal video's thumbnail: %d", p.Name, a.Status)
		}
	}

	// A failed job is listed with its error and retried by the owner.
	far := time.Now().Add(time.Hour)
	j, err := ts.d.store.EnqueueJob(ctx, store.Job{ID: "00000000000000000000000000000001", Kind: "thumbnail", VideoID: alpha.ID,
		Args: []byte("{}"), MaxAttempts: 1, RunAt: far, CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.d.store.ClaimJob(ctx, "test", far, far.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := ts.d.store.FailJob(ctx, j.ID, "test", "ffmpeg: Invalid data found when processing input", far, far, true); err != nil {
		t.Fatal(err)
	}
	want(t, owner.get("/videos"), 200, "Processing problems", "Invalid data found when processing input", "/jobs/"+j.ID+"/retry")
	if a := stranger.post("/jobs/"+j.ID+"/retry", nil); a.Status != 404 {
		t.Errorf("a stranger retried the owner's job: %d", a.Status)
	}
	wantRedirect(t, owner.post("/jobs/"+j.ID+"/retry", nil), "/videos?notice=job-retried")
	ts.waitJobs(t, alpha.ID, 60*time.Second)

	// Delete: the page, the files and the rows go.
	want(t, owner.post("/videos/"+alpha.ID+"/delete", nil), 400, "confirm")
	wantRedirect(t, owner.post("/videos/"+alpha.ID+"/delete", url.Values{"confirm": {"delete"}}), "/videos?notice=video-deleted")
	if a := viewer.get(page); a.Status != 404 {
		t.Errorf("deleted video's page: %d", a.Status)
	}
	if files := ts.blobFiles(t, alpha.ID); len(files) != 0 {
		t.Errorf("blobs left after deletion: %v", files)
	}
	if strings.Contains(ts.logs.String(), "s3cret!") {
		t.Error("the log contains the password")
	}
}
