package studio_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"framecast.dev/desktop/internal/cli"
	"framecast.dev/desktop/internal/importer"
	"framecast.dev/desktop/internal/studio"
	"framecast.dev/shared/testenv"
)

// makeVideo runs ffmpeg to make a test file of secs seconds.
func makeVideo(t *testing.T, name string, secs int, codec ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), name)
	args := []string{"-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=" + strconv.Itoa(secs),
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=" + strconv.Itoa(secs)}
	args = append(args, codec...)
	args = append(args, "-shortest", "-y", out)
	if b, err := exec.Command(testenv.Require(t, "ffmpeg"), args...).CombinedOutput(); err != nil {
		t.Fatalf("make %s: %v\n%s", name, err, b)
	}
	return out
}

// importEnv points a config folder at serverURL with the device token; an
// import needs no display or sound server.
func importEnv(t *testing.T, serverURL string) string {
	t.Helper()
	t.Setenv("FRAMECAST_SERVER_URL", serverURL)
	t.Setenv("FRAMECAST_DEVICE_TOKEN", testToken)
	dir := t.TempDir()
	t.Setenv("FRAMECAST_CONFIG_DIR", dir)
	return dir
}

// played fetches the share link's playlist and every segment it lists the
// way a player does, joins them and asks ffprobe what they hold: the
// video's length and codecs as a viewer would get them.
func played(t *testing.T, shareURL string) (secs float64, codecs string) {
	t.Helper()
	code, pl := get(t, shareURL+"/playlist.m3u8")
	if code != 200 {
		t.Fatalf("playlist: %d %s", code, pl)
	}
	var all bytes.Buffer
	fetch := func(ref string) {
		u := ref
		if !strings.HasPrefix(ref, "http") {
			u = shareURL + "/" + strings.TrimPrefix(ref, "./")
			if strings.HasPrefix(ref, "/") {
				base := shareURL[:strings.Index(shareURL[len("http://"):], "/")+len("http://")]
				u = base + ref
			}
		}
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", u, resp.StatusCode)
		}
		io.Copy(&all, resp.Body)
	}
	for _, line := range strings.Split(pl, "\n") {
		line = strings.TrimSpace(line)
		if v, ok := strings.CutPrefix(line, "#EXT-X-MAP:URI=\""); ok {
			fetch(strings.TrimSuffix(v, "\""))
		} else if line != "" && !strings.HasPrefix(line, "#") {
			fetch(line)
		}
	}
	f := filepath.Join(t.TempDir(), "played.mp4")
	if err := os.WriteFile(f, all.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// Decoding it all (not only reading headers) proves every byte plays.
	cmd := exec.Command("ffprobe", "-v", "error", "-count_frames", "-show_entries", "stream=codec_name,nb_read_frames:format=duration", "-of", "default=nw=1", f)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe of what the share link plays: %v\n%s", err, b)
	}
	var names []string
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "codec_name="); ok {
			names = append(names, v)
		}
		if v, ok := strings.CutPrefix(l, "duration="); ok {
			secs, _ = strconv.ParseFloat(v, 64)
		}
	}
	return secs, strings.Join(names, ",")
}

// An H.264/AAC file imported while the server is down waits in the
// library; once the server is up it uploads by itself and its link plays
// the whole file.
func TestImportOfflineThenOnline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there yet
	dir := importEnv(t, "http://"+addr)
	evs := &events{}
	s := open(t, dir, evs)
	src := makeVideo(t, "talk.mp4", 7, "-c:v", "libx264", "-preset", "veryfast", "-g", "25", "-c:a", "aac")
	before, _ := os.ReadFile(src)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := s.Import(ctx, src, "")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := s.Recordings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Title != "talk" || recs[0].Kind != "import" || recs[0].State != studio.LibWaiting ||
		recs[0].Segments < 4 || recs[0].Seconds < 6.5 || recs[0].Seconds > 7.5 || !strings.HasPrefix(recs[0].Thumbnail, studio.ThumbnailPrefix+r.ID.String()+".jpg?v=") {
		t.Fatalf("library while offline: %+v", recs)
	}
	if f, ok := s.ThumbnailFile(r.ID.String()); !ok {
		t.Fatal("no thumbnail file for the import")
	} else if b, _ := os.ReadFile(f); len(b) < 100 || b[0] != 0xff || b[1] != 0xd8 {
		t.Fatalf("the thumbnail is not a JPEG (%d bytes)", len(b))
	}
	if after, _ := os.ReadFile(src); !bytes.Equal(before, after) {
		t.Fatal("the imported file was changed")
	}
	var phases []string
	evs.mu.Lock()
	for _, ev := range evs.all {
		if ev.Kind == studio.KindImport && (len(phases) == 0 || phases[len(phases)-1] != ev.Import.Phase) {
			phases = append(phases, ev.Import.Phase)
		}
	}
	evs.mu.Unlock()
	if got := strings.Join(phases, ","); got != "probing,segmenting,queueing,done" {
		t.Fatalf("import phases: %s", got)
	}

	url := startServerAt(t, addr)
	if err := s.Retry(ctx, r.ID.String()); err != nil { // as the library's Retry button does; it would come by itself later
		t.Fatal(err)
	}
	link, err := s.WaitUploaded(ctx, r.ID.String())
	if err != nil {
		t.Fatalf("the import did not upload once the server was up: %v", err)
	}
	if !strings.HasPrefix(link, url+"/v/") {
		t.Fatalf("link %q", link)
	}
	secs, codecs := played(t, link)
	if secs < 6.5 || secs > 7.5 || codecs != "h264,aac" {
		t.Fatalf("the link plays %.2f s of %s; want the whole 7 s of h264,aac", secs, codecs)
	}
}

// A VP9/Opus WebM is transcoded and plays; a text file named .mp4 and a
// sound file are refused with a message saying why, and nothing is queued.
func TestImportTranscodesAndRefuses(t *testing.T) {
	url := startServer(t)
	dir := importEnv(t, url)
	s := open(t, dir, &events{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	text := filepath.Join(t.TempDir(), "notes.mp4")
	if err := os.WriteFile(text, []byte("these are my meeting notes, not a video\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sound := filepath.Join(t.TempDir(), "voice.m4a")
	if b, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "sine=duration=2", "-c:a", "aac", "-y", sound).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, b)
	}
	// A recording cut off before its index was written (the camera's
	// battery died): MP4 puts the index at the end unless told otherwise.
	whole := makeVideo(t, "cut.mp4", 2, "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac")
	b, _ := os.ReadFile(whole)
	cut := filepath.Join(t.TempDir(), "cut.mp4")
	if err := os.WriteFile(cut, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{text: "notes.mp4 is not a video file", sound: "voice.m4a is a sound file with no picture",
		cut: "cut.mp4 is not a video file Framecast can read"} {
		_, err := s.Import(ctx, file, "")
		if !errors.Is(err, importer.ErrNotVideo) || !strings.Contains(err.Error(), want) {
			t.Fatalf("Import(%s) = %v; want a refusal saying %q", filepath.Base(file), err, want)
		}
	}
	if recs, _ := s.Recordings(ctx); len(recs) != 0 {
		t.Fatalf("a refused file reached the library: %+v", recs)
	}

	src := makeVideo(t, "clip.webm", 3, "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k", "-c:a", "libopus")
	r, err := s.Import(ctx, src, "anonymous")
	if err != nil {
		t.Fatal(err)
	}
	if r.Tracking != "anonymous" {
		t.Fatalf("tracking level not kept with the import: %+v", r)
	}
	link, err := s.WaitUploaded(ctx, r.ID.String())
	if err != nil {
		t.Fatal(err)
	}
	secs, codecs := played(t, link)
	if secs < 2.5 || secs > 3.5 || codecs != "h264,aac" {
		t.Fatalf("the link plays %.2f s of %s; want 3 s transcoded to h264,aac", secs, codecs)
	}
	// The server created the video with the level the import asked for:
	// the share page tells viewers so.
	if code, page := get(t, link); code != 200 || !strings.Contains(page, `class="tracking" data-level="anonymous"`) {
		t.Fatalf("share page %d does not show anonymous tracking:\n%s", code, page)
	}
}

// framecast import FILE prints the link once the video plays, and refuses
// a file that is not a video with the reason and exit status 1.
func TestImportCommand(t *testing.T) {
	url := startServer(t)
	importEnv(t, url)
	src := makeVideo(t, "demo.mov", 3, "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	if code := cli.Run(ctx, []string{"import", src}, &out, &errb); code != 0 {
		t.Fatalf("framecast import: %d\n%s%s", code, out.String(), errb.String())
	}
	link := strings.TrimSpace(out.String())
	if !strings.HasPrefix(link, url+"/v/") || !strings.Contains(errb.String(), "Queued “demo”") {
		t.Fatalf("framecast import printed %q / %q", link, errb.String())
	}
	if secs, codecs := played(t, link); secs < 2.5 || codecs != "h264,aac" {
		t.Fatalf("the link plays %.2f s of %s", secs, codecs)
	}

	bad := filepath.Join(t.TempDir(), "readme.mkv")
	os.WriteFile(bad, []byte("# not a video"), 0o644)
	out.Reset()
	errb.Reset()
	if code := cli.Run(ctx, []string{"import", bad}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "readme.mkv is not a video file") {
		t.Fatalf("framecast import of a text file: %d %q", code, errb.String())
	}
}

// With the app open (it holds the queue and uploads), `framecast import`
// in a terminal queues the file and says the app uploads it; the app does,
// without being told.
func TestImportWhileTheAppUploads(t *testing.T) {
	url := startServer(t)
	dir := importEnv(t, url)
	evs := &events{}
	app := open(t, dir, evs)
	src := makeVideo(t, "from terminal.mp4", 3, "-c:v", "libx264", "-preset", "veryfast", "-g", "25", "-c:a", "aac")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	if code := cli.Run(ctx, []string{"import", src}, &out, &errb); code != 0 || out.Len() != 0 ||
		!strings.Contains(errb.String(), "The Framecast app (or framecast sync) running now uploads it") {
		t.Fatalf("framecast import beside the app: %d %q %q", code, out.String(), errb.String())
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		recs, err := app.Recordings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 1 && recs[0].State == studio.LibUploaded && recs[0].ShareURL != "" {
			if secs, codecs := played(t, recs[0].ShareURL); secs < 2.5 || codecs != "h264,aac" {
				t.Fatalf("the link plays %.2f s of %s", secs, codecs)
			}
			return
		}
		if time.Now().After(deadline) {
			var states []string
			for _, r := range recs {
				states = append(states, r.Title+": "+r.State)
			}
			t.Fatalf("the app did not upload the terminal's import within 30 s: %v", states)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// An import stopped halfway (the app quitting) leaves nothing: no library
// entry, no work folder; a work folder a crash left is cleared at the
// next start.
func TestImportStoppedLeavesNothing(t *testing.T) {
	dir := importEnv(t, "http://127.0.0.1:1") // no server needed
	out := t.TempDir()
	stale := filepath.Join(out, "framecast-import-12345")
	if err := os.MkdirAll(stale, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(stale, "seg00001.m4s"), []byte("half a segment"), 0o644)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := studio.Open(studio.Config{Dir: dir, OutDir: out, OnEvent: func(ev studio.Event) {
		if ev.Kind == studio.KindImport && ev.Import.Phase == studio.ImportSegmenting {
			cancel() // as quitting does, while ffmpeg works
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("a crashed import's work folder is still there: %v", err)
	}
	src := makeVideo(t, "long.avi", 40, "-c:v", "mpeg4", "-q:v", "5", "-c:a", "mp3")
	if _, err := s.Import(ctx, src, ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("Import stopped halfway = %v, want context.Canceled", err)
	}
	if left, _ := filepath.Glob(filepath.Join(out, "framecast-import-*")); len(left) != 0 {
		t.Fatalf("work folders left: %v", left)
	}
	if recs, _ := s.Recordings(context.Background()); len(recs) != 0 {
		t.Fatalf("a stopped import reached the library: %+v", recs)
	}
}
