package daemon

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"framecast.dev/shared/api"
	"framecast.dev/shared/seal"
)

func apiCreate(title string) api.CreateVideoRequest {
	return api.CreateVideoRequest{Title: title, RecordingID: seal.NewRecordingID().String()}
}

// signInDevice runs the device flow for p with the clock moved past each
// poll interval, and returns a client holding the device token.
func signInDevice(t *testing.T, ts *testServer, clk *clock, p *person, name string) (*api.Client, api.DeviceToken) {
	t.Helper()
	ctx := context.Background()
	app := api.NewClient(ts.URL, "")
	auth, err := app.StartDeviceSignIn(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.PollDeviceToken(ctx, auth.DeviceCode); !api.IsCode(err, api.CodeAuthorizationPending) {
		t.Fatalf("first poll: %v", err)
	}
	page := p.get(strings.TrimPrefix(auth.VerificationURIComplete, ts.URL))
	want(t, page, http.StatusOK, name, auth.UserCode)
	wantRedirect(t, p.post("/device", url.Values{"code": {auth.UserCode}, "decision": {"approve"}}), "/devices?notice=device-approved")
	clk.Add(time.Duration(auth.Interval) * time.Second)
	tok, err := app.PollDeviceToken(ctx, auth.DeviceCode)
	if err != nil {
		t.Fatalf("poll after approval: %v", err)
	}
	app.Token = tok.AccessToken
	return app, tok
}

func TestDeviceSignIn(t *testing.T) {
	clk := newClock()
	ts, smtp := startAccounts(t, clk)
	ada := signUp(t, ts, smtp, "Ada", "ada@example.com")
	bob := signUp(t, ts, smtp, "Bob", "bob@example.com")
	ctx := context.Background()

	app := api.NewClient(ts.URL, "")
	auth, err := app.StartDeviceSignIn(ctx, "Framecast on ada-laptop")
	if err != nil {
		t.Fatal(err)
	}
	if len(auth.UserCode) != 9 || auth.UserCode[4] != '-' || auth.Interval != 5 || auth.ExpiresIn != 600 ||
		auth.VerificationURI != ts.URL+"/device" || auth.VerificationURIComplete != ts.URL+"/device?code="+auth.UserCode {
		t.Fatalf("authorization %+v", auth)
	}
	if _, err := app.PollDeviceToken(ctx, auth.DeviceCode); !api.IsCode(err, api.CodeAuthorizationPending) {
		t.Fatalf("poll before approval: %v", err)
	}
	// Polling again at once is too fast.
	if _, err := app.PollDeviceToken(ctx, auth.DeviceCode); !api.IsCode(err, api.CodeSlowDown) {
		t.Fatalf("fast poll: %v", err)
	}

	// The verification page needs a signed-in user; it comes back after.
	anon := newBrowser(t, ts.URL)
	wantRedirect(t, anon.get("/device?code="+auth.UserCode), "/signin?next=%2Fdevice%3Fcode%3D")
	// A code typed in lower case without the dash is found.
	typed := strings.ToLower(strings.ReplaceAll(auth.UserCode, "-", ""))
	want(t, ada.get("/device?code="+typed), http.StatusOK, "Framecast on ada-laptop", auth.UserCode, "Approve")
	want(t, ada.get("/device?code=BBBB-BBBB"), http.StatusNotFound, "No sign-in is waiting")
	want(t, ada.get("/device?code=12345"), http.StatusBadRequest)
	wantRedirect(t, ada.post("/device", url.Values{"code": {typed}, "decision": {"approve"}}), "/devices?notice=device-approved")
	// Decided once only.
	want(t, bob.post("/device", url.Values{"code": {auth.UserCode}, "decision": {"approve"}}), http.StatusNotFound)

	clk.Add(15 * time.Second) // the interval grew to 10 s with slow_down
	tok, err := app.PollDeviceToken(ctx, auth.DeviceCode)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.AccessToken, "fcd_") || tok.TokenType != "Bearer" || tok.User.Email != "ada@example.com" ||
		tok.Device.Name != "Framecast on ada-laptop" {
		t.Fatalf("token %+v", tok)
	}
	clk.Add(time.Minute)
	if _, err := app.PollDeviceToken(ctx, auth.DeviceCode); !api.IsCode(err, api.CodeExpiredToken) {
		t.Fatalf("second redemption: %v", err)
	}
	if strings.Contains(ts.logs.String(), tok.AccessToken) || strings.Contains(ts.logs.String(), auth.DeviceCode) {
		t.Fatal("a token reached the log")
	}

	// The token is Ada's: her videos, and nobody else's.
	app.Token = tok.AccessToken
	me, err := app.Me(ctx)
	if err != nil || me.User.ID != ada.ID || me.Device.ID != tok.Device.ID {
		t.Fatalf("me = %+v, %v", me, err)
	}
	v, created, err := app.CreateVideo(ctx, apiCreate("Ada's demo"))
	if err != nil || !created {
		t.Fatal(err)
	}
	again, created, err := app.CreateVideo(ctx, api.CreateVideoRequest{Title: "retry", RecordingID: v.RecordingID})
	if err != nil || created || again.ID != v.ID {
		t.Fatalf("retried create: %+v %v %v", again, created, err)
	}
	sv, _ := ts.d.store.Video(ctx, v.ID)
	if sv.OwnerID != ada.ID || sv.WorkspaceID != "" {
		t.Fatalf("video owner %q library %q", sv.OwnerID, sv.WorkspaceID)
	}
	bobApp, _ := signInDevice(t, ts, clk, bob, "Bob desktop")
	if _, err := bobApp.Video(ctx, v.ID); !api.IsCode(err, api.CodeNotFound) {
		t.Fatalf("Bob reads Ada's video: %v", err)
	}
	if _, _, err := bobApp.CreateVideo(ctx, api.CreateVideoRequest{RecordingID: v.RecordingID}); !api.IsCode(err, api.CodeRecordingTaken) {
		t.Fatalf("Bob creates with Ada's recording id: %v", err)
	}
	if _, err := bobApp.Finalize(ctx, v.ID, api.FinalizeRequest{}); !api.IsCode(err, api.CodeNotFound) {
		t.Fatalf("Bob finalizes Ada's video: %v", err)
	}

	// The devices page lists the app; revoking it stops the token at once.
	want(t, ada.get("/devices"), http.StatusOK, "Framecast on ada-laptop")
	want(t, bob.post("/devices/"+tok.Device.ID+"/revoke", nil), http.StatusNotFound)
	wantRedirect(t, ada.post("/devices/"+tok.Device.ID+"/revoke", nil), "/devices?notice=device-revoked")
	if _, err := app.Video(ctx, v.ID); !api.IsCode(err, api.CodeUnauthorized) {
		t.Fatalf("revoked token: %v", err)
	}

	// An app signs itself out.
	if err := bobApp.SignOutDevice(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := bobApp.Me(ctx); !api.IsCode(err, api.CodeUnauthorized) {
		t.Fatalf("after sign-out: %v", err)
	}
	// The placeholder token cannot sign itself out.
	if err := ts.client.SignOutDevice(ctx); !api.IsCode(err, api.CodeConflict) {
		t.Fatalf("placeholder sign-out: %v", err)
	}
}

func TestDeviceSignInDeniedAndExpired(t *testing.T) {
	clk := newClock()
	ts, smtp := startAccounts(t, clk)
	ada := signUp(t, ts, smtp, "Ada", "ada@example.com")
	ctx := context.Background()
	app := api.NewClient(ts.URL, "")

	auth, err := app.StartDeviceSignIn(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	want(t, ada.get("/device?code="+auth.UserCode), http.StatusOK, "Framecast desktop")
	wantRedirect(t, ada.post("/device", url.Values{"code": {auth.UserCode}, "decision": {"deny"}}), "/devices?notice=device-denied")
	if _, err := app.PollDeviceToken(ctx, auth.DeviceCode); !api.IsCode(err, api.CodeAccessDenied) {
		t.Fatalf("denied: %v", err)
	}

	auth, err = app.StartDeviceSignIn(ctx, "late")
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(11 * time.Minute)
	want(t, ada.get("/device?code="+auth.UserCode), http.StatusNotFound)
	if _, err := app.PollDeviceToken(ctx, auth.DeviceCode); !api.IsCode(err, api.CodeExpiredToken) {
		t.Fatalf("expired: %v", err)
	}
	for _, bad := range []string{"", "x", strings.Repeat("a", 500), "../../etc/passwd", "' OR 1=1 --"} {
		if _, err := app.PollDeviceToken(ctx, bad); !api.IsCode(err, api.CodeExpiredToken) {
			t.Fatalf("poll with %q: %v", bad, err)
		}
	}
	if _, err := app.StartDeviceSignIn(ctx, strings.Repeat("n", 101)); !api.IsCode(err, api.CodeBadRequest) {
		t.Fatalf("long name: %v", err)
	}
	// Guessing codes is limited per user.
	var last answer
	for i := range 25 {
		last = ada.get("/device?code=BBBB-BBB" + string("BCDFGHJKLMNPQRSTVWXZ"[i%20]))
	}
	want(t, last, http.StatusTooManyRequests)
}

// TestSyncWithDeviceToken runs the upload flow with a real device token.
func TestSyncWithDeviceToken(t *testing.T) {
	clk := newClock()
	ts, smtp := startAccounts(t, clk)
	ada := signUp(t, ts, smtp, "Ada", "ada@example.com")
	app, _ := signInDevice(t, ts, clk, ada, "laptop")
	ts.client = app
	ts.Token = app.Token
	r := newRecording(t, ts, 1000, 2000)
	for i := range r.seal {
		if _, err := app.PutSegment(context.Background(), r.video.ID, i, sum(r.seal[i]), int64(len(r.seal[i])), strings.NewReader(string(r.seal[i]))); err != nil {
			t.Fatal(err)
		}
	}
	v, err := app.Finalize(context.Background(), r.video.ID, api.FinalizeRequest{SegmentCount: 2, Init: true, SegmentDurations: []float64{2, 2}, DataKey: r.key[:]})
	if err != nil || v.State != api.StateReady {
		t.Fatalf("finalize: %+v %v", v, err)
	}
	want(t, ada.get("/library"), http.StatusOK, "Test &lt;b&gt;video&lt;/b&gt;", v.ShareURL)
}

// newRecordingWith is newRecording through another client (device token).
func newRecordingWith(t *testing.T, c *api.Client, sizes ...int) *recording {
	t.Helper()
	return newRecording(t, &testServer{client: c}, sizes...)
}
