package daemon

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"framecast.dev/shared/testenv"
)

// TestExport: "Download my data" builds a ZIP in the background, mails a
// link that opens only for its owner, holds the user's data and each
// video as a playable MP4, is sealed at rest, and expires; a workspace
// owner exports the workspace.
func TestExport(t *testing.T) {
	testenv.Require(t, "ffmpeg")
	clk := newClock()
	ts, smtp := startAccounts(t, clk)
	ctx := context.Background()
	ada := signUp(t, ts, smtp, "Ada Exporter", "ada@example.com")
	wantRedirect(t, ada.post("/profile", url.Values{"name": {"Ada Exporter"}, "email": {"ada@example.com"}, "phone": {"+44 20 7946 0000"}, "company": {"Engines Ltd"}}), "/profile?notice=saved")
	bob := signUp(t, ts, smtp, "Bob Member", "bob@example.com")
	app, _ := signInDevice(t, ts, clk, ada, "ada-laptop")
	rec := recordHLS(t, 3, 320, 240)
	v := rec.uploadWith(t, app, "Export me")
	ts.waitJobs(t, v.ID, 90*time.Second)

	wantRedirect(t, ada.post("/analytics", url.Values{"tracking": {"full"}}), "/analytics")
	beacon(t, v, `{"view":"0123456789abcdef0123456789abcdef","k":"start","r":"news.example.com"}`)
	waitRows(t, ts, "track_views", v.ID)

	wantRedirect(t, ada.post("/privacy/export", nil), "/privacy?notice=export-requested")
	m := smtp.WaitFor(t, "ada@example.com", "Your Framecast data export is ready")
	link := m.Link(t, ts.URL+"/privacy/exports/")
	path := strings.TrimPrefix(link, ts.URL)

	// Sealed at rest: the stored file is not a ZIP anyone with the disk
	// (or the bucket) can open.
	var stored []string
	for info, err := range ts.d.blobs.List(ctx, "exports/"+ada.ID+"/") {
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, info.Key)
	}
	if len(stored) != 1 {
		t.Fatalf("stored exports %v, want one", stored)
	}
	rc, err := ts.d.blobs.Get(ctx, stored[0])
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(rc)
	rc.Close()
	if bytes.HasPrefix(raw, []byte("PK")) || bytes.Contains(raw, []byte("ada@example.com")) {
		t.Fatal("the export is stored in the clear")
	}

	// Only Ada opens it.
	want(t, bob.get(path), http.StatusNotFound)
	wantRedirect(t, newBrowser(t, ts.URL).get(path), "/signin")
	got := ada.get(path)
	want(t, got, http.StatusOK)
	if got.Header.Get("Content-Type") != "application/zip" || !strings.Contains(got.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("download headers %v", got.Header)
	}
	files := unzip(t, got.Body)
	for _, name := range []string{"README.txt", "profile.json", "workspaces.json", "videos.json", "analytics.json", "sign_ins.json", "devices.json", "identities.json", "privacy_log.json", "consents.json", "privacy_choices.json", "support_messages.json", "videos/" + v.ID + ".mp4"} {
		if _, ok := files[name]; !ok {
			t.Errorf("the export has no %s (has %v)", name, keys(files))
		}
	}
	var profile map[string]any
	mustJSON(t, files["profile.json"], &profile)
	if profile["email"] != "ada@example.com" || profile["phone"] != "+44 20 7946 0000" || profile["company"] != "Engines Ltd" || profile["id"] != ada.ID {
		t.Errorf("profile.json: %s", files["profile.json"])
	}
	var videos []map[string]any
	mustJSON(t, files["videos.json"], &videos)
	if len(videos) != 1 || videos[0]["title"] != "Export me" || videos[0]["file"] != "videos/"+v.ID+".mp4" {
		t.Errorf("videos.json: %s", files["videos.json"])
	}
	for name, wants := range map[string][]string{
		"sign_ins.json":    {`"network": "127.0.0.0"`, `"method": "password"`},
		"devices.json":     {`"name": "ada-laptop"`},
		"privacy_log.json": {"export-requested", "consent-given"},
		"consents.json":    {`"policy_version": "1"`},
	} {
		for _, w := range wants {
			if !strings.Contains(files[name], w) {
				t.Errorf("%s lacks %s:\n%s", name, w, files[name])
			}
		}
	}
	if strings.Contains(files["sign_ins.json"], "127.0.0.1") {
		t.Error("sign_ins.json holds a full IP address")
	}
	var analytics map[string][]map[string]any
	mustJSON(t, files["analytics.json"], &analytics)
	if views := analytics["track_views"]; len(views) != 1 || views[0]["referrer"] != "news.example.com" || views[0]["video_id"] != v.ID {
		t.Errorf("analytics.json's views: %s", files["analytics.json"])
	}
	if len(analytics["track_daily"]) != 1 {
		t.Errorf("analytics.json has no daily counts: %s", files["analytics.json"])
	}
	mp4 := filepath.Join(t.TempDir(), "v.mp4")
	if err := os.WriteFile(mp4, []byte(files["videos/"+v.ID+".mp4"]), 0o600); err != nil {
		t.Fatal(err)
	}
	if d := probeDuration(t, mp4); math.Abs(d-rec.duration()) > 0.2 {
		t.Errorf("the exported MP4 plays %.2f s, want %.2f", d, rec.duration())
	}
	want(t, ada.get("/privacy"), http.StatusOK, "You asked for a copy of your data.", "You downloaded an export.", "ready: see your e-mail")

	// A workspace's owner exports it; its members cannot.
	a := ada.post("/workspaces", url.Values{"name": {"Engines Co"}})
	wantRedirect(t, a, "/w/")
	ws := workspaceID(t, a.Location)
	wantRedirect(t, ada.post("/w/"+ws+"/invitations", url.Values{"email": {"bob@example.com"}, "role": {"member"}}), "/w/"+ws+"?notice=invited")
	wantRedirect(t, bob.post(smtp.WaitFor(t, "bob@example.com", "invited you").Link(t, "/invite/"), nil), "/w/"+ws+"?notice=joined")
	wantRedirect(t, ada.post("/videos/"+v.ID+"/move", url.Values{"to": {ws}}), "/library?notice=moved")
	want(t, bob.post("/w/"+ws+"/export", nil), http.StatusForbidden)
	wantRedirect(t, ada.post("/w/"+ws+"/export", nil), "/privacy?notice=workspace-export")
	wsLink := strings.TrimPrefix(smtp.WaitFor(t, "ada@example.com", "Your Framecast data export is ready").Link(t, ts.URL+"/privacy/exports/"), ts.URL)
	wsFiles := unzip(t, ada.get(wsLink).Body)
	if !strings.Contains(wsFiles["members.json"], "bob@example.com") || !strings.Contains(wsFiles["workspace.json"], "Engines Co") ||
		!strings.Contains(wsFiles["videos.json"], "Export me") || len(wsFiles["videos/"+v.ID+".mp4"]) == 0 {
		t.Errorf("workspace export: %v\n%s\n%s", keys(wsFiles), wsFiles["members.json"], wsFiles["videos.json"])
	}

	// Three a day at most.
	wantRedirect(t, ada.post("/privacy/export", nil), "/privacy?notice=export-requested")
	smtp.WaitFor(t, "ada@example.com", "Your Framecast data export is ready")
	want(t, ada.post("/privacy/export", nil), http.StatusConflict, "3 exports in the last 24 hours")

	// The links expire with the export's lifetime (7 days by default).
	clk.Add(7*24*time.Hour + time.Minute)
	want(t, ada.get(path), http.StatusGone, "expired")
	want(t, ada.get(wsLink), http.StatusGone)
}

func unzip(t *testing.T, body string) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(strings.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("not a ZIP: %v", err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		out[f.Name] = string(b)
	}
	return out
}

func mustJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("%v in %s", err, s)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
