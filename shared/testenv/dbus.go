package testenv

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// SessionBus starts a private DBus session bus (a real dbus-daemon) and
// stops it when the test ends. It returns the bus address for
// DBUS_SESSION_BUS_ADDRESS.
func SessionBus(t testing.TB) string {
	t.Helper()
	bin := Require(t, "dbus-daemon")
	dir := t.TempDir()
	addr := "unix:path=" + filepath.Join(dir, "bus")
	cmd := exec.Command(bin, "--config-file=/usr/share/dbus-1/session.conf", "--nofork", "--nopidfile",
		"--address="+addr, "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("dbus: %v", err)
	}
	var stderr LockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("dbus: start dbus-daemon: %v", err)
	}
	t.Cleanup(func() { stop(cmd) })
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(out).ReadString('\n')
		line <- strings.TrimSpace(l)
	}()
	select {
	case l := <-line:
		if l == "" {
			t.Fatalf("dbus-daemon exited before printing its address: %s", stderr.String())
		}
		return l
	case <-time.After(10 * time.Second):
		t.Fatalf("dbus-daemon did not start within 10s: %s", stderr.String())
	}
	return ""
}

// DBusSend runs dbus-send on the given session bus and returns its output.
func DBusSend(t testing.TB, bus string, args ...string) string {
	t.Helper()
	cmd := exec.Command(Require(t, "dbus-send"), append([]string{"--session", "--print-reply"}, args...)...)
	cmd.Env = append(os.Environ(), "DBUS_SESSION_BUS_ADDRESS="+bus)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("dbus-send %v: %v\n%s", args, err, b)
	}
	return string(b)
}
