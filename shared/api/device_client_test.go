package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestWaitForDeviceToken: the client polls at the interval, without its
// token, until the server hands out one; a denial ends the wait.
func TestWaitForDeviceToken(t *testing.T) {
	var polls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != RouteDeviceToken || r.Header.Get("Authorization") != "" {
			t.Errorf("%s %s with Authorization %q", r.Method, r.URL.Path, r.Header.Get("Authorization"))
		}
		var in DeviceTokenRequest
		json.NewDecoder(r.Body).Decode(&in)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case in.DeviceCode == "deny":
			w.WriteHeader(http.StatusForbidden)
			json.NewEncoder(w).Encode(ErrorResponse{Error: Error{Code: CodeAccessDenied, Message: "denied"}})
		case polls.Add(1) == 1:
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(ErrorResponse{Error: Error{Code: CodeAuthorizationPending, Message: "wait"}})
		default:
			json.NewEncoder(w).Encode(DeviceToken{AccessToken: "fcd_x", TokenType: "Bearer", User: User{ID: "u"}})
		}
	}))
	defer srv.Close()
	c := NewClient(srv.URL, "an-old-token")
	start := time.Now()
	tok, err := c.WaitForDeviceToken(context.Background(), DeviceAuthorization{DeviceCode: "dc", Interval: 1})
	if err != nil || tok.AccessToken != "fcd_x" || polls.Load() != 2 {
		t.Fatalf("token %+v, %v after %d polls", tok, err, polls.Load())
	}
	if d := time.Since(start); d < 2*time.Second {
		t.Fatalf("two polls in %v: the interval was not kept", d)
	}
	if _, err := c.WaitForDeviceToken(context.Background(), DeviceAuthorization{DeviceCode: "deny", Interval: 1}); !IsCode(err, CodeAccessDenied) {
		t.Fatalf("denied: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.WaitForDeviceToken(ctx, DeviceAuthorization{DeviceCode: "dc", Interval: 1}); err != context.Canceled {
		t.Fatalf("cancelled: %v", err)
	}
}
