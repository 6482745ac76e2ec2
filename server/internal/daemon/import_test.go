package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"framecast.dev/server/internal/account"
	"framecast.dev/server/internal/config"
	"framecast.dev/server/internal/media"
	"framecast.dev/server/internal/store"
	"framecast.dev/server/internal/store/storetest"
	"framecast.dev/shared/api"
	"framecast.dev/shared/testenv"
)

// Uploading a whole video file from the dashboard (issue #11, server
// side): real files made by ffmpeg, sent as the dashboard's script sends
// them, each either made into a playable video or refused with a
// sentence.

// importFile is a test file and what must become of it.
type importFile struct {
	Name    string  `json:"name"`
	Path    string  `json:"path"`
	Refused string  `json:"refused,omitempty"` // part of the message; "" when it must play
	Copied  bool    `json:"-"`                 // H.264 + AAC: its packets must come through unchanged
	Seconds float64 `json:"seconds"`
}

// makeImportFiles writes the test files into dir with ffmpeg.
func makeImportFiles(t testing.TB, dir string) []importFile {
	t.Helper()
	ffmpeg := testenv.Require(t, "ffmpeg")
	const secs = "3"
	src := []string{"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", secs}
	h264 := []string{"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "50"}
	gen := func(name string, args ...string) string {
		path := filepath.Join(dir, name)
		all := append([]string{"-hide_banner", "-nostdin", "-loglevel", "error", "-y"}, args...)
		if out, err := exec.Command(ffmpeg, append(all, path)...).CombinedOutput(); err != nil {
			t.Fatalf("ffmpeg %s: %v\n%s", name, err, out)
		}
		return path
	}
	files := []importFile{
		{Name: "h264-aac.mp4", Copied: true, Seconds: 3},
		{Name: "vp9-opus.webm", Seconds: 3},
		{Name: "camera.mov", Seconds: 3},
		{Name: "silent.mp4", Copied: true, Seconds: 3},
		{Name: "screen.mkv", Copied: true, Seconds: 3},
		{Name: "truncated.mp4", Refused: "incomplete or damaged"},
		{Name: "notes.mp4", Refused: "not a video Framecast can read"},
	}
	files[0].Path = gen(files[0].Name, append(append(src, h264...), "-c:a", "aac", "-b:a", "96k")...)
	files[1].Path = gen(files[1].Name, append(src, "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k", "-c:a", "libopus")...)
	files[2].Path = gen(files[2].Name, append(append(src, h264...), "-c:a", "pcm_s16le")...)
	files[3].Path = gen(files[3].Name, append(append([]string{"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", secs}, h264...), "-an")...)
	files[4].Path = gen(files[4].Name, append(append(src, h264...), "-c:a", "aac", "-b:a", "96k")...)
	// The first part of an MP4 whose index (moov) is written last.
	whole, err := os.ReadFile(files[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	files[5].Path = filepath.Join(dir, files[5].Name)
	if err := os.WriteFile(files[5].Path, whole[:len(whole)*6/10], 0o600); err != nil {
		t.Fatal(err)
	}
	files[6].Path = filepath.Join(dir, files[6].Name)
	if err := os.WriteFile(files[6].Path, []byte(strings.Repeat("Meeting notes: ship on Monday.\n", 200)), 0o600); err != nil {
		t.Fatal(err)
	}
	return files
}

// ownerSession signs the placeholder owner (whose token uploads the
// tests' recordings) in: a browser with a session cookie, and the
// cookie's value for Chromium.
func ownerSession(t testing.TB, ts *testServer) (string, store.User) {
	t.Helper()
	ctx := context.Background()
	// The placeholder token creates its user on first use.
	resp, err := http.DefaultClient.Do(mustRequest(t, http.MethodGet, ts.URL+api.VideoPath(strings.Repeat("a", media.IDLen)), "Bearer "+ts.Token))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	u, err := ts.d.store.UserByEmail(ctx, placeholderOwner)
	if err != nil {
		t.Fatal(err)
	}
	// As at sign-up: the privacy policy in effect is accepted, or every
	// page sends the owner to accept it first.
	if v, need, err := ts.d.privacy.NeedsConsent(ctx, u); err != nil {
		t.Fatal(err)
	} else if need {
		if err := ts.d.privacy.Accept(ctx, u, v.Version); err != nil {
			t.Fatal(err)
		}
	}
	secret, err := ts.d.accounts.NewSession(ctx, u.ID, account.Client{IP: "127.0.0.1", UserAgent: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return secret, u
}

func mustRequest(t testing.TB, method, target, auth string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return req
}

// signedInBrowser is a test browser holding the owner's session.
func signedInBrowser(t *testing.T, ts *testServer) *browser {
	t.Helper()
	secret, _ := ownerSession(t, ts)
	b := newBrowser(t, ts.URL)
	u, _ := url.Parse(ts.URL)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "fc_session", Value: secret, Path: "/"}})
	want(t, b.get("/videos"), http.StatusOK, "Upload a video") // sets the CSRF cookie
	b.csrf()
	return b
}

type importStatus struct {
	ID       string  `json:"id"`
	URL      string  `json:"url"`
	Offset   int64   `json:"offset"`
	Length   int64   `json:"length"`
	State    string  `json:"state"`
	Progress float64 `json:"progress"`
	Message  string  `json:"message"`
	Playable bool    `json:"playable"`
	ShareURL string  `json:"share_url"`
}

func decodeImport(t *testing.T, a answer) importStatus {
	t.Helper()
	var st importStatus
	if err := json.Unmarshal([]byte(a.Body), &st); err != nil {
		t.Fatalf("import answer %d: %v\n%s", a.Status, err, a.Body)
	}
	return st
}

// startUpload is the dashboard's POST /uploads.
func startUpload(t *testing.T, b *browser, name string, size int64) importStatus {
	t.Helper()
	a := b.do(http.MethodPost, "/uploads", strings.NewReader(fmt.Sprintf(`{"name":%q,"size":%d}`, name, size)), "application/json", "X-CSRF-Token", b.csrf())
	if a.Status != http.StatusCreated {
		t.Fatalf("POST /uploads %s: %d %s", name, a.Status, a.Body)
	}
	return decodeImport(t, a)
}

// waitImport polls the upload until it is done or failed.
func waitImport(t *testing.T, b *browser, url string, timeout time.Duration) importStatus {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		st := decodeImport(t, b.get(url))
		if st.State == "done" || st.State == "failed" {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("upload %s still %s after %v", url, st.State, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// streamHashes are the SHA-256 of each stream's packets, as ffmpeg reads
// them: equal hashes mean the pictures and sound came through unchanged.
func streamHashes(t *testing.T, path string) string {
	t.Helper()
	ffmpeg := testenv.Require(t, "ffmpeg")
	out, err := exec.Command(ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-i", path,
		"-map", "0", "-c", "copy", "-f", "streamhash", "-hash", "sha256", "-").Output()
	if err != nil {
		t.Fatalf("streamhash %s: %v", path, err)
	}
	return string(out)
}

// playable writes what viewers get (the init segment and media segments,
// opened) into one file.
func playable(t *testing.T, ts *testServer, id string) string {
	t.Helper()
	ctx := context.Background()
	v := mustVideo(t, ts, id)
	path := filepath.Join(t.TempDir(), "result.mp4")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	idx := []api.SegmentIndex{api.InitSegment}
	for i := range v.SegmentCount {
		idx = append(idx, api.SegmentIndex(i))
	}
	for _, i := range idx {
		rc, _, err := ts.d.media.OpenSegment(ctx, v, i)
		if err != nil {
			t.Fatalf("segment %s: %v", i, err)
		}
		_, err = io.Copy(f, rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// noOriginal checks the uploaded file was deleted.
func noOriginal(t *testing.T, ts *testServer, id string) {
	t.Helper()
	for info, err := range ts.d.blobs.List(context.Background(), "videos/"+id+"/source/") {
		if err != nil {
			t.Fatal(err)
		}
		t.Errorf("the uploaded original is still stored: %s", info.Key)
	}
}

func TestImportFiles(t *testing.T) {
	ts := start(t)
	b := signedInBrowser(t, ts)
	files := makeImportFiles(t, t.TempDir())
	for _, f := range files {
		t.Run(f.Name, func(t *testing.T) {
			body, err := os.ReadFile(f.Path)
			if err != nil {
				t.Fatal(err)
			}
			st := startUpload(t, b, f.Name, int64(len(body)))
			a := b.do(http.MethodPatch, st.URL, strings.NewReader(string(body)), "application/offset+octet-stream",
				"X-CSRF-Token", b.csrf(), api.HeaderUploadOffset, "0")
			if a.Status != http.StatusOK || a.Header.Get(api.HeaderUploadOffset) != strconv.Itoa(len(body)) {
				t.Fatalf("PATCH: %d %s (offset %s)", a.Status, a.Body, a.Header.Get(api.HeaderUploadOffset))
			}
			st = waitImport(t, b, st.URL, 2*time.Minute)
			if f.Refused != "" {
				if st.State != "failed" || !strings.Contains(st.Message, f.Refused) {
					t.Fatalf("want refused with %q, got %s: %q", f.Refused, st.State, st.Message)
				}
				// The owner sees it on the dashboard too, and on the video's page.
				want(t, b.get("/videos"), 200, f.Refused)
				want(t, b.get("/videos/"+st.ID), 200, "Upload: failed")
				noOriginal(t, ts, st.ID)
				return
			}
			if st.State != "done" || st.ShareURL == "" {
				t.Fatalf("want done, got %s: %s", st.State, st.Message)
			}
			jobs := ts.waitJobs(t, st.ID, 2*time.Minute)
			kinds := map[string]bool{}
			for _, j := range jobs {
				kinds[j.Kind] = true
			}
			for _, k := range []string{media.JobDuration, media.JobThumbnail, media.JobGIF, media.JobMP4} {
				if !kinds[k] {
					t.Errorf("no %s job", k)
				}
			}
			v := mustVideo(t, ts, st.ID)
			if v.State != store.StateReady || !v.HasInit || v.Title != strings.TrimSuffix(f.Name, filepath.Ext(f.Name)) {
				t.Errorf("video %+v", v)
			}
			if d := v.ProbedDuration; d < f.Seconds-0.2 || d > f.Seconds+0.2 {
				t.Errorf("plays %.2f s, the file %.2f s", d, f.Seconds)
			}
			for i, d := range v.Durations {
				if d > 2.6 && i < len(v.Durations)-1 {
					t.Errorf("segment %d lasts %.2f s, want about 2", i, d)
				}
			}
			res := playable(t, ts, st.ID)
			if f.Copied {
				if got, want := streamHashes(t, res), streamHashes(t, f.Path); got != want {
					t.Errorf("stream copy changed the packets:\n%s\nwant\n%s", got, want)
				}
			}
			// The share page's playlist and the download exist, as for a recording.
			share := strings.TrimPrefix(st.ShareURL, ts.URL)
			want(t, b.get(share+"/playlist.m3u8"), 200, "#EXT-X-MAP", "#EXT-X-ENDLIST")
			if _, err := ts.d.store.Asset(context.Background(), st.ID, store.AssetMP4); err != nil {
				t.Errorf("no MP4 download: %v", err)
			}
			noOriginal(t, ts, st.ID)
		})
	}
}

// TestImportResumes cuts an upload off halfway (the connection closes
// mid-body), asks where it stands and sends the rest: the video's
// pictures and sound are the file's, unchanged.
func TestImportResumes(t *testing.T) {
	ts := start(t)
	b := signedInBrowser(t, ts)
	dir := t.TempDir()
	ffmpeg := testenv.Require(t, "ffmpeg")
	path := filepath.Join(dir, "talk.mp4")
	if out, err := exec.Command(ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
		"-f", "lavfi", "-i", "sine=frequency=300:sample_rate=48000", "-t", "12", "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "4M",
		"-pix_fmt", "yuv420p", "-g", "50", "-c:a", "aac", path).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st := startUpload(t, b, "talk.mp4", int64(len(body)))

	// Half the body, then the connection drops.
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "PATCH %s HTTP/1.1\r\nHost: %s\r\nCookie: fc_session=%s; fc_csrf=%s\r\nX-CSRF-Token: %s\r\nUpload-Offset: 0\r\nContent-Length: %d\r\n\r\n",
		st.URL, strings.TrimPrefix(ts.URL, "http://"), b.cookie("fc_session"), b.csrf(), b.csrf(), len(body))
	half := len(body) / 2
	if _, err := conn.Write(body[:half]); err != nil {
		t.Fatal(err)
	}
	conn.Close()

	// The server keeps what arrived: HEAD says how much.
	var offset int64
	deadline := time.Now().Add(10 * time.Second)
	for {
		a := b.do(http.MethodHead, st.URL, nil, "")
		if a.Status != http.StatusOK {
			t.Fatalf("HEAD: %d", a.Status)
		}
		offset, _ = strconv.ParseInt(a.Header.Get(api.HeaderUploadOffset), 10, 64)
		if offset > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if offset <= 0 || offset > int64(half) {
		t.Fatalf("after the cut the server holds %d bytes; %d were sent", offset, half)
	}
	// Continuing from anywhere else is refused with the right offset.
	a := b.do(http.MethodPatch, st.URL, strings.NewReader(string(body[:10])), "application/offset+octet-stream",
		"X-CSRF-Token", b.csrf(), api.HeaderUploadOffset, "0")
	if a.Status != http.StatusConflict || a.Header.Get(api.HeaderUploadOffset) != strconv.FormatInt(offset, 10) {
		t.Fatalf("PATCH at 0 after the cut: %d %s (offset %s)", a.Status, a.Body, a.Header.Get(api.HeaderUploadOffset))
	}
	a = b.do(http.MethodPatch, st.URL, strings.NewReader(string(body[offset:])), "application/offset+octet-stream",
		"X-CSRF-Token", b.csrf(), api.HeaderUploadOffset, strconv.FormatInt(offset, 10))
	if a.Status != http.StatusOK {
		t.Fatalf("resuming PATCH: %d %s", a.Status, a.Body)
	}
	st = waitImport(t, b, st.URL, 2*time.Minute)
	if st.State != "done" {
		t.Fatalf("after resuming: %s %s", st.State, st.Message)
	}
	if got, want := streamHashes(t, playable(t, ts, st.ID)), streamHashes(t, path); got != want {
		t.Errorf("the resumed upload's video differs from the file:\n%s\nwant\n%s", got, want)
	}
	noOriginal(t, ts, st.ID)
	ts.waitJobs(t, st.ID, 2*time.Minute) // before the server stops
}

// TestImportRefusesBadRequests: wrong types, sizes, offsets and origins
// get a clear answer and store nothing.
func TestImportRefusesBadRequests(t *testing.T) {
	ts := start(t, func(c *config.Config) { c.MaxUploadBytes = 1 << 20 })
	b := signedInBrowser(t, ts)
	post := func(body string, headers ...string) answer {
		return b.do(http.MethodPost, "/uploads", strings.NewReader(body), "application/json", append([]string{"X-CSRF-Token", b.csrf()}, headers...)...)
	}
	want(t, post(`{"name":"big.mp4","size":2000000}`), http.StatusRequestEntityTooLarge, "the largest this server takes is 1.0 MiB")
	want(t, post(`{"name":"slides.pdf","size":100}`), http.StatusBadRequest, "choose an MP4, MOV, WebM or MKV file")
	want(t, post(`{"name":"../../etc/passwd.mp4","size":100}`), http.StatusCreated, `"name":"passwd.mp4"`)
	want(t, post(`{"name":"a.mp4","size":0}`), http.StatusBadRequest, "empty")
	// No CSRF token, or another site.
	if a := b.do(http.MethodPost, "/uploads", strings.NewReader(`{"name":"a.mp4","size":10}`), "application/json"); a.Status != http.StatusForbidden {
		t.Errorf("without the CSRF header: %d", a.Status)
	}
	if a := post(`{"name":"a.mp4","size":10}`, "Origin", "https://evil.example"); a.Status != http.StatusForbidden {
		t.Errorf("from another origin: %d", a.Status)
	}
	st := startUpload(t, b, "clip.mp4", 100)
	patch := func(offset int, body string) answer {
		return b.do(http.MethodPatch, st.URL, strings.NewReader(body), "application/offset+octet-stream",
			"X-CSRF-Token", b.csrf(), api.HeaderUploadOffset, strconv.Itoa(offset))
	}
	want(t, patch(0, strings.Repeat("x", 101)), http.StatusBadRequest, "runs past")
	want(t, patch(5, "xx"), http.StatusConflict, "holds 0 bytes")
	if a := patch(0, strings.Repeat("x", 40)); a.Status != http.StatusOK || decodeImport(t, a).Offset != 40 {
		t.Fatalf("first part: %d %s", a.Status, a.Body)
	}
	// Over the limit as declared: refused before reading.
	big := b.do(http.MethodPatch, st.URL, strings.NewReader(strings.Repeat("x", 2<<20)), "application/offset+octet-stream",
		"X-CSRF-Token", b.csrf(), api.HeaderUploadOffset, "40")
	want(t, big, http.StatusRequestEntityTooLarge)
	if st := decodeImport(t, b.get(st.URL)); st.Offset != 40 || st.State != "receiving" {
		t.Errorf("after refusals the upload holds %d (%s), want 40", st.Offset, st.State)
	}
	// Someone else's upload is not found.
	other := newBrowser(t, ts.URL)
	if a := other.get(st.URL); a.Status != http.StatusSeeOther {
		t.Errorf("anonymous status: %d", a.Status)
	}
}

// importUpload is the path of the owner's upload in progress in the
// authorisation matrix, started on first use.
func importUpload(f *matrixFixture, _ principal) string {
	if f.importID == "" {
		v, _, err := f.ts.d.media.StartImport(context.Background(), f.people[owner].ID, "matrix.mp4", 10)
		if err != nil {
			f.t.Fatal(err)
		}
		f.importID = v.ID
	}
	return "/uploads/" + f.importID
}

// uploadFixture is what the dashboard upload's browser test (web/e2e/
// upload.js) needs: the owner's session, the test files, and a larger
// file for the interrupted upload.
func uploadFixture(t *testing.T, ts *testServer) map[string]any {
	t.Helper()
	session, owner := ownerSession(t, ts)
	dir := t.TempDir()
	files := makeImportFiles(t, dir)
	big := filepath.Join(dir, "big.mp4")
	ffmpeg := testenv.Require(t, "ffmpeg")
	if out, err := exec.Command(ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
		"-f", "lavfi", "-i", "sine=frequency=300:sample_rate=48000", "-t", "6", "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "3M",
		"-pix_fmt", "yuv420p", "-g", "50", "-c:a", "aac", big).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	t.Cleanup(func() { waitUploadsIdle(t, ts, owner.ID, 2*time.Minute) })
	return map[string]any{"session": session, "files": files, "big": importFile{Name: "big.mp4", Path: big, Seconds: 6}}
}

// TestImportRetriesTransientFailures: a failure that is not the file's
// fault (here the server's work folder cannot be made) is retried with
// the upload kept, and the owner is not told the file was refused.
func TestImportRetriesTransientFailures(t *testing.T) {
	ts := start(t)
	b := signedInBrowser(t, ts)
	files := makeImportFiles(t, t.TempDir())
	work := filepath.Join(ts.DataDir, "work")
	if err := os.WriteFile(work, []byte("in the way"), 0o600); err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(files[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	st := startUpload(t, b, files[0].Name, int64(len(body)))
	a := b.do(http.MethodPatch, st.URL, strings.NewReader(string(body)), "application/offset+octet-stream",
		"X-CSRF-Token", b.csrf(), api.HeaderUploadOffset, "0")
	if a.Status != http.StatusOK {
		t.Fatalf("PATCH: %d %s", a.Status, a.Body)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		js, err := ts.d.store.VideoJobs(context.Background(), st.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(js) == 1 && js[0].LastError != "" {
			if js[0].State != store.JobQueued {
				t.Fatalf("after one failed attempt the job is %s", js[0].State)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the import job did not fail an attempt: %+v", js)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := decodeImport(t, b.get(st.URL)); got.State != "processing" || got.Message != "" {
		t.Errorf("after a transient failure the upload is %s: %q", got.State, got.Message)
	}
	n := 0
	for _, err := range ts.d.blobs.List(context.Background(), "videos/"+st.ID+"/source/") {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 1 {
		t.Errorf("the uploaded file is in %d parts after a transient failure, want 1", n)
	}
}

// waitUploadsIdle waits until no job of the owner's videos is queued or
// running, so the server's shutdown finds nothing to cut short.
func waitUploadsIdle(t *testing.T, ts *testServer, owner string, timeout time.Duration) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(timeout)
	for {
		vs, err := ts.d.store.VideosOwnedBy(ctx, owner)
		if err != nil {
			t.Fatal(err)
		}
		busy := 0
		for _, v := range vs {
			js, err := ts.d.store.VideoJobs(ctx, v.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, j := range js {
				if j.State == store.JobQueued || j.State == store.JobRunning {
					busy++
				}
			}
		}
		if busy == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d jobs still pending after %v", busy, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestImportLimits: a picture, a length or a number of streams over the
// configured limits is refused with the limit in the message; a file
// within them is taken.
func TestImportLimits(t *testing.T) {
	ts := start(t, func(c *config.Config) {
		c.UploadMaxLong, c.UploadMaxShort, c.UploadMaxDuration, c.UploadMaxStreams = 256, 256, 3*time.Second, 2
	})
	b := signedInBrowser(t, ts)
	ffmpeg := testenv.Require(t, "ffmpeg")
	dir := t.TempDir()
	gen := func(name string, args ...string) string {
		path := filepath.Join(dir, name)
		all := append([]string{"-hide_banner", "-nostdin", "-loglevel", "error", "-y"}, args...)
		if out, err := exec.Command(ffmpeg, append(all, path)...).CombinedOutput(); err != nil {
			t.Fatalf("ffmpeg %s: %v\n%s", name, err, out)
		}
		return path
	}
	video := func(size, secs string) []string {
		return []string{"-f", "lavfi", "-i", "testsrc2=size=" + size + ":rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
			"-t", secs, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "50", "-c:a", "aac"}
	}
	for _, c := range []struct {
		name, path, refused string
	}{
		{"wide.mp4", gen("wide.mp4", video("320x240", "1")...), "is 320×240; the largest this server takes is 256×256"},
		{"portrait.mp4", gen("portrait.mp4", video("120x300", "1")...), "is 120×300; the largest this server takes is 256×256"},
		{"long.mp4", gen("long.mp4", video("160x120", "5")...), "lasts 0:05; the longest this server takes is 0:03"},
		{"dubbed.mkv", gen("dubbed.mkv", append(video("160x120", "1"), "-map", "0:v", "-map", "1:a", "-map", "1:a")...), "has 3 streams; at most 2 are allowed"},
		{"fits.mp4", gen("fits.mp4", video("256x144", "2")...), ""},
	} {
		body, err := os.ReadFile(c.path)
		if err != nil {
			t.Fatal(err)
		}
		st := startUpload(t, b, c.name, int64(len(body)))
		a := b.do(http.MethodPatch, st.URL, strings.NewReader(string(body)), "application/offset+octet-stream",
			"X-CSRF-Token", b.csrf(), api.HeaderUploadOffset, "0")
		if a.Status != http.StatusOK {
			t.Fatalf("PATCH %s: %d %s", c.name, a.Status, a.Body)
		}
		st = waitImport(t, b, st.URL, 2*time.Minute)
		switch {
		case c.refused == "" && st.State != "done":
			t.Errorf("%s: %s %q, want done", c.name, st.State, st.Message)
		case c.refused != "" && (st.State != "failed" || !strings.Contains(st.Message, c.refused)):
			t.Errorf("%s: %s %q, want refused with %q", c.name, st.State, st.Message, c.refused)
		}
		if st.State == "done" {
			ts.waitJobs(t, st.ID, 2*time.Minute)
		}
	}
}

// TestImportOnScaleOutBackends: on PostgreSQL and S3 the file arrives in
// several requests (parts in the bucket, joined by the job), becomes a
// video with the file's pictures and sound, and leaves no part behind.
func TestImportOnScaleOutBackends(t *testing.T) {
	s3 := testenv.S3(t)
	ts := start(t, func(c *config.Config) {
		c.DatabaseURL = storetest.URL(t, storetest.Postgres)
		c.BlobURL = s3.URL()
		c.S3AccessKey, c.S3SecretKey = s3.AccessKey, s3.SecretKey
	})
	b := signedInBrowser(t, ts)
	files := makeImportFiles(t, t.TempDir())
	f := files[0] // H.264 + AAC: copied
	body, err := os.ReadFile(f.Path)
	if err != nil {
		t.Fatal(err)
	}
	st := startUpload(t, b, f.Name, int64(len(body)))
	for _, cut := range [][2]int{{0, len(body) / 3}, {len(body) / 3, len(body) * 2 / 3}, {len(body) * 2 / 3, len(body)}} {
		a := b.do(http.MethodPatch, st.URL, strings.NewReader(string(body[cut[0]:cut[1]])), "application/offset+octet-stream",
			"X-CSRF-Token", b.csrf(), api.HeaderUploadOffset, strconv.Itoa(cut[0]))
		if a.Status != http.StatusOK || decodeImport(t, a).Offset != int64(cut[1]) {
			t.Fatalf("PATCH %v: %d %s", cut, a.Status, a.Body)
		}
	}
	st = waitImport(t, b, st.URL, 2*time.Minute)
	if st.State != "done" {
		t.Fatalf("%s: %s", st.State, st.Message)
	}
	if got, want := streamHashes(t, playable(t, ts, st.ID)), streamHashes(t, f.Path); got != want {
		t.Errorf("the video differs from the file:\n%s\nwant\n%s", got, want)
	}
	noOriginal(t, ts, st.ID)
	ts.waitJobs(t, st.ID, 2*time.Minute)
}

// TestImportDeletedWhileProcessing: deleting the video right after the
// last byte leaves nothing of it in the blob store, whenever the
// deletion lands in its processing.
func TestImportDeletedWhileProcessing(t *testing.T) {
	ts := start(t)
	b := signedInBrowser(t, ts)
	files := makeImportFiles(t, t.TempDir())
	for _, f := range files[:3] {
		body, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		st := startUpload(t, b, f.Name, int64(len(body)))
		a := b.do(http.MethodPatch, st.URL, strings.NewReader(string(body)), "application/offset+octet-stream",
			"X-CSRF-Token", b.csrf(), api.HeaderUploadOffset, "0")
		if a.Status != http.StatusOK {
			t.Fatalf("PATCH: %d %s", a.Status, a.Body)
		}
		wantRedirect(t, b.post("/videos/"+st.ID+"/delete", url.Values{"confirm": {"delete"}}), "/videos")
		// The job's rows went with the video; the server's log says when
		// its import job, if it started, has ended.
		time.Sleep(time.Second)
		deadline := time.Now().Add(time.Minute)
		for {
			started, ended := false, false
			for _, line := range strings.Split(ts.logs.String(), "\n") {
				if !strings.Contains(line, "kind=import video_id="+st.ID) {
					continue
				}
				started = started || strings.Contains(line, `msg="job started"`)
				ended = ended || strings.Contains(line, `msg="job done"`) || strings.Contains(line, "job attempt failed") || strings.Contains(line, "job failed")
			}
			if !started || ended {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the import job of the deleted video did not end")
			}
			time.Sleep(50 * time.Millisecond)
		}
		for info, err := range ts.d.blobs.List(context.Background(), "videos/"+st.ID+"/") {
			if err != nil {
				t.Fatal(err)
			}
			t.Errorf("%s: left in the blob store after deletion: %s", f.Name, info.Key)
		}
		if _, err := ts.d.store.Video(context.Background(), st.ID); err == nil {
			t.Errorf("%s: the video came back", f.Name)
		}
	}
}
