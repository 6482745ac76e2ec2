package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func run(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, _ := run(args...)
		if code != 0 || !strings.HasPrefix(out, "framecast ") {
			t.Fatalf("%v: code %d, out %q", args, code, out)
		}
	}
}

func TestHelpListsCommands(t *testing.T) {
	code, out, _ := run("--help")
	if code != 0 || !strings.Contains(out, "version") || !strings.Contains(out, "Usage:") {
		t.Fatalf("code %d, out %q", code, out)
	}
}

func TestUnknownCommandFails(t *testing.T) {
	code, _, errOut := run("frobnicate")
	if code != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Fatalf("code %d, stderr %q", code, errOut)
	}
}
