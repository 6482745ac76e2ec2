package daemon

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"framecast.dev/server/internal/config"
	"framecast.dev/shared/api"
)

func TestHealthz(t *testing.T) {
	ts := start(t)
	body := wantStatus(t, ts.do(t, "GET", "/healthz", nil, false), 200)
	if !strings.Contains(body, `"ok"`) {
		t.Fatalf("healthz body %s", body)
	}
}

func TestReadyz(t *testing.T) {
	ts := start(t)
	body := wantStatus(t, ts.do(t, "GET", "/readyz", nil, false), 200)
	if !strings.Contains(body, `"ready"`) {
		t.Fatalf("readyz body %s", body)
	}

	// Tests run as root, so permissions do not stop writes: put a regular
	// file where the data dir was.
	if err := os.RemoveAll(ts.DataDir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ts.DataDir, []byte("not a dir"), 0o600); err != nil {
		t.Fatal(err)
	}
	resp := ts.do(t, "GET", "/readyz", nil, false)
	body = wantStatus(t, resp, http.StatusServiceUnavailable)
	var got struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("readyz body %s: %v", body, err)
	}
	if got.Status != "unavailable" || got.Checks["data_dir"] != "not writable" {
		t.Fatalf("readyz = %+v", got)
	}
	if strings.Contains(body, ts.DataDir) {
		t.Fatalf("readyz leaks the data dir path: %s", body)
	}
	if err := os.Remove(ts.DataDir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(ts.DataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, ts.do(t, "GET", "/readyz", nil, false), 200)
}

func TestReadyzDatabaseDown(t *testing.T) {
	ts := start(t)
	wantStatus(t, ts.do(t, "GET", "/readyz", nil, false), 200)
	ts.d.store.Close()
	body := wantStatus(t, ts.do(t, "GET", "/readyz", nil, false), http.StatusServiceUnavailable)
	if !strings.Contains(body, `"database":"not answering"`) {
		t.Fatalf("readyz body %s", body)
	}
}

// /metrics is off without a token, and answers only with it: it tells
// how busy the server is.
func TestMetricsNeedTheirToken(t *testing.T) {
	off := start(t)
	wantStatus(t, off.do(t, "GET", "/metrics", nil, false), 404)
	wantStatus(t, off.do(t, "GET", "/metrics", nil, false, "Authorization", "Bearer "), 404)
	const token = "scrape-token-0123456789"
	on := start(t, func(c *config.Config) { c.MetricsToken = token })
	for _, h := range []string{"", "Bearer wrong-token-0123456789", "Basic " + token, token} {
		resp := on.do(t, "GET", "/metrics", nil, false, "Authorization", h)
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("Authorization %q: %d (WWW-Authenticate %q), want 401 asking for the token", h, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
		resp.Body.Close()
	}
	if body := wantStatus(t, on.do(t, "GET", "/metrics", nil, false, "Authorization", "Bearer "+token), 200); !strings.Contains(body, "go_goroutines") {
		t.Errorf("/metrics with its token:\n%s", body)
	}
}

func TestMetrics(t *testing.T) {
	const token = "scrape-token-0123456789"
	ts := start(t, func(c *config.Config) { c.MetricsToken = token })
	wantStatus(t, ts.do(t, "GET", "/healthz", nil, false), 200)
	wantStatus(t, ts.do(t, "GET", api.VideoPath("aaaaaaaaaaaaaaaaaaaaaaaaaa"), nil, true), 404)
	wantStatus(t, ts.do(t, "GET", "/no/such/page", nil, false), 404)
	body := wantStatus(t, ts.do(t, "GET", "/metrics", nil, false, "Authorization", "Bearer "+token), 200)
	for _, want := range []string{
		`framecast_http_requests_total{method="GET",route="/healthz",status="200"} 1`,
		`framecast_http_requests_total{method="GET",route="/api/v1/videos/:id",status="404"} 1`,
		`framecast_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`framecast_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="0.005"}`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, "aaaaaaaaaaaaaaaaaaaaaaaaaa") || strings.Contains(body, "/no/such/page") {
		t.Error("/metrics has raw paths as labels")
	}
	if t.Failed() {
		t.Log(body)
	}
}

func TestSecurityHeaders(t *testing.T) {
	ts := start(t)
	for _, tc := range []struct {
		path   string
		status int
	}{{"/healthz", 200}, {"/nope", 404}, {api.VideoPath("aaaaaaaaaaaaaaaaaaaaaaaaaa"), 401}, {"/static/page.css", 200}, {"/signin", 200}} {
		resp := ts.do(t, "GET", tc.path, nil, false)
		wantStatus(t, resp, tc.status)
		h := resp.Header
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s: CSP %q", tc.path, csp)
		}
		for name, want := range map[string]string{
			"X-Content-Type-Options": "nosniff",
			"Referrer-Policy":        "no-referrer",
			"X-Frame-Options":        "DENY",
		} {
			if got := h.Get(name); got != want {
				t.Errorf("%s: %s = %q, want %q", tc.path, name, got, want)
			}
		}
		if !strings.Contains(h.Get("Permissions-Policy"), "camera=()") {
			t.Errorf("%s: Permissions-Policy %q", tc.path, h.Get("Permissions-Policy"))
		}
		if h.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS sent for an http:// base URL", tc.path)
		}
	}
}

func TestBodyLimits(t *testing.T) {
	ts := start(t)
	big := bytes.Repeat([]byte("x"), 2<<20)
	// Declared too large: refused before authentication and before reading.
	wantErrorCode(t, ts.do(t, "POST", api.RouteVideos, bytes.NewReader(big), false), 413, api.CodeBodyTooLarge)
	// Undeclared (chunked) and too large: refused while reading.
	wantErrorCode(t, ts.do(t, "POST", api.RouteVideos, io.MultiReader(bytes.NewReader(big)), true), 413, api.CodeBodyTooLarge)
	// Non-API pages get the limit too, as HTML.
	resp := ts.do(t, "POST", "/healthz", bytes.NewReader(big), false)
	wantStatus(t, resp, 413)
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
	}
	// The server is fine afterwards.
	wantStatus(t, ts.do(t, "GET", "/healthz", nil, false), 200)
}

func TestErrorShapes(t *testing.T) {
	ts := start(t)
	wantErrorCode(t, ts.do(t, "GET", "/api/v1/nope", nil, true), 404, api.CodeNotFound)
	wantErrorCode(t, ts.do(t, "GET", "/api/nope", nil, false), 404, api.CodeNotFound)
	resp := ts.do(t, "GET", "/nope/../x", nil, false)
	body := wantStatus(t, resp, 404)
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, "<h1>Not Found</h1>") {
		t.Fatalf("404 page: %s %s", resp.Header.Get("Content-Type"), body)
	}
	wantErrorCode(t, ts.do(t, "DELETE", api.RouteVideos, nil, true), 405, api.CodeMethodNotAllowed)
}

func TestAuth(t *testing.T) {
	ts := start(t)
	body := `{"title":"x"}`
	resp := ts.do(t, "POST", api.RouteVideos, strings.NewReader(body), false)
	if resp.Header.Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}
	wantErrorCode(t, resp, 401, api.CodeUnauthorized)
	wantErrorCode(t, ts.do(t, "POST", api.RouteVideos, strings.NewReader(body), false,
		"Authorization", "Bearer "+ts.Token+"x"), 401, api.CodeUnauthorized)
	wantErrorCode(t, ts.do(t, "POST", api.RouteVideos, strings.NewReader(body), false,
		"Authorization", "Basic "+ts.Token), 401, api.CodeUnauthorized)
	wantErrorCode(t, ts.do(t, "GET", api.VideoPath("aaaaaaaaaaaaaaaaaaaaaaaaaa"), nil, false), 401, api.CodeUnauthorized)
	wantStatus(t, ts.do(t, "POST", api.RouteVideos, strings.NewReader(body), false,
		"Authorization", "bearer "+ts.Token), 201)
	if strings.Contains(ts.logs.String(), ts.Token) {
		t.Fatal("the device token appears in the log")
	}
}

func TestRequestID(t *testing.T) {
	ts := start(t)
	resp := ts.do(t, "GET", "/healthz", nil, false, api.HeaderRequestID, "abc-123-def-456")
	wantStatus(t, resp, 200)
	if got := resp.Header.Get(api.HeaderRequestID); got != "abc-123-def-456" {
		t.Fatalf("request id %q, want the one sent", got)
	}
	resp = ts.do(t, "GET", "/healthz", nil, false, api.HeaderRequestID, "bad id\"with quotes")
	wantStatus(t, resp, 200)
	got := resp.Header.Get(api.HeaderRequestID)
	if len(got) != 32 {
		t.Fatalf("malformed request id not replaced: %q", got)
	}
	if !strings.Contains(ts.logs.String(), "request_id="+got) {
		t.Fatal("access log lacks the request id")
	}
}

func TestSharePathsNotLogged(t *testing.T) {
	ts := start(t)
	wantStatus(t, ts.do(t, "GET", "/v/abcdefghijklmnopqrstuvwxyz234567", nil, false), 404)
	if strings.Contains(ts.logs.String(), "abcdefghijklmnopqrstuvwxyz234567") {
		t.Fatal("a share slug reached the log")
	}
}
