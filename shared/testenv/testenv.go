// Package testenv starts the real dependencies that tests need (Xvfb,
// PulseAudio, ...) and fails a test loudly when one is missing. It never
// skips: `make setup` installs everything, so a missing tool is a defect of
// the machine or of the setup script, and CI must see it.
//
// The Start* functions do the same for programs that are not tests (the
// recording benchmark): they return an error instead of failing a test, and
// the caller stops what it started.
package testenv

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Require returns the absolute path of an executable, or fails the test.
func Require(t testing.TB, name string) string {
	t.Helper()
	p, err := lookPath(name)
	if err != nil {
		t.Fatalf("%v (CI=%q)", err, os.Getenv("CI"))
	}
	return p
}

func lookPath(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s is required but was not found in PATH; run `make setup`", name)
	}
	return p, nil
}

// InCI reports whether the tests run under CI (CI=true).
func InCI() bool { return os.Getenv("CI") == "true" }

// Display is a running Xvfb server.
type Display struct {
	Name   string // e.g. ":99"
	Width  int
	Height int
	cmd    *exec.Cmd
}

// Env returns the environment variable that points X clients at this display.
func (d *Display) Env() string { return "DISPLAY=" + d.Name }

// Stop ends the server. Tests need not call it: Xvfb registers it as cleanup.
func (d *Display) Stop() { stop(d.cmd) }

// Xvfb starts a virtual X server of the given size (24-bit) and stops it when
// the test ends. The display number is chosen by Xvfb itself (-displayfd), so
// parallel tests never collide.
func Xvfb(t testing.TB, width, height int) *Display {
	t.Helper()
	d, err := StartXvfb(width, height)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Stop)
	return d
}

// StartXvfb starts a virtual X server like Xvfb does, for programs that are
// not tests. The caller must call Stop.
func StartXvfb(width, height int) (*Display, error) {
	bin, err := lookPath("Xvfb")
	if err != nil {
		return nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("xvfb: pipe: %w", err)
	}
	defer r.Close()
	cmd := exec.Command(bin, "-displayfd", "3", "-screen", "0",
		fmt.Sprintf("%dx%dx24", width, height), "-nolisten", "tcp", "-ac", "-noreset", "+extension", "MIT-SHM")
	cmd.ExtraFiles = []*os.File{w}
	var stderr LockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, fmt.Errorf("xvfb: start: %w", err)
	}
	w.Close()

	num := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		num <- strings.TrimSpace(line)
	}()
	select {
	case n := <-num:
		if n == "" {
			stop(cmd)
			return nil, fmt.Errorf("xvfb exited before announcing its display: %s", stderr.String())
		}
		return &Display{Name: ":" + n, Width: width, Height: height, cmd: cmd}, nil
	case <-time.After(15 * time.Second):
		stop(cmd)
		return nil, fmt.Errorf("xvfb did not start within 15s: %s", stderr.String())
	}
}

// Pulse is a running PulseAudio server with one null sink.
type Pulse struct {
	Server  string // value for PULSE_SERVER
	Sink    string // the null sink's name: play into it
	Monitor string // the sink's monitor source: record from it
	dir     string
	cmd     *exec.Cmd
	keepers []*exec.Cmd
}

// Env returns the variables that point PulseAudio clients at this server.
func (p *Pulse) Env() []string {
	return []string{"PULSE_SERVER=" + p.Server, "PULSE_RUNTIME_PATH=" + p.dir, "PULSE_STATE_PATH=" + p.dir}
}

// Stop ends the server and removes its runtime folder. Tests need not call
// it: PulseAudio registers it as cleanup.
func (p *Pulse) Stop() {
	for _, k := range p.keepers {
		stop(k)
	}
	stop(p.cmd)
	os.RemoveAll(p.dir)
}

// PulseAudio starts a private PulseAudio daemon in the foreground with a null
// sink (so "system audio" can be recorded from its monitor) and stops it when
// the test ends. It works as root and without a session bus.
func PulseAudio(t testing.TB) *Pulse {
	t.Helper()
	p, err := StartPulseAudio()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return p
}

// StartPulseAudio starts a private PulseAudio daemon like PulseAudio does,
// for programs that are not tests. The caller must call Stop.
func StartPulseAudio() (*Pulse, error) {
	bin, err := lookPath("pulseaudio")
	if err != nil {
		return nil, err
	}
	if _, err := lookPath("pactl"); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "fc-pulse-")
	if err != nil {
		return nil, fmt.Errorf("pulse: temp dir: %w", err)
	}
	sock := filepath.Join(dir, "native")
	p := &Pulse{Server: "unix:" + sock, Sink: "framecast_test", Monitor: "framecast_test.monitor", dir: dir}

	cmd := exec.Command(bin, "--daemonize=no", "--exit-idle-time=-1", "--system=false", "-n",
		"--disable-shm=true", "--log-target=stderr",
		"--load=module-native-protocol-unix socket="+sock+" auth-anonymous=1",
		"--load=module-null-sink sink_name="+p.Sink+" rate=48000 channels=2",
		"--load=module-always-sink")
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_RUNTIME_DIR="+dir, "XDG_CONFIG_HOME="+dir,
		"PULSE_RUNTIME_PATH="+dir, "PULSE_STATE_PATH="+dir)
	var stderr LockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pulse: start: %w", err)
	}
	p.cmd = cmd

	deadline := time.Now().Add(15 * time.Second)
	for {
		_, err := p.Pactl("info")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			p.Stop()
			return nil, fmt.Errorf("pulseaudio did not answer within 15s: %v\n%s", err, tail(stderr.String(), 2000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Make the null sink the default so "default device" means it.
	if _, err := p.Pactl("set-default-sink", p.Sink); err != nil {
		p.Stop()
		return nil, fmt.Errorf("pulse: %w", err)
	}
	if err := p.keepLowLatency(p.Monitor); err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
}

// keepLowLatency keeps a 10 ms reader on a null sink's monitor for the
// server's lifetime. Left alone, a null sink renders up to 2 s ahead in
// bursts, and a recorder that connects later hears nothing until the next
// burst; a sound card runs at a steady, short latency, and this makes the
// null sink do the same.
func (p *Pulse) keepLowLatency(monitor string) error {
	cmd := exec.Command("parec", "--device="+monitor, "--latency-msec=10", "--raw", "--format=s16le", "--rate=48000", "--channels=2")
	cmd.Env = append(os.Environ(), p.Env()...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pulse: start parec on %s: %w", monitor, err)
	}
	p.keepers = append(p.keepers, cmd)
	// The sink is in its steady state once the reader hears from it (the
	// first time takes up to the 2 s burst the sink was rendering).
	first := make(chan error, 1)
	go func() {
		b := make([]byte, 1)
		_, err := io.ReadFull(out, b)
		first <- err
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case err := <-first:
		if err != nil {
			return fmt.Errorf("pulse: parec on %s: %w", monitor, err)
		}
		return nil
	case <-time.After(5 * time.Second):
		return fmt.Errorf("pulse: %s delivered nothing within 5s", monitor)
	}
}

// Pactl runs pactl against this server and returns its output.
func (p *Pulse) Pactl(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "pactl", args...)
	cmd.Env = append(os.Environ(), p.Env()...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("pactl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// Microphone adds a stand-in microphone: a second null sink whose monitor
// (source) records whatever is played into sink (`paplay --device=SINK`).
// Tests pass the source's id explicitly. It keeps real-time pace, unlike
// module-sine-source (with 100 ms periods it hands out a burst, then
// stalls) or a remapped source (it does not pass the recorder's latency
// request on, so the null sink renders in 2-second bursts).
func (p *Pulse) Microphone(t testing.TB, name string) (source, sink string) {
	t.Helper()
	source, sink, err := p.AddMicrophone(name)
	if err != nil {
		t.Fatal(err)
	}
	return source, sink
}

// AddMicrophone is Microphone for programs that are not tests (and for
// TestMain).
func (p *Pulse) AddMicrophone(name string) (source, sink string, err error) {
	sink = name
	if _, err := p.Pactl("load-module", "module-null-sink", "sink_name="+sink, "rate=48000", "channels=2"); err != nil {
		return "", "", err
	}
	// Loading a sink may make it the default; "default" must stay the
	// null sink the tests play system audio into.
	if _, err := p.Pactl("set-default-sink", p.Sink); err != nil {
		return "", "", err
	}
	if err := p.keepLowLatency(sink + ".monitor"); err != nil {
		return "", "", err
	}
	return sink + ".monitor", sink, nil
}

func stop(cmd *exec.Cmd) {
	if cmd == nil || cmd.Process == nil {
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

// LockedBuffer collects a child's stderr while other goroutines may read it.
// LockedBuffer collects a child process's output while the test reads it.
type LockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// PulseForPackage is what a test package's TestMain needs to share one
// PulseAudio server among its tests: the server, a stand-in microphone
// named micName (play into sink to be heard on source), and this process's
// environment pointed at it. The caller stops it after m.Run.
func PulseForPackage(micName string) (p *Pulse, source, sink string, err error) {
	if p, err = StartPulseAudio(); err != nil {
		return nil, "", "", err
	}
	if source, sink, err = p.AddMicrophone(micName); err != nil {
		p.Stop()
		return nil, "", "", err
	}
	for _, kv := range p.Env() {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
	return p, source, sink, nil
}
