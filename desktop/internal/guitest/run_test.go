//go:build linux

package guitest

import (
	"bufio"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"framecast.dev/shared/testenv"
)

// TestMakeRunStartsServerAndWindow runs scripts/run.sh, the script behind
// `make run`, as a user would: the server answers /healthz and /readyz, the
// window opens on the display, and Ctrl-C stops both.
func TestMakeRunStartsServerAndWindow(t *testing.T) {
	testenv.Require(t, "curl")
	testenv.Require(t, "xdotool")
	d := testenv.Xvfb(t, 1280, 800)
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	addr := testenv.FreeAddr(t)
	dataDir := t.TempDir()

	cmd := exec.Command("bash", filepath.Join(root, "scripts", "run.sh"))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), d.Env(),
		"FRAMECAST_BIN_DIR="+binDir,
		"FRAMECAST_LISTEN="+addr,
		"FRAMECAST_BASE_URL=",
		"FRAMECAST_DATA_DIR="+dataDir,
		"FRAMECAST_CONFIG_DIR="+t.TempDir(),
		"NO_AT_BRIDGE=1",
	)
	// Its own process group, so the test can send Ctrl-C to all of it, as a
	// terminal does.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("start run.sh: %v", err)
	}
	var log strings.Builder
	ready := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if strings.HasPrefix(sc.Text(), "Framecast desktop app started") {
				close(ready)
			}
		}
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if t.Failed() {
			t.Logf("run.sh output:\n%s", log.String())
		}
	})

	select {
	case <-ready:
	case <-done:
		t.Fatalf("run.sh ended before starting the app")
	case <-time.After(90 * time.Second):
		t.Fatalf("run.sh did not report both parts started within 90s")
	}

	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d, want 200", path, resp.StatusCode)
		}
	}

	window := func() string {
		c := exec.Command("xdotool", "search", "--onlyvisible", "--name", "^Framecast$")
		c.Env = append(os.Environ(), d.Env())
		b, _ := c.Output()
		return strings.TrimSpace(string(b))
	}
	waitFor(t, 60*time.Second, "the Framecast window to open", func() bool { return window() != "" })

	// Ctrl-C: SIGINT to the whole group, as the terminal would.
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { <-done; exited <- cmd.Wait() }()
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("run.sh did not stop within 30s of Ctrl-C")
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Fatalf("the server still answers after Ctrl-C")
	}
	waitFor(t, 10*time.Second, "the window to close", func() bool { return window() == "" })
}

func waitFor(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
