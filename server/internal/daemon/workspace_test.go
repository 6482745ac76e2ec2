package daemon

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"framecast.dev/server/internal/store"
)

// pngBytes is a small real PNG image.
func pngBytes(t *testing.T, size int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	img.Set(0, 0, color.RGBA{R: 255, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// workspaceID finds the id in a /w/{id}... location.
func workspaceID(t *testing.T, loc string) string {
	t.Helper()
	rest, ok := strings.CutPrefix(loc, "/w/")
	if !ok || len(rest) < 26 {
		t.Fatalf("not a workspace location: %q", loc)
	}
	return rest[:26]
}

func TestWorkspaces(t *testing.T) {
	clk := newClock()
	ts, smtp := startAccounts(t, clk)
	olga := signUp(t, ts, smtp, "Olga Owner", "olga@example.com")
	adam := signUp(t, ts, smtp, "Adam Admin", "adam@example.com")
	mia := signUp(t, ts, smtp, "Mia Member", "mia@example.com")
	otto := signUp(t, ts, smtp, "Otto Outsider", "otto@example.com")
	ctx := context.Background()

	a := olga.post("/workspaces", url.Values{"name": {"Acme ☃ <GmbH>"}})
	wantRedirect(t, a, "/w/")
	ws := workspaceID(t, a.Location)
	want(t, olga.get("/w/"+ws), http.StatusOK, "Acme ☃ &lt;GmbH&gt;", "You are owner here")

	// Invitations by mail; accepting needs the invited address.
	wantRedirect(t, olga.post("/w/"+ws+"/invitations", url.Values{"email": {"Adam@Example.com"}, "role": {"admin"}}), "/w/"+ws+"?notice=invited")
	adamLink := smtp.WaitFor(t, "Adam@Example.com", "invited you to Acme").Link(t, "/invite/")
	wantRedirect(t, olga.post("/w/"+ws+"/invitations", url.Values{"email": {"mia@example.com"}, "role": {"member"}}), "/w/"+ws+"?notice=invited")
	miaLink := smtp.WaitFor(t, "mia@example.com", "invited you to Acme").Link(t, "/invite/")
	want(t, olga.get("/w/"+ws), http.StatusOK, "Adam@Example.com", "mia@example.com", "Open invitations")

	anon := newBrowser(t, ts.URL)
	want(t, anon.get(miaLink), http.StatusOK, "Acme ☃", "Sign in to join")
	want(t, otto.post(miaLink, nil), http.StatusForbidden, "This invitation was sent to mia@example.com")
	wantRedirect(t, mia.post(miaLink, nil), "/w/"+ws+"?notice=joined")
	want(t, mia.post(miaLink, nil), http.StatusNotFound) // used
	wantRedirect(t, adam.post(adamLink, nil), "/w/"+ws+"?notice=joined")
	m, err := ts.d.store.Member(ctx, ws, adam.ID)
	if err != nil || m.Role != store.RoleAdmin {
		t.Fatalf("adam: %+v %v", m, err)
	}

	// Outsiders see nothing; members see but do not manage.
	want(t, otto.get("/w/"+ws), http.StatusNotFound)
	want(t, mia.get("/w/"+ws), http.StatusOK, "You are member here", "Olga Owner")
	if strings.Contains(mia.get("/w/"+ws).Body, "Open invitations") {
		t.Error("a member sees the open invitations")
	}
	want(t, mia.post("/w/"+ws, url.Values{"name": {"Mine now"}}), http.StatusForbidden)
	want(t, mia.post("/w/"+ws+"/invitations", url.Values{"email": {"x@example.com"}, "role": {"member"}}), http.StatusForbidden)

	// Admins edit the settings: name, default buttons, logo.
	wantRedirect(t, adam.post("/w/"+ws, url.Values{"name": {"Acme"}, "button1_label": {"Book a demo"}, "button1_url": {"https://acme.example/demo"},
		"button2_label": {"Pricing"}, "button2_url": {"https://acme.example/pricing?ref=fc"}}), "/w/"+ws+"?notice=saved")
	w, _ := ts.d.store.Workspace(ctx, ws)
	if w.Name != "Acme" || len(w.CTAButtons) != 2 || w.CTAButtons[1].URL != "https://acme.example/pricing?ref=fc" {
		t.Fatalf("workspace %+v", w)
	}
	want(t, adam.post("/w/"+ws, url.Values{"name": {"Acme"}, "button1_label": {"Click"}, "button1_url": {"javascript:alert(1)"}}), http.StatusBadRequest, "https://")
	want(t, adam.post("/w/"+ws, url.Values{"name": {"Acme"}, "button1_url": {"https://x.example"}}), http.StatusBadRequest, "no label")
	if w2, _ := ts.d.store.Workspace(ctx, ws); len(w2.CTAButtons) != 2 {
		t.Fatal("a refused edit changed the buttons")
	}
	logo := pngBytes(t, 8)
	wantRedirect(t, adam.upload("/w/"+ws+"/logo", "logo", "../../logo.png", logo), "/w/"+ws+"?notice=saved")
	got := mia.get("/w/" + ws + "/logo")
	want(t, got, http.StatusOK)
	if got.Body != string(logo) || got.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("logo %q %d bytes", got.Header.Get("Content-Type"), len(got.Body))
	}
	want(t, otto.get("/w/"+ws+"/logo"), http.StatusNotFound)

	// Libraries: Mia's video goes from her personal library to the
	// workspace's, where everyone sees it; admins can send it back.
	miaApp, _ := signInDevice(t, ts, clk, mia, "mia-laptop")
	v, _, err := miaApp.CreateVideo(ctx, apiCreate("Quarterly update"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(olga.get("/library").Body, "Quarterly update") {
		t.Fatal("Olga sees Mia's personal video")
	}
	want(t, otto.post("/videos/"+v.ID+"/move", url.Values{"to": {ws}}), http.StatusNotFound)
	want(t, olga.post("/videos/"+v.ID+"/move", url.Values{"to": {ws}}), http.StatusNotFound) // not hers, not shared yet
	wantRedirect(t, mia.post("/videos/"+v.ID+"/move", url.Values{"to": {ws}}), "/library?notice=moved")
	want(t, olga.get("/library"), http.StatusOK, "Quarterly update", "Return to its owner")
	want(t, adam.get("/library"), http.StatusOK, "Quarterly update")
	if strings.Contains(otto.get("/library").Body, "Quarterly update") {
		t.Fatal("an outsider sees the workspace video")
	}
	// Olga may only return it to Mia, not move it elsewhere.
	other := olga.post("/workspaces", url.Values{"name": {"Olga's other"}})
	want(t, olga.post("/videos/"+v.ID+"/move", url.Values{"to": {workspaceID(t, other.Location)}}), http.StatusForbidden)
	want(t, mia.post("/videos/"+v.ID+"/move", url.Values{"to": {workspaceID(t, other.Location)}}), http.StatusNotFound) // Mia is not a member there
	wantRedirect(t, olga.post("/videos/"+v.ID+"/move", url.Values{"to": {""}}), "/library?notice=moved")
	if sv, _ := ts.d.store.Video(ctx, v.ID); sv.WorkspaceID != "" || sv.OwnerID != mia.ID {
		t.Fatalf("returned video %+v", sv)
	}

	// Roles: admins switch members and admins, only the owner hands over.
	wantRedirect(t, adam.post("/w/"+ws+"/members/"+mia.ID+"/role", url.Values{"role": {"admin"}}), "/w/"+ws+"?notice=saved")
	want(t, adam.post("/w/"+ws+"/members/"+olga.ID+"/role", url.Values{"role": {"member"}}), http.StatusForbidden)
	want(t, adam.post("/w/"+ws+"/members/"+mia.ID+"/role", url.Values{"role": {"owner"}}), http.StatusForbidden)
	want(t, adam.post("/w/"+ws+"/members/"+mia.ID+"/role", url.Values{"role": {"boss"}}), http.StatusBadRequest)
	want(t, olga.post("/w/"+ws+"/members/"+olga.ID+"/role", url.Values{"role": {"member"}}), http.StatusConflict)
	want(t, mia.post("/w/"+ws+"/members/"+olga.ID+"/remove", nil), http.StatusConflict) // nobody removes the owner
	wantRedirect(t, olga.post("/w/"+ws+"/members/"+adam.ID+"/role", url.Values{"role": {"owner"}}), "/w/"+ws+"?notice=saved")
	if m, _ := ts.d.store.Member(ctx, ws, olga.ID); m.Role != store.RoleAdmin {
		t.Fatalf("Olga after handing over: %+v", m)
	}

	// Leaving takes one's videos home.
	wantRedirect(t, mia.post("/videos/"+v.ID+"/move", url.Values{"to": {ws}}), "/library?notice=moved")
	wantRedirect(t, mia.post("/w/"+ws+"/members/"+mia.ID+"/remove", nil), "/workspaces?notice=left")
	if sv, _ := ts.d.store.Video(ctx, v.ID); sv.WorkspaceID != "" {
		t.Fatalf("video stayed after its owner left: %+v", sv)
	}
	want(t, mia.get("/w/"+ws), http.StatusNotFound)

	// Only the (new) owner deletes the workspace; the logo goes with it.
	want(t, olga.post("/w/"+ws+"/delete", nil), http.StatusForbidden)
	wantRedirect(t, adam.post("/w/"+ws+"/delete", nil), "/workspaces?notice=deleted")
	if _, err := ts.d.blobs.Stat(ctx, w.LogoKey); err == nil {
		t.Error("the logo blob survived the workspace")
	}
}
