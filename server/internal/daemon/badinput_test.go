package daemon

import (
	"context"
	"database/sql"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"framecast.dev/shared/api"
)

// Bad input gets a clear 4xx and leaves nothing half-stored; text that only
// looks dangerous (SQL, paths, any script) is stored and shown as typed.

func countRows(t *testing.T, ts *testServer, table string) int {
	t.Helper()
	var n int
	if err := ts.d.store.(interface{ DB() *sql.DB }).DB().QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func countBlobs(t *testing.T, ts *testServer) int {
	t.Helper()
	n := 0
	for _, err := range ts.d.blobs.List(context.Background(), "") {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}

func TestBadInput(t *testing.T) {
	clk := newClock()
	ts, smtp := startAccounts(t, clk)
	p := signUp(t, ts, smtp, "Pat", "pat@example.com")
	app, _ := signInDevice(t, ts, clk, p, "laptop")
	ctx := context.Background()
	users, videos, workspaces, blobs := countRows(t, ts, "users"), countRows(t, ts, "videos"), countRows(t, ts, "workspaces"), countBlobs(t, ts)
	anon := newBrowser(t, ts.URL)
	form := "application/x-www-form-urlencoded"

	t.Run("malformed JSON", func(t *testing.T) {
		for _, body := range []string{`{"client_name":`, `[1,2]`, `{"client_name": 5}`, `{} {}`, "", "\x00\xff"} {
			a := anon.do("POST", api.RouteDeviceCode, strings.NewReader(body), "application/json")
			want(t, a, http.StatusBadRequest, `"code":"bad_request"`)
		}
		for _, body := range []string{`{"title":`, `{"title": ["x"]}`, `{"recording_id": "'; DROP TABLE videos; --"}`, `{"recording_id": "../../etc"}`} {
			a := anon.do("POST", api.RouteVideos, strings.NewReader(body), "application/json", "Authorization", "Bearer "+app.Token)
			want(t, a, http.StatusBadRequest)
		}
	})

	t.Run("oversized bodies", func(t *testing.T) {
		big := strings.Repeat("a", 2<<20)
		want(t, anon.do("POST", "/signup", strings.NewReader("name="+big), form), http.StatusRequestEntityTooLarge)
		want(t, anon.do("POST", api.RouteDeviceCode, strings.NewReader(`{"client_name":"`+big+`"}`), "application/json"), http.StatusRequestEntityTooLarge)
		// Without a declared length (chunked), cut off while reading.
		chunked := io.MultiReader(strings.NewReader("csrf="+anon.csrf()+"&name="), strings.NewReader(big))
		want(t, anon.do("POST", "/signup", chunked, form), http.StatusRequestEntityTooLarge)
		want(t, p.upload("/profile/photo", "photo", "big.png", append(pngBytes(t, 4), make([]byte, 3<<20)...)), http.StatusRequestEntityTooLarge)
		want(t, p.post("/profile", url.Values{"name": {strings.Repeat("n", 101)}, "email": {"pat@example.com"}}), http.StatusBadRequest, "longer than 100")
		want(t, p.post("/workspaces", url.Values{"name": {strings.Repeat("w", 101)}}), http.StatusBadRequest)
	})

	t.Run("wrong or broken forms", func(t *testing.T) {
		want(t, p.do("POST", "/profile", strings.NewReader(`{"name":"x"}`), "application/json"), http.StatusUnsupportedMediaType)
		want(t, p.do("POST", "/profile", strings.NewReader("csrf="+p.csrf()+"&name=%zz"), form), http.StatusBadRequest)
		want(t, p.do("POST", "/profile/photo", strings.NewReader("--x\r\nbroken"), "multipart/form-data; boundary=x"), http.StatusBadRequest)
		want(t, p.upload("/profile/photo", "photo", "page.png", []byte("<!doctype html><script>alert(1)</script>")), http.StatusBadRequest)
		want(t, p.upload("/profile/photo", "photo", "empty.png", nil), http.StatusBadRequest)
	})

	t.Run("path traversal", func(t *testing.T) {
		for _, path := range []string{"/w/..%2F..%2F..%2Fetc%2Fpasswd", "/w/%2e%2e", "/w/..%2Fdata/logo", "/invite/..%2F..%2Fetc%2Fpasswd",
			"/verify/..%2F..%2Fkek", "/reset/..%2F..%2Fkek%00"} {
			a := p.get(path)
			if a.Status != http.StatusNotFound && a.Status != http.StatusBadRequest && a.Status != http.StatusOK {
				t.Errorf("GET %s: %d", path, a.Status)
			}
			if strings.Contains(a.Body, "root:") {
				t.Fatalf("GET %s served a system file", path)
			}
		}
		for _, path := range []string{"/devices/..%2F..%2Fx/revoke", "/videos/..%2F..%2Fetc/move", "/w/..%2F..%2Fetc/delete",
			"/w/" + strings.Repeat("a", 26) + "/members/..%2F..%2Fx/remove"} {
			want(t, p.post(path, nil), http.StatusNotFound)
		}
		// A file name is never used: the photo is stored under its own key.
		wantRedirect(t, p.upload("/profile/photo", "photo", "../../../../kek", pngBytes(t, 4)), "/profile?notice=photo-saved")
		u, _ := ts.d.store.User(ctx, p.ID)
		if strings.Contains(u.PhotoKey, "..") || strings.Contains(u.PhotoKey, "kek") {
			t.Fatalf("photo key %q", u.PhotoKey)
		}
		// A device or workspace named like a path is just a name.
		if _, _, err := app.CreateVideo(ctx, apiCreate("../../../etc/passwd")); err != nil {
			t.Fatal(err)
		}
		wantRedirect(t, p.post("/workspaces", url.Values{"name": {"../../etc/passwd"}}), "/w/")
		filepath.WalkDir(ts.DataDir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && (d.Name() == "passwd" || strings.Contains(path, "..")) {
				t.Errorf("a name became a path: %s", path)
			}
			return nil
		})
		wantRedirect(t, p.post("/profile/photo/delete", nil), "/profile")
		blobs = countBlobs(t, ts)
		videos, workspaces = countRows(t, ts, "videos"), countRows(t, ts, "workspaces")
	})

	t.Run("SQL-meaningful characters", func(t *testing.T) {
		name := `Robert'); DROP TABLE users;-- "x" \ %_`
		b := newBrowser(t, ts.URL)
		wantRedirect(t, b.post("/signup", url.Values{"name": {name}, "email": {"o'brien+sql@example.com"}, "password": {testPassword},
			"company": {`"; DELETE FROM workspaces; --`}}), "/signin?notice=signed-up")
		smtp.WaitFor(t, "o'brien+sql@example.com", "Confirm")
		u, err := ts.d.store.UserByEmail(ctx, "o'brien+sql@example.com")
		if err != nil || u.Name != name || u.Company != `"; DELETE FROM workspaces; --` {
			t.Fatalf("stored %+v, %v", u, err)
		}
		users++
		for _, email := range []string{"' OR '1'='1", "pat@example.com' --", "pat@example.com\x00"} {
			want(t, b.post("/signin", url.Values{"email": {email}, "password": {"x' OR 1=1 --"}}), http.StatusBadRequest)
		}
		want(t, b.post("/signin", url.Values{"email": {"pat@example.com"}, "password": {"' OR ''='"}}), http.StatusUnauthorized)
		a := p.post("/workspaces", url.Values{"name": {`%'; DROP TABLE workspace_members; --`}})
		wantRedirect(t, a, "/w/")
		want(t, p.get(a.Location[:strings.Index(a.Location, "?")]), http.StatusOK, `%&#39;; DROP TABLE workspace_members; --`)
		workspaces++
		if countRows(t, ts, "users") != users || countRows(t, ts, "workspace_members") < 1 {
			t.Fatal("rows went missing")
		}
	})

	t.Run("unicode", func(t *testing.T) {
		// Decomposed é is stored composed (NFC); any script is welcome.
		wantRedirect(t, p.post("/profile", url.Values{"name": {"Zoe\u0301 山田 😀 Ωμέγα"}, "email": {"pat@example.com"}, "company": {"Ünïcødé"}}), "/profile?notice=saved")
		u, _ := ts.d.store.User(ctx, p.ID)
		if u.Name != "Zoé 山田 😀 Ωμέγα" || u.Company != "Ünïcødé" {
			t.Fatalf("stored %q %q", u.Name, u.Company)
		}
		want(t, p.get("/profile"), http.StatusOK, "Zoé 山田 😀 Ωμέγα")
		// Characters that cannot be shown honestly are refused, and
		// nothing of the form is kept.
		for _, bad := range []string{"evil\u202Egnp.exe", "bell\x07", "nul\x00", "line\nbreak", string([]byte{0xff, 0xfe})} {
			want(t, p.post("/profile", url.Values{"name": {bad}, "email": {"pat@example.com"}, "company": {"Changed"}}), http.StatusBadRequest)
			want(t, p.post("/workspaces", url.Values{"name": {bad}}), http.StatusBadRequest)
		}
		if u2, _ := ts.d.store.User(ctx, p.ID); u2.Company != "Ünïcødé" {
			t.Fatalf("a refused form changed the company to %q", u2.Company)
		}
		if _, err := app.StartDeviceSignIn(ctx, "laptop\u202E"); !api.IsCode(err, api.CodeBadRequest) {
			t.Fatalf("device name with a bidi override: %v", err)
		}
	})

	t.Run("nothing stored half-way", func(t *testing.T) {
		b := newBrowser(t, ts.URL)
		want(t, b.post("/signup", url.Values{"name": {"Half"}, "email": {"half@example.com"}, "password": {testPassword}, "phone": {"not a phone"}}), http.StatusBadRequest)
		want(t, b.post("/signup", url.Values{"name": {"Half"}, "email": {"not an address"}, "password": {testPassword}}), http.StatusBadRequest)
		want(t, b.post("/signup", url.Values{"name": {"Half"}, "email": {"half@example.com"}, "password": {"short"}}), http.StatusBadRequest)
		smtp.NoMailTo(t, "half@example.com", 200*time.Millisecond)
		if n := countRows(t, ts, "users"); n != users {
			t.Fatalf("users %d, want %d", n, users)
		}
		if n := countRows(t, ts, "workspaces"); n != workspaces {
			t.Fatalf("workspaces %d, want %d", n, workspaces)
		}
		if n := countRows(t, ts, "videos"); n != videos {
			t.Fatalf("videos %d, want %d", n, videos)
		}
		if n := countBlobs(t, ts); n != blobs {
			t.Fatalf("blobs %d, want %d", n, blobs)
		}
	})
}
