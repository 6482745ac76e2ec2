package daemon

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"framecast.dev/shared/api"
)

func TestProfile(t *testing.T) {
	clk := newClock()
	ts, smtp := startAccounts(t, clk)
	p := signUp(t, ts, smtp, "Pat", "pat@example.com")
	other := signUp(t, ts, smtp, "Quinn", "quinn@example.com")
	ctx := context.Background()

	wantRedirect(t, p.post("/profile", url.Values{"name": {"Pat Q. O'Neil"}, "email": {"pat@example.com"}, "phone": {"+1 (555) 010-0000"},
		"company": {"Ünïcode AG"}}), "/profile?notice=saved")
	u, _ := ts.d.store.User(ctx, p.ID)
	if u.Name != "Pat Q. O'Neil" || u.Phone != "+1 (555) 010-0000" || u.Company != "Ünïcode AG" {
		t.Fatalf("after edit: %+v", u)
	}
	want(t, p.post("/profile", url.Values{"name": {""}, "email": {"pat@example.com"}}), http.StatusBadRequest, "Enter your name")
	want(t, p.post("/profile", url.Values{"name": {"Pat"}, "email": {"pat@example.com"}, "phone": {"call me"}}), http.StatusBadRequest, "phone")
	if u2, _ := ts.d.store.User(ctx, p.ID); u2.Name != u.Name {
		t.Fatal("a refused edit changed the name")
	}

	// A new address takes effect once confirmed; the old one is told.
	wantRedirect(t, p.post("/profile", url.Values{"name": {u.Name}, "email": {"pat.new@example.com"}}), "/profile?notice=email-pending")
	smtp.WaitFor(t, "pat@example.com", "is being changed")
	link := smtp.WaitFor(t, "pat.new@example.com", "Confirm your new e-mail address").Link(t, "/verify/")
	if u2, _ := ts.d.store.User(ctx, p.ID); u2.Email != "pat@example.com" {
		t.Fatalf("address changed before confirmation: %s", u2.Email)
	}
	wantRedirect(t, p.get(link), "/profile?notice=verified-in")
	if u2, _ := ts.d.store.User(ctx, p.ID); u2.Email != "pat.new@example.com" || !u2.Verified() {
		t.Fatalf("after confirmation: %+v", u2)
	}
	// Asking for another's address does not tell, and cannot take it.
	wantRedirect(t, p.post("/profile", url.Values{"name": {u.Name}, "email": {"quinn@example.com"}}), "/profile?notice=email-pending")
	steal := smtp.WaitFor(t, "quinn@example.com", "Confirm your new e-mail address").Link(t, "/verify/")
	want(t, p.get(steal), http.StatusConflict)

	// Photo: checked by content and size, shown only to its owner.
	photo := pngBytes(t, 16)
	wantRedirect(t, p.upload("/profile/photo", "photo", "me.png", photo), "/profile?notice=photo-saved")
	got := p.get("/profile/photo")
	if got.Status != 200 || got.Body != string(photo) || got.Header.Get("Content-Type") != "image/png" || !strings.Contains(got.Header.Get("Cache-Control"), "private") {
		t.Fatalf("photo: %d %v", got.Status, got.Header)
	}
	want(t, p.get("/profile"), http.StatusOK, `src="/profile/photo"`)
	want(t, other.get("/profile/photo"), http.StatusNotFound) // their own: none
	want(t, newBrowser(t, ts.URL).get("/profile/photo"), http.StatusSeeOther)
	want(t, p.upload("/profile/photo", "photo", "evil.png", []byte("<html><script>alert(1)</script></html>")), http.StatusBadRequest, "not a PNG")
	want(t, p.upload("/profile/photo", "photo", "huge.png", append(photo, bytes.Repeat([]byte{0}, 2<<20)...)), http.StatusRequestEntityTooLarge)
	if again := p.get("/profile/photo"); again.Body != string(photo) {
		t.Fatal("a refused upload replaced the photo")
	}
	u3, _ := ts.d.store.User(ctx, p.ID)
	wantRedirect(t, p.post("/profile/photo/delete", nil), "/profile?notice=photo-deleted")
	want(t, p.get("/profile/photo"), http.StatusNotFound)
	if _, err := ts.d.blobs.Stat(ctx, u3.PhotoKey); err == nil {
		t.Fatal("the removed photo's blob is still stored")
	}

	// Password change: the current one is checked; other browsers signed out.
	second := newBrowser(t, ts.URL)
	wantRedirect(t, second.post("/signin", url.Values{"email": {"pat.new@example.com"}, "password": {testPassword}}), "/library")
	want(t, p.post("/profile/password", url.Values{"current_password": {"wrong one!!"}, "new_password": {"the next password"}}), http.StatusBadRequest, "current password is wrong")
	wantRedirect(t, p.post("/profile/password", url.Values{"current_password": {testPassword}, "new_password": {"the next password"}}), "/profile?notice=password-changed")
	smtp.WaitFor(t, "pat.new@example.com", "password was changed")
	want(t, p.get("/profile"), http.StatusOK)
	wantRedirect(t, second.get("/profile"), "/signin")

	// Deleting the account removes the user, their videos (blobs too),
	// devices and sessions.
	app, _ := signInDevice(t, ts, clk, &person{browser: p.browser, ID: p.ID}, "pat-laptop")
	r := newRecordingWith(t, app, 500)
	for i := range r.seal {
		if _, err := app.PutSegment(ctx, r.video.ID, i, sum(r.seal[i]), int64(len(r.seal[i])), bytes.NewReader(r.seal[i])); err != nil {
			t.Fatal(err)
		}
	}
	wantRedirect(t, p.upload("/profile/photo", "photo", "me.png", photo), "/profile?notice=photo-saved")
	want(t, p.post("/profile/delete", url.Values{"confirm": {"not my password"}}), http.StatusBadRequest)
	wantRedirect(t, p.post("/profile/delete", url.Values{"confirm": {"the next password"}}), "/signin?notice=account-deleted")
	if _, err := ts.d.store.User(ctx, p.ID); err == nil {
		t.Fatal("the user survived")
	}
	if _, err := ts.d.store.Video(ctx, r.video.ID); err == nil {
		t.Fatal("the video survived")
	}
	for info, err := range ts.d.blobs.List(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(info.Key, r.video.ID) || strings.Contains(info.Key, p.ID) {
			t.Errorf("blob %s survived the account", info.Key)
		}
	}
	if _, err := app.Me(ctx); !api.IsCode(err, api.CodeUnauthorized) {
		t.Fatalf("the device token survived: %v", err)
	}
	wantRedirect(t, p.get("/profile"), "/signin")
	want(t, newBrowser(t, ts.URL).post("/signin", url.Values{"email": {"pat.new@example.com"}, "password": {"the next password"}}), http.StatusUnauthorized)
}
