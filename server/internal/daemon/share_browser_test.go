package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"framecast.dev/server/internal/share"
	"framecast.dev/server/internal/store"
)

// repoRoot is the folder holding go.work.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.work not found above the test's folder")
		}
		dir = parent
	}
}

// artifactsDir is where tests leave screenshots: $FRAMECAST_ARTIFACTS,
// else artifacts/ at the top of the repository.
func artifactsDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("FRAMECAST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(repoRoot(t), "artifacts")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		t.Fatal(err)
	}
	return abs
}

func mustVideo(t *testing.T, ts *testServer, id string) store.Video {
	t.Helper()
	v, err := ts.d.store.Video(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestShareBrowser runs the share-page browser tests (server/web/e2e, node's
// test runner, playwright-core driving Debian's chromium) against a real
// server holding prepared videos. Missing node, chromium or node_modules
// fail it: setup installs them (cd server/web/e2e && npm ci).
func TestShareBrowser(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed (Node 20+ is needed for the browser tests): ", err)
	}
	chromium := os.Getenv("FRAMECAST_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("chromium is not installed at %s (apt-get install chromium): %v", chromium, err)
	}
	e2e := filepath.Join(repoRoot(t), "server", "web", "e2e")
	if _, err := os.Stat(filepath.Join(e2e, "node_modules", "playwright-core", "package.json")); err != nil {
		t.Fatalf("playwright-core is not installed: run (cd server/web/e2e && npm ci): %v", err)
	}

	ts := start(t)
	ctx := context.Background()
	rec := recordHLS(t, 6, 640, 360)
	type video struct {
		Path     string            `json:"path"`
		OldPath  string            `json:"oldPath,omitempty"`
		Embed    string            `json:"embed,omitempty"`
		Title    string            `json:"title"`
		Password string            `json:"password,omitempty"`
		Buttons  []store.CTAButton `json:"buttons,omitempty"`
	}
	prepare := func(title string, edit func(*store.VideoSettings)) (*sharedVideo, video) {
		v := rec.upload(t, ts, title)
		sv := &sharedVideo{ts: ts, v: v, slug: v.ShareURL[strings.LastIndex(v.ShareURL, "/")+1:], title: title, rec: rec}
		ts.waitJobs(t, v.ID, 120*time.Second)
		if edit != nil {
			sv.settings(t, edit)
		}
		return sv, video{Path: "/v/" + sv.slug, Embed: "/embed/" + sv.slug, Title: title}
	}
	buttons := []store.CTAButton{{Label: "Book a demo", URL: ts.URL + "/healthz"}, {Label: "Read the docs", URL: ts.URL + "/readyz"}}
	_, public := prepare("Product tour: the new dashboard", func(s *store.VideoSettings) {
		s.Description = "A walk through what changed this week.\n\nQuestions? Book a demo."
		s.CTAButtons = buttons
	})
	public.Buttons = buttons
	hash, err := share.HashPassword(ctx, "open sesame")
	if err != nil {
		t.Fatal(err)
	}
	_, password := prepare("Salary review (confidential)", func(s *store.VideoSettings) {
		s.Privacy, s.PasswordHash = store.PrivacyPassword, hash
	})
	password.Password = "open sesame"
	_, members := prepare("Internal roadmap", func(s *store.VideoSettings) { s.Privacy = store.PrivacyWorkspace })
	_, expired := prepare("Last year's offer", func(s *store.VideoSettings) { s.ExpiresAt = time.Now().Add(-time.Hour) })
	tv, trimmed := prepare("Trimmed clip", nil)
	if err := ts.d.media.RequestTrim(ctx, mustVideo(t, ts, tv.v.ID), 1.3, 4.7); err != nil {
		t.Fatal(err)
	}
	ts.waitJobs(t, tv.v.ID, 2*time.Minute)
	rot, rotated := prepare("Rotated link", nil)
	nv, err := ts.d.store.RotateSlug(ctx, rot.v.ID, "cccccccccccccccccccccccccccccccc")
	if err != nil {
		t.Fatal(err)
	}
	rotated.OldPath, rotated.Path = rotated.Path, "/v/"+nv.Slug

	// Another site (another origin on loopback) that embeds the public
	// video in an iframe.
	framer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>Someone's blog</title><h1>A post</h1>`+
			`<iframe id="f" src="%s%s" width="640" height="360" allow="autoplay; fullscreen"></iframe>`, ts.URL, public.Embed)
	}))
	defer framer.Close()

	fixture := map[string]any{"base": ts.URL, "framer": framer.URL, "public": public, "password": password, "members": members,
		"expired": expired, "rotated": rotated, "trimmed": trimmed, "upload": uploadFixture(t, ts)}
	b, _ := json.Marshal(fixture)
	fxFile := filepath.Join(t.TempDir(), "fixture.json")
	if err := os.WriteFile(fxFile, b, 0o600); err != nil {
		t.Fatal(err)
	}

	runCtx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(runCtx, node, "--test", "--test-reporter=spec", "--test-concurrency=1", filepath.Join(e2e, "share.test.js"))
	cmd.Dir = e2e
	cmd.Env = append(os.Environ(), "FRAMECAST_E2E="+fxFile, "FRAMECAST_ARTIFACTS="+artifactsDir(t), "FRAMECAST_CHROMIUM="+chromium)
	out, err := cmd.CombinedOutput()
	t.Logf("node --test:\n%s", out)
	if err != nil {
		t.Fatalf("browser tests failed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(artifactsDir(t), "share-page.png")); err != nil {
		t.Errorf("no screenshot of the share page: %v", err)
	}
}
