package testenv

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BuildServer builds framecast-server from this checkout into dir and
// returns its path, or returns $FRAMECAST_TEST_SERVER_BIN when that names
// a prebuilt one. Tests that talk to a real server call it from TestMain.
func BuildServer(dir string) (string, error) {
	if bin := os.Getenv("FRAMECAST_TEST_SERVER_BIN"); bin != "" {
		return bin, nil
	}
	bin := filepath.Join(dir, "framecast-server")
	out, err := exec.Command("go", "build", "-o", bin, "framecast.dev/server/cmd/framecast-server").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("build framecast-server: %v\n%s", err, out)
	}
	return bin, nil
}

// ServerConfig is how StartServer runs framecast-server.
type ServerConfig struct {
	Bin     string   // from BuildServer
	Addr    string   // host:port; empty: a free loopback port
	DataDir string   // empty: a fresh temporary folder
	Token   string   // FRAMECAST_DEVICE_TOKEN, the placeholder device token
	Env     []string // more settings, KEY=value
}

// Server is a framecast-server process on loopback with its own data
// folder (with no SMTP server set, its mail-outbox folder receives mail).
type Server struct {
	Addr string
	URL  string
	Dir  string
	Log  *LockedBuffer // the process's output

	t   testing.TB
	cfg ServerConfig
	cmd *exec.Cmd
}

// StartServer starts the server and waits until it is ready. It is killed
// when the test ends, and the end of its log printed if the test failed.
func StartServer(t testing.TB, cfg ServerConfig) *Server {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = FreeAddr(t)
	}
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	s := &Server{Addr: cfg.Addr, URL: "http://" + cfg.Addr, Dir: cfg.DataDir, Log: &LockedBuffer{}, t: t, cfg: cfg}
	s.Start()
	t.Cleanup(func() {
		s.Kill()
		if t.Failed() {
			t.Logf("server log:\n%s", Tail(s.Log.String(), 40))
		}
	})
	return s
}

// Start (re)starts the process on the same address and data folder and
// waits until /readyz answers.
func (s *Server) Start() {
	s.t.Helper()
	cmd := exec.Command(s.cfg.Bin)
	cmd.Env = append(os.Environ(),
		"FRAMECAST_LISTEN="+s.Addr, "FRAMECAST_DATA_DIR="+s.Dir, "FRAMECAST_DEVICE_TOKEN="+s.cfg.Token,
		"FRAMECAST_BASE_URL="+s.URL, "FRAMECAST_LOG_LEVEL=warn")
	cmd.Env = append(cmd.Env, s.cfg.Env...)
	cmd.Stdout, cmd.Stderr = s.Log, s.Log
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start framecast-server: %v", err)
	}
	s.cmd = cmd
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("framecast-server not ready after 20s: %v\n%s", err, Tail(s.Log.String(), 20))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Kill ends the process at once (SIGKILL), as a crash or power cut would.
func (s *Server) Kill() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
	s.cmd = nil
}

// FreeAddr is a loopback address with a port nothing listens on now.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Tail is the last n lines of s.
func Tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
