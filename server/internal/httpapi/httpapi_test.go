package httpapi

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"framecast.dev/server/internal/account"
	"framecast.dev/server/internal/blob"
	"framecast.dev/server/internal/jobs"
	"framecast.dev/server/internal/mail"
	"framecast.dev/server/internal/media"
	"framecast.dev/server/internal/store"
	"framecast.dev/shared/seal"
)

// newTestServer is a Server on real SQLite and disk, listening on loopback;
// extra lets a test add routes first.
func newTestServer(t *testing.T, extra func(a *fiber.App)) (string, *bytes.Buffer) {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(context.Background(), "sqlite:"+filepath.Join(dir, "f.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	blobs, err := blob.NewDisk(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	m, err := media.New(media.Config{Store: st, Blobs: blobs, KEK: seal.NewKey(), SpoolDir: filepath.Join(dir, "spool"),
		BaseURL: "http://x", MaxSegmentBytes: 1 << 20, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	accounts, err := account.New(account.Config{Store: st, Blobs: blobs, Videos: m, BaseURL: "https://x", Log: log,
		Jobs: jobs.New(jobs.Config{Store: st, Log: log}), KEK: seal.NewKey(),
		Mailer: &mail.Outbox{Dir: filepath.Join(dir, "outbox"), From: "noreply@x.example", Log: log}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Deps{Log: log, Store: st, Media: m, Accounts: accounts, DataDir: dir, BaseURL: "https://x",
		MaxBodyBytes: 1024, MaxSegmentBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if extra != nil {
		extra(s.app)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	return "http://" + ln.Addr().String(), &logs
}

func TestPanicsAreRecovered(t *testing.T) {
	url, logs := newTestServer(t, func(a *fiber.App) {
		a.Get("/boom", func(*fiber.Ctx) error { panic("kaboom /tmp/secret/path") })
		a.Get("/api/boom", func(*fiber.Ctx) error { panic("kaboom") })
	})
	for path, ct := range map[string]string{"/boom": "text/html", "/api/boom": "application/json"} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 500 || !strings.HasPrefix(resp.Header.Get("Content-Type"), ct) ||
			strings.Contains(string(body), "kaboom") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("GET %s: %d %s %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	if !strings.Contains(logs.String(), "panic in handler") || !strings.Contains(logs.String(), "kaboom") {
		t.Fatalf("panic not logged:\n%s", logs.String())
	}
	// Still serving.
	resp, err := http.Get(url + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("after panics: %v %v", resp, err)
	}
	// https base URL: HSTS on.
	if resp.Header.Get("Strict-Transport-Security") == "" {
		t.Fatal("no HSTS for an https base URL")
	}
}

// TestHostCookies: with an https base URL the cookies carry the __Host-
// prefix and Secure (the daemon tests run on http://127.0.0.1, without).
func TestHostCookies(t *testing.T) {
	url, _ := newTestServer(t, nil)
	resp, err := http.Get(url + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var found bool
	for _, c := range resp.Header.Values("Set-Cookie") {
		if !strings.HasPrefix(c, "__Host-fc_csrf=") {
			continue
		}
		found = true
		low := strings.ToLower(c)
		for _, attr := range []string{"; secure", "; httponly", "; samesite=lax", "; path=/"} {
			if !strings.Contains(low, attr) {
				t.Errorf("cookie lacks %s: %s", attr, c)
			}
		}
		if strings.Contains(low, "domain=") {
			t.Errorf("__Host- cookie with a Domain: %s", c)
		}
	}
	if !found || resp.StatusCode != 200 || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Fatalf("status %d, cookies %v, HSTS %q", resp.StatusCode, resp.Header.Values("Set-Cookie"), resp.Header.Get("Strict-Transport-Security"))
	}
}
