package cli

import (
	"strings"
	"testing"
	"time"

	"framecast.dev/desktop/internal/recorder"
)

func TestStatusLine(t *testing.T) {
	var b strings.Builder
	u := &recordUI{stderr: &b, tty: true}
	u.print(recorder.Level{Mic: -12, System: -90, Stats: recorder.Stats{
		Elapsed: 83 * time.Second, FPS: 29.97, Dropped: 3, State: recorder.Recording}})
	line := b.String()
	for _, want := range []string{"REC 01:23", "30.0 fps", "3 dropped", "mic [||||||  ]", "system [        ]"} {
		if !strings.Contains(line, want) {
			t.Errorf("status line %q lacks %q", line, want)
		}
	}
	b.Reset()
	u.print(recorder.Level{Stats: recorder.Stats{State: recorder.Paused}})
	if !strings.Contains(b.String(), "PAUSED") {
		t.Errorf("paused status line %q", b.String())
	}
	b.Reset()
	u.print(recorder.Warning{Message: "careful"})
	if got := b.String(); !strings.HasPrefix(got, "\r\033[K") || !strings.Contains(got, "warning: careful\n") {
		t.Errorf("a warning does not clear the status line first: %q", got)
	}
	// Dropped frames: the CLI names its own remedies.
	b.Reset()
	u.print(recorder.Warning{Message: "Frames are being dropped.", Slow: true})
	if got := b.String(); !strings.Contains(got, "--fps") || !strings.Contains(got, "--max-height") {
		t.Errorf("the slow-machine warning does not name the flags: %q", got)
	}
}

func TestParseRegion(t *testing.T) {
	if r, err := parseRegion("10, 20,300,200"); err != nil || r.Min.X != 10 || r.Dy() != 200 {
		t.Fatalf("%v %v", r, err)
	}
	for _, bad := range []string{"1,2,3", "a,b,c,d", "0,0,8,8"} {
		if _, err := parseRegion(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
