package studio_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"framecast.dev/desktop/internal/studio"
	"framecast.dev/shared/testenv"
)

var serverBin string

const testToken = "studio-test-device-token-0123456789"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "framecast-studio-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if serverBin, err = testenv.BuildServer(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// startServer runs framecast-server on a free port until the test ends.
func startServer(t *testing.T) string {
	t.Helper()
	return startServerIn(t, "", "")
}

// startServerAt runs framecast-server at addr (host:port) until the test
// ends.
func startServerAt(t *testing.T, addr string) string {
	t.Helper()
	return startServerIn(t, addr, "")
}

// startServerIn runs framecast-server at addr with its data in dataDir
// (where, with no SMTP server set, its mail-outbox folder receives mail).
func startServerIn(t *testing.T, addr, dataDir string) string {
	t.Helper()
	return testenv.StartServer(t, testenv.ServerConfig{Bin: serverBin, Addr: addr, DataDir: dataDir, Token: testToken}).URL
}

// env gives the test a display, a sound server and a config folder that
// points at serverURL with the device token.
func env(t *testing.T, serverURL string) string {
	t.Helper()
	testenv.Exclusive(t, "recording") // see recorder's tests
	d := testenv.Xvfb(t, 640, 360)
	p := testenv.PulseAudio(t)
	t.Setenv("DISPLAY", d.Name)
	for _, kv := range p.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Setenv("FRAMECAST_SERVER_URL", serverURL)
	t.Setenv("FRAMECAST_DEVICE_TOKEN", testToken)
	dir := t.TempDir()
	t.Setenv("FRAMECAST_CONFIG_DIR", dir)
	return dir
}

type events struct {
	mu  stdsync.Mutex
	all []studio.Event
}

func (e *events) add(ev studio.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, ev)
}

func (e *events) states() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.all {
		if ev.Kind == studio.KindState {
			out = append(out, ev.State)
		}
	}
	return out
}

func (e *events) count(kind string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, ev := range e.all {
		if ev.Kind == kind {
			n++
		}
	}
	return n
}

func open(t *testing.T, dir string, evs *events) *studio.Studio {
	t.Helper()
	s, err := studio.Open(studio.Config{Dir: dir, OutDir: t.TempDir(), OnEvent: evs.add})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func record(t *testing.T, s *studio.Studio, d time.Duration) (studio.Outcome, time.Time) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Start(ctx, studio.Options{FPS: 15, SystemAudio: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx, studio.Options{}); err == nil {
		t.Fatal("a second Start while recording was accepted")
	}
	time.Sleep(d)
	out, err := s.Stop(ctx)
	if err != nil {
		t.Fatalf("Stop: %v", err)
	}
	return out, time.Now()
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Record 4 s, stop: Stop returns the link within a second or so, and its
// playlist plays every segment; the library shows it uploaded.
func TestRecordStopGivesAPlayableLink(t *testing.T) {
	url := startServer(t)
	dir := env(t, url)
	evs := &events{}
	s := open(t, dir, evs)

	ctx := context.Background()
	if err := s.Start(ctx, studio.Options{FPS: 15, SystemAudio: true}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	if paused, err := s.TogglePause(); err != nil || !paused {
		t.Fatalf("TogglePause: %v, %v", paused, err)
	}
	time.Sleep(300 * time.Millisecond)
	if err := s.Resume(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	pressed := time.Now()
	out, err := s.Stop(ctx)
	took := time.Since(pressed)
	if err != nil {
		t.Fatalf("Stop: %v", err)
	}
	t.Logf("Stop → %+v in %v", out, took)
	if out.Offline || !strings.HasPrefix(out.ShareURL, url+"/v/") {
		t.Fatalf("Stop gave no link: %+v", out)
	}
	code, pl := get(t, out.ShareURL+"/playlist.m3u8")
	playable := time.Since(pressed)
	if code != 200 || !strings.Contains(pl, "#EXTINF") {
		t.Fatalf("playlist %d:\n%s", code, pl)
	}
	// The promise is ~1 s; the recorder's own stop (ffmpeg's last
	// segment) is part of it. Leave room for a loaded test machine.
	if playable > 3*time.Second {
		t.Fatalf("playable %v after Stop; the promise is about a second", playable)
	}
	t.Logf("playable %v after Stop", playable)

	recs, err := s.Recordings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].State != studio.LibUploaded || recs[0].ShareURL != out.ShareURL ||
		!strings.HasPrefix(recs[0].Title, "Recording ") || recs[0].Seconds < 3 {
		t.Fatalf("library: %+v", recs)
	}
	// The recorder finishes the MP4 after the link; then the studio is idle.
	deadline := time.Now().Add(10 * time.Second)
	for s.Recording() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if s.Recording() {
		t.Fatal("still recording 10 s after Stop")
	}
	states := strings.Join(evs.states(), ",")
	if !strings.Contains(states, "recording,paused,recording") || !strings.HasSuffix(states, "idle") {
		t.Fatalf("state events: %s", states)
	}
	if evs.count(studio.KindStats) == 0 || evs.count(studio.KindUpload) == 0 || evs.count(studio.KindLibrary) == 0 {
		t.Fatal("no stats, upload or library events")
	}
	// The local copy can go once uploaded.
	if !recs[0].LocalCopy {
		t.Fatal("no local copy listed")
	}
	if err := s.DeleteLocal(ctx, recs[0].ID); err != nil {
		t.Fatal(err)
	}
	recs, _ = s.Recordings(ctx)
	if recs[0].LocalCopy {
		t.Fatal("local copy still there after DeleteLocal")
	}
}

// With the server down, Stop says the recording is saved offline (without
// waiting the whole StopWait) and the library lists it as waiting; once
// the server is back, Retry uploads it.
func TestServerDownSavesOffline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there
	dir := env(t, dead)
	evs := &events{}
	s := open(t, dir, evs)

	out, stopped := record(t, s, 4*time.Second)
	_ = stopped
	if !out.Offline || out.ShareURL != "" || !strings.Contains(out.Message, "offline") {
		t.Fatalf("Stop with the server down: %+v", out)
	}
	recs, err := s.Recordings(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].State != studio.LibWaiting || recs[0].Segments < 2 {
		t.Fatalf("library: %+v", recs)
	}
	if err := s.DeleteLocal(context.Background(), recs[0].ID); err == nil {
		t.Fatal("DeleteLocal of a recording not uploaded yet was accepted")
	}
}

// Cancel throws the recording away: it is not uploaded, and the library
// says it was cancelled.
func TestCancel(t *testing.T) {
	url := startServer(t)
	dir := env(t, url)
	s := open(t, dir, &events{})
	if err := s.Start(context.Background(), studio.Options{FPS: 15, Mic: "none"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if err := s.Cancel(); err != nil {
		t.Fatal(err)
	}
	if s.Recording() {
		t.Fatal("still recording after Cancel")
	}
	recs, _ := s.Recordings(context.Background())
	if len(recs) != 1 || recs[0].State != studio.LibFailed || !strings.Contains(recs[0].Error, "Cancelled") {
		t.Fatalf("library: %+v", recs)
	}
	if err := s.Retry(context.Background(), recs[0].ID); err == nil {
		t.Fatal("Retry of a cancelled recording was accepted")
	}
}
