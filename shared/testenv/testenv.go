// Package testenv starts the real dependencies that tests need (Xvfb,
// PulseAudio, ...) and fails a test loudly when one is missing. It never
// skips: `make setup` installs everything, so a missing tool is a defect of
// the machine or of the setup script, and CI must see it.
package testenv

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Require returns the absolute path of an executable, or fails the test.
func Require(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is required by this test but was not found in PATH; run `make setup` (CI=%q)", name, os.Getenv("CI"))
	}
	return p
}

// InCI reports whether the tests run under CI (CI=true).
func InCI() bool { return os.Getenv("CI") == "true" }

// Display is a running Xvfb server.
type Display struct {
	Name   string // e.g. ":99"
	Width  int
	Height int
}

// Env returns the environment variable that points X clients at this display.
func (d *Display) Env() string { return "DISPLAY=" + d.Name }

// Xvfb starts a virtual X server of the given size (24-bit) and stops it when
// the test ends. The display number is chosen by Xvfb itself (-displayfd), so
// parallel tests never collide.
func Xvfb(t testing.TB, width, height int) *Display {
	t.Helper()
	bin := Require(t, "Xvfb")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatalf("xvfb: pipe: %v", err)
	}
	defer r.Close()
	cmd := exec.Command(bin, "-displayfd", "3", "-screen", "0",
		fmt.Sprintf("%dx%dx24", width, height), "-nolisten", "tcp", "-ac", "+extension", "MIT-SHM")
	cmd.ExtraFiles = []*os.File{w}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		w.Close()
		t.Fatalf("xvfb: start: %v", err)
	}
	w.Close()
	t.Cleanup(func() { stop(cmd) })

	num := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		num <- strings.TrimSpace(line)
	}()
	select {
	case n := <-num:
		if n == "" {
			t.Fatalf("xvfb exited before announcing its display: %s", stderr.String())
		}
		return &Display{Name: ":" + n, Width: width, Height: height}
	case <-time.After(15 * time.Second):
		t.Fatalf("xvfb did not start within 15s: %s", stderr.String())
	}
	return nil
}

// Pulse is a running PulseAudio server with one null sink.
type Pulse struct {
	Server  string // value for PULSE_SERVER
	Sink    string // the null sink's name: play into it
	Monitor string // the sink's monitor source: record from it
	dir     string
}

// Env returns the variables that point PulseAudio clients at this server.
func (p *Pulse) Env() []string {
	return []string{"PULSE_SERVER=" + p.Server, "PULSE_RUNTIME_PATH=" + p.dir, "PULSE_STATE_PATH=" + p.dir}
}

// PulseAudio starts a private PulseAudio daemon in the foreground with a null
// sink (so "system audio" can be recorded from its monitor) and stops it when
// the test ends. It works as root and without a session bus.
func PulseAudio(t testing.TB) *Pulse {
	t.Helper()
	bin := Require(t, "pulseaudio")
	pactl := Require(t, "pactl")
	dir, err := os.MkdirTemp("", "fc-pulse-")
	if err != nil {
		t.Fatalf("pulse: temp dir: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "native")
	p := &Pulse{Server: "unix:" + sock, Sink: "framecast_test", Monitor: "framecast_test.monitor", dir: dir}

	cmd := exec.Command(bin, "--daemonize=no", "--exit-idle-time=-1", "--system=false", "-n",
		"--disable-shm=true", "--log-target=stderr",
		"--load=module-native-protocol-unix socket="+sock+" auth-anonymous=1",
		"--load=module-null-sink sink_name="+p.Sink+" rate=48000 channels=2",
		"--load=module-always-sink")
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_RUNTIME_DIR="+dir, "XDG_CONFIG_HOME="+dir,
		"PULSE_RUNTIME_PATH="+dir, "PULSE_STATE_PATH="+dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("pulse: start: %v", err)
	}
	t.Cleanup(func() { stop(cmd) })

	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		check := exec.CommandContext(ctx, pactl, "info")
		check.Env = append(os.Environ(), p.Env()...)
		err := check.Run()
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pulseaudio did not answer within 15s: %v\n%s", err, tail(stderr.String(), 2000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Make the null sink the default so "default device" means it.
	set := exec.Command(pactl, "set-default-sink", p.Sink)
	set.Env = append(os.Environ(), p.Env()...)
	if out, err := set.CombinedOutput(); err != nil {
		t.Fatalf("pulse: set-default-sink: %v: %s", err, out)
	}
	return p
}

func stop(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
