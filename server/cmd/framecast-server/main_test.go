package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// bin is the framecast-server binary, built once for all tests here.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "framecast-server-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "framecast-server")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build framecast-server: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestPrintConfigRedactsAndFlagsWin(t *testing.T) {
	data := t.TempDir()
	token := "tok-" + strings.Repeat("s", 40)
	kek := strings.Repeat("ab", 32)
	cmd := exec.Command(bin, "-print-config", "-listen", "127.0.0.1:9999", "-data-dir", data)
	cmd.Env = append(os.Environ(),
		"FRAMECAST_LISTEN=0.0.0.0:1", "FRAMECAST_LOG_FORMAT=json",
		"FRAMECAST_DEVICE_TOKEN="+token, "FRAMECAST_KEK="+kek)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	s := string(out)
	for _, want := range []string{
		"FRAMECAST_LISTEN=127.0.0.1:9999\t# flag",
		"FRAMECAST_LOG_FORMAT=json\t# env",
		"FRAMECAST_LOG_LEVEL=info\t# default",
		"FRAMECAST_DATA_DIR=" + data + "\t# flag",
		"FRAMECAST_DATABASE_URL=sqlite:" + filepath.Join(data, "framecast.db"),
		"FRAMECAST_BLOB_URL=file://" + filepath.Join(data, "blobs"),
		"FRAMECAST_DEVICE_TOKEN=<redacted>\t# env",
		"FRAMECAST_KEK=<redacted>\t# env",
	} {
		if !strings.Contains(s, want+"\n") && !strings.Contains(s, want+"\t") {
			t.Errorf("-print-config lacks %q", want)
		}
	}
	if strings.Contains(s, token) || strings.Contains(s, kek) {
		t.Errorf("-print-config shows a secret:\n%s", s)
	}
	if entries, _ := os.ReadDir(data); len(entries) != 0 {
		t.Errorf("-print-config wrote to the data dir: %v", entries)
	}
	if t.Failed() {
		t.Log(s)
	}
}

func TestBadConfigFails(t *testing.T) {
	cmd := exec.Command(bin, "-log-level", "loud")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), "want debug, info, warn or error") {
		t.Fatalf("exit %v, output %s", err, out)
	}
}

// placeholderToken is the configured placeholder device token the
// process tests upload with (desktop sign-in is tested in daemon).
const placeholderToken = "main-test-placeholder-token-0123456789"

// server is a framecast-server process.
type server struct {
	cmd    *exec.Cmd
	addr   string
	data   string
	stderr *bytes.Buffer
	exited chan error
}

// startServer starts framecast-server with its own data dir; env adds
// environment variables (KEY=value).
func startServer(t *testing.T, env ...string) *server {
	t.Helper()
	data := filepath.Join(t.TempDir(), "data")
	cmd := exec.Command(bin, "-listen", "127.0.0.1:0", "-data-dir", data, "-shutdown-timeout", "10s")
	cmd.Env = append(append(os.Environ(), "FRAMECAST_DEVICE_TOKEN="+placeholderToken), env...)
	pr, pw := io.Pipe()
	s := &server{cmd: cmd, data: data, stderr: &bytes.Buffer{}, exited: make(chan error, 1)}
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	go func() { s.exited <- cmd.Wait(); pw.Close() }()

	addrRe := regexp.MustCompile(`msg="framecast-server listening" addr=(\S+)`)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			s.stderr.WriteString(line + "\n")
			if m := addrRe.FindStringSubmatch(line); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case s.addr = <-found:
	case <-time.After(20 * time.Second):
		t.Fatalf("server did not start:\n%s", s.stderr.String())
	}
	return s
}

func TestGracefulShutdown(t *testing.T) {
	s := startServer(t)
	token := placeholderToken
	kekFile := filepath.Join(s.data, "kek")
	if fi, err := os.Stat(kekFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key-encryption key file: %v %v", fi, err)
	}
	if _, err := os.Stat(filepath.Join(s.data, "device-token")); err == nil {
		t.Error("a device token file was generated; tokens come from desktop sign-in now")
	}

	resp, err := http.Get("http://" + s.addr + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("readyz: %v %v", resp, err)
	}
	resp.Body.Close()

	// An upload in flight: headers and half the body sent, then SIGTERM.
	conn, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"title":"sent slowly across a shutdown"}`
	fmt.Fprintf(conn, "POST /api/v1/videos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		token, len(body), body[:10])
	time.Sleep(200 * time.Millisecond)
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	select {
	case err := <-s.exited:
		t.Fatalf("server exited with a request in flight: %v\n%s", err, s.stderr.String())
	default:
	}
	// New connections are refused while draining.
	if c, err := net.DialTimeout("tcp", s.addr, time.Second); err == nil {
		c.Close()
		t.Error("server still accepts connections after SIGTERM")
	}
	if _, err := io.WriteString(conn, body[10:]); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	r, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight request lost: %v\n%s", err, s.stderr.String())
	}
	got, _ := io.ReadAll(r.Body)
	if r.StatusCode != http.StatusCreated || !strings.Contains(string(got), "sent slowly") {
		t.Fatalf("in-flight request: %d %s", r.StatusCode, got)
	}

	select {
	case err := <-s.exited:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, s.stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("server did not exit after SIGTERM:\n%s", s.stderr.String())
	}
	logs := s.stderr.String()
	if !strings.Contains(logs, "msg=stopped") {
		t.Errorf("no clean stop in the log:\n%s", logs)
	}
	if strings.Contains(logs, token) {
		t.Error("the device token reached the log")
	}
	if !strings.Contains(logs, kekFile) {
		t.Error("the log does not say where the generated key-encryption key is")
	}
}
