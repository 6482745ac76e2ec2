package daemon

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"framecast.dev/server/internal/config"
	"framecast.dev/server/internal/secrets"
	"framecast.dev/shared/api"
)

// testServer is a real daemon on a loopback port with its own data dir.
type testServer struct {
	URL     string
	DataDir string
	Token   string
	d       *Daemon
	logs    *syncBuffer
	client  *api.Client
	stop    func() // shuts the daemon down, once
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs a server; edit may change the configuration first. It
// enables the placeholder device token (acting for owner@example.com), so
// tests of the sync API need no sign-in; the account tests sign in for
// real.
func start(t testing.TB, edit ...func(*config.Config)) *testServer {
	t.Helper()
	return startWith(t, nil, edit...)
}

// startWith is start with daemon options (a clock).
func startWith(t testing.TB, opts []Option, edit ...func(*config.Config)) *testServer {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	cfg, err := config.Load([]string{"-data-dir", dir, "-log-level", "debug"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listen = ln.Addr().String()
	cfg.BaseURL = "http://" + ln.Addr().String()
	cfg.DeviceToken, cfg.DeviceTokenUser = secrets.NewToken(), placeholderOwner
	for _, e := range edit {
		e(cfg)
	}
	if cfg.Listen != ln.Addr().String() { // an edit chose the address
		ln.Close()
		if ln, err = net.Listen("tcp", cfg.Listen); err != nil {
			t.Fatal(err)
		}
	}
	logs := &syncBuffer{}
	d, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), opts...)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Serve(ln) }()
	stop := sync.OnceFunc(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := d.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		<-done
	})
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	ts := &testServer{URL: cfg.BaseURL, DataDir: dir, Token: d.DeviceToken(), d: d, logs: logs, stop: stop}
	ts.client = api.NewClient(ts.URL, ts.Token)
	return ts
}

// placeholderOwner is the account the tests' placeholder token acts for.
const placeholderOwner = "owner@example.com"

// do sends a request; auth adds the device token.
func (ts *testServer) do(t *testing.T, method, path string, body io.Reader, auth bool, headers ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if auth {
		req.Header.Set("Authorization", "Bearer "+ts.Token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func wantStatus(t *testing.T, resp *http.Response, want int) string {
	t.Helper()
	body := readAll(t, resp)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d; body: %s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, want, body)
	}
	return body
}

func wantErrorCode(t *testing.T, resp *http.Response, status int, code string) {
	t.Helper()
	body := wantStatus(t, resp, status)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("error content type %q, want JSON", ct)
	}
	if !strings.Contains(body, `"code":"`+code+`"`) || !strings.HasPrefix(body, `{"error":{`) {
		t.Fatalf("error body %s, want code %q", body, code)
	}
}

func TestMain(m *testing.M) {
	os.Exit(m.Run())
}
