package sync_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"framecast.dev/desktop/internal/cli"
	"framecast.dev/desktop/internal/keystore"
	"framecast.dev/desktop/internal/queue"
	"framecast.dev/shared/api"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := cli.Run(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

// framecast queue shows what waits, framecast sync uploads it and prints
// the link, and framecast device-token stores the token.
func TestQueueAndSyncCommands(t *testing.T) {
	srv := startServer(t, "")
	config := t.TempDir()
	t.Setenv("FRAMECAST_CONFIG_DIR", config)
	t.Setenv("FRAMECAST_SERVER_URL", srv.URL)
	t.Setenv("FRAMECAST_DEVICE_TOKEN", "")

	// The queue as the app keeps it: <config>/queue, keys in <config>.
	keys, err := keystore.Open(config)
	if err != nil {
		t.Fatal(err)
	}
	q, err := queue.Open(filepath.Join(config, "queue"), keys)
	if err != nil {
		t.Fatal(err)
	}
	d := &desk{dir: config, plain: t.TempDir(), keys: keys, q: q}
	r := d.create(t, "From the CLI")
	d.add(t, r.ID, api.InitSegment, 800)
	for i := range api.SegmentIndex(3) {
		d.add(t, r.ID, i, 120_000)
	}
	d.finish(t, r.ID)
	q.Close()

	code, out, errOut := runCLI(t, "queue")
	t.Logf("framecast queue:\n%s", out)
	if code != 0 || !strings.Contains(out, "From the CLI") || !strings.Contains(out, "0/4") || !strings.Contains(out, "not on the server yet") {
		t.Fatalf("framecast queue: %d\n%s%s", code, out, errOut)
	}
	code, _, errOut = runCLI(t, "sync")
	if code != 1 || !strings.Contains(errOut, "framecast device-token") {
		t.Fatalf("framecast sync without a token: %d %s", code, errOut)
	}
	code, _, errOut = runCLI(t, "device-token", testToken)
	if code != 2 || !strings.Contains(errOut, "standard input") {
		t.Fatalf("device-token with the token as an argument: %d %s", code, errOut)
	}
	stdin := os.Stdin
	r2, w2, _ := os.Pipe()
	w2.WriteString(testToken + "\n")
	w2.Close()
	os.Stdin = r2
	code, out, errOut = runCLI(t, "device-token")
	os.Stdin = stdin
	if code != 0 || strings.Contains(out+errOut, testToken) {
		t.Fatalf("device-token: %d %q %q", code, out, errOut)
	}
	raw, _ := os.ReadFile(filepath.Join(config, "settings.json"))
	if !strings.Contains(string(raw), testToken) {
		t.Fatal("the token was not saved")
	}

	code, out, errOut = runCLI(t, "sync")
	t.Logf("framecast sync:\n%s%s", out, errOut)
	if code != 0 || !strings.Contains(out, "“From the CLI” is ready: "+srv.URL+"/v/") {
		t.Fatalf("framecast sync: %d\n%s%s", code, out, errOut)
	}
	url := strings.TrimSpace(out[strings.Index(out, srv.URL):])
	if pl := get(t, url+"/playlist.m3u8"); strings.Count(pl, "#EXTINF") != 3 {
		t.Fatalf("playlist after framecast sync:\n%s", pl)
	}
	code, out, _ = runCLI(t, "queue")
	if code != 0 || !strings.Contains(out, "Nothing is waiting") {
		t.Fatalf("framecast queue after sync: %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "queue", "--all", "--json")
	var list []struct {
		ID, Title, State string
		Segments         int
		Uploaded         int
		Bytes            int64
		UploadedBytes    int64 `json:"uploadedBytes"`
		OnServer         bool  `json:"onServer"`
	}
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list) != 1 {
		t.Fatalf("framecast queue --all --json: %d %v\n%s", code, err, out)
	}
	if l := list[0]; l.State != "uploaded" || l.Segments != 4 || l.Uploaded != 4 || l.Bytes == 0 || l.Bytes != l.UploadedBytes || !l.OnServer {
		t.Fatalf("queue --json entry %+v", l)
	}
}
