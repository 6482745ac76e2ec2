package studio_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	stdsync "sync"
	"testing"

	"framecast.dev/desktop/internal/studio"
	"framecast.dev/shared/api"
)

// fakeAuth answers the device sign-in routes: pending once, then approved
// (or denied).
func fakeAuth(t *testing.T, deny bool) *httptest.Server {
	var mu stdsync.Mutex
	polls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case api.RouteDeviceCode:
			json.NewEncoder(w).Encode(api.DeviceAuthorization{DeviceCode: "dev-secret", UserCode: "ABCD-EFGH",
				VerificationURI: "http://x/device", VerificationURIComplete: "http://x/device?code=ABCD-EFGH", ExpiresIn: 60, Interval: 1})
		case api.RouteDeviceToken:
			mu.Lock()
			polls++
			n := polls
			mu.Unlock()
			switch {
			case n == 1:
				w.WriteHeader(400)
				json.NewEncoder(w).Encode(api.ErrorResponse{Error: api.Error{Code: api.CodeAuthorizationPending, Message: "pending"}})
			case deny:
				w.WriteHeader(403)
				json.NewEncoder(w).Encode(api.ErrorResponse{Error: api.Error{Code: api.CodeAccessDenied, Message: "denied"}})
			default:
				json.NewEncoder(w).Encode(api.DeviceToken{AccessToken: "signed-in-token-0123456789abcdef", TokenType: "Bearer",
					User: api.User{Name: "Ada"}})
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// Signing in shows the code, then saves the token the browser approved.
func TestSignInSavesTheToken(t *testing.T) {
	srv := fakeAuth(t, false)
	dir := t.TempDir()
	t.Setenv("FRAMECAST_CONFIG_DIR", dir)
	t.Setenv("FRAMECAST_SERVER_URL", srv.URL)
	t.Setenv("FRAMECAST_DEVICE_TOKEN", "")
	s, err := studio.Open(studio.Config{Dir: dir, OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var shown studio.SignInCode
	who, err := s.SignIn(context.Background(), "Framecast test", func(c studio.SignInCode) { shown = c })
	if err != nil {
		t.Fatal(err)
	}
	if who != "Ada" || shown.UserCode != "ABCD-EFGH" || !strings.HasSuffix(shown.URL, "?code=ABCD-EFGH") {
		t.Fatalf("who %q, shown %+v", who, shown)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "settings.json"))
	if !strings.Contains(string(b), "signed-in-token-0123456789abcdef") {
		t.Fatalf("token not saved: %s", b)
	}
}

func TestSignInDenied(t *testing.T) {
	srv := fakeAuth(t, true)
	dir := t.TempDir()
	t.Setenv("FRAMECAST_CONFIG_DIR", dir)
	t.Setenv("FRAMECAST_SERVER_URL", srv.URL)
	t.Setenv("FRAMECAST_DEVICE_TOKEN", "")
	s, err := studio.Open(studio.Config{Dir: dir, OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.SignIn(context.Background(), "Framecast test", func(studio.SignInCode) {})
	if err == nil || !strings.Contains(err.Error(), "denied") {
		t.Fatalf("SignIn after a denial: %v", err)
	}
}
