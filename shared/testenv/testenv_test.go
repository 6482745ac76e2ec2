package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestXvfbAnswers(t *testing.T) {
	d := Xvfb(t, 640, 480)
	xdpyinfo := Require(t, "xdpyinfo")
	cmd := exec.Command(xdpyinfo)
	cmd.Env = append(os.Environ(), d.Env())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("xdpyinfo on %s: %v\n%s", d.Name, err, out)
	}
	if !strings.Contains(string(out), "640x480 pixels") {
		t.Fatalf("display %s is not 640x480:\n%s", d.Name, out)
	}
}

func TestPulseHasNullSink(t *testing.T) {
	p := PulseAudio(t)
	cmd := exec.Command(Require(t, "pactl"), "list", "short", "sources")
	cmd.Env = append(os.Environ(), p.Env()...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("pactl: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), p.Monitor) {
		t.Fatalf("monitor source %s missing:\n%s", p.Monitor, out)
	}
}

func TestMicrophoneIsListed(t *testing.T) {
	p := PulseAudio(t)
	name, _ := p.Microphone(t, "fakemic")
	out, err := p.Pactl("list", "short", "sources")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, name) {
		t.Fatalf("source %s missing:\n%s", name, out)
	}
}
