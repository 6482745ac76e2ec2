package daemon

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"framecast.dev/server/internal/config"
	"framecast.dev/server/internal/secrets"
	"framecast.dev/shared/api"
	"framecast.dev/shared/testenv"
)

// BenchmarkShareWrk loads a public share page and one of its segments
// with wrk on loopback, the way viewers arriving from a link do: the page
// (database lookup and template) and a 2 s segment (blob read and
// AES-GCM open). The server logs every request at info level, as in
// production (to a discarded writer: no terminal in the loop). Targets
// (docs/BENCHMARKS.md): ≥ 5,000 pages/s with p99 ≤ 20 ms on 2 cores.
// wrk must be installed (apt-get install wrk); it fails otherwise.
func BenchmarkShareWrk(b *testing.B) {
	wrk := testenv.Require(b, "wrk")
	ts := startBenchServer(b)

	rec := recordHLS(b, 4, 1280, 720)
	v := rec.upload(b, ts, "Benchmark: the quarterly product update")
	ts.waitJobs(b, v.ID, 2*time.Minute)
	seg := v.ShareURL + "/seg/0.m4s"

	// The baseline is a small static file served by the same process
	// through the same middleware (request id, access log, security
	// headers): what fiber costs with no work of ours. The page's ratio to
	// it is what our database lookup, privacy checks and template cost.
	var baseRPS float64
	var baseP99 time.Duration
	for _, target := range []struct{ name, url string }{
		{"baseline-static", ts.URL + "/static/share.css"},
		{"page", v.ShareURL},
		{"segment", seg},
	} {
		b.Run(target.name, func(b *testing.B) {
			rps, p99 := runWrk(b, wrk, target.url)
			b.ReportMetric(rps, "req/s")
			b.ReportMetric(p99.Seconds()*1000, "p99-ms")
			b.ReportMetric(0, "ns/op")
			switch target.name {
			case "baseline-static":
				baseRPS, baseP99 = rps, p99
				return
			case "segment":
				return // 1.4 MB opened per request: not comparable to a small file
			}
			b.ReportMetric(rps/baseRPS, "rps-vs-static")
			b.Logf("%s: %.0f req/s, p99 %v; static file: %.0f req/s, p99 %v; throughput ratio %.2f",
				target.name, rps, p99, baseRPS, baseP99, rps/baseRPS)
		})
	}
}

var (
	wrkRPS = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkP99 = regexp.MustCompile(`\n\s+99%\s+([0-9.]+)(us|ms|s)`)
	wrkErr = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)|Socket errors: .*`)
)

// runWrk runs wrk for 10 s with 2 threads and 32 connections and returns
// the requests per second and the 99th-percentile latency.
func runWrk(b *testing.B, wrk, url string) (float64, time.Duration) {
	b.Helper()
	out, err := exec.Command(wrk, "-t2", "-c32", "-d10s", "--latency", url).CombinedOutput()
	if err != nil {
		b.Fatalf("wrk: %v\n%s", err, out)
	}
	s := string(out)
	b.Logf("wrk %s\n%s", strings.TrimPrefix(url, "http://"), s)
	if m := wrkErr.FindString(s); m != "" {
		b.Fatalf("wrk saw errors: %s", m)
	}
	m := wrkRPS.FindStringSubmatch(s)
	p := wrkP99.FindStringSubmatch(s)
	if m == nil || p == nil {
		b.Fatalf("cannot read wrk's output:\n%s", s)
	}
	rps, _ := strconv.ParseFloat(m[1], 64)
	v, _ := strconv.ParseFloat(p[1], 64)
	unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[p[2]]
	return rps, time.Duration(v * float64(unit))
}

// startBenchServer starts the real server in the benchmark's process as
// production runs it (SQLite, disk blobs, every request logged at info
// level, to a discarded writer so no terminal is in the loop) and stops it
// when the benchmark ends.
func startBenchServer(b *testing.B) *testServer {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "data")
	cfg, err := config.Load([]string{"-data-dir", dir, "-log-level", "info"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	cfg.Listen, cfg.BaseURL = ln.Addr().String(), "http://"+ln.Addr().String()
	cfg.DeviceToken, cfg.DeviceTokenUser = secrets.NewToken(), placeholderOwner
	// FRAMECAST_BENCH_LOG=file keeps the server's log (debug level) for
	// looking into a run: the import logs when it is probed, playable and
	// ready.
	var logw io.Writer = io.Discard
	level := slog.LevelInfo
	if p := os.Getenv("FRAMECAST_BENCH_LOG"); p != "" {
		level = slog.LevelDebug
		f, err := os.Create(p)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { f.Close() })
		logw = f
	}
	d, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: level})))
	if err != nil {
		b.Fatal(err)
	}
	go d.Serve(ln)
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		d.Shutdown(ctx)
	})
	return &testServer{URL: cfg.BaseURL, DataDir: dir, Token: d.DeviceToken(), d: d, client: api.NewClient(cfg.BaseURL, d.DeviceToken())}
}
