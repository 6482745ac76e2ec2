package sync_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"framecast.dev/desktop/internal/encode"
	"framecast.dev/desktop/internal/keystore"
	"framecast.dev/desktop/internal/queue"
	upsync "framecast.dev/desktop/internal/sync"
	"framecast.dev/shared/api"
	"framecast.dev/shared/seal"
	"framecast.dev/shared/testenv"
)

// serverBin is the framecast-server binary the tests run, built once.
var serverBin string

const testToken = "sync-test-device-token-0123456789"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(child(mode))
	}
	code, err := buildServerAndRun(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Exit(code)
}

// buildServerAndRun builds framecast-server from this checkout (or takes
// FRAMECAST_TEST_SERVER_BIN, a prebuilt one) and runs the tests.
func buildServerAndRun(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "framecast-sync-test-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	if serverBin, err = testenv.BuildServer(dir); err != nil {
		return 0, err
	}
	return m.Run(), nil
}

// server is a framecast-server process with its own data folder.
type server struct{ *testenv.Server }

// startServer starts a server on a free port; it is stopped when the test
// ends, and its log printed if the test failed.
func startServer(t testing.TB, dataDir string) *server {
	t.Helper()
	return startServerAt(t, "", dataDir)
}

// startServerAt is startServer at a given address ("": a free port).
func startServerAt(t testing.TB, addr, dataDir string) *server {
	t.Helper()
	return &server{testenv.StartServer(t, testenv.ServerConfig{Bin: serverBin, Addr: addr, DataDir: dataDir,
		Token: testToken, Env: []string{"FRAMECAST_SHUTDOWN_TIMEOUT=2s"}})}
}

// blobs returns the stored blob files of a video: index → the SHA-256 of
// the file's bytes, failing on two files for one index or a file whose
// name's hash is not its content's.
func (s *server) blobs(t testing.TB, videoID string) map[api.SegmentIndex]string {
	t.Helper()
	dir := filepath.Join(s.Dir, "blobs", "videos", videoID)
	entries, err := os.ReadDir(dir)
	out := map[api.SegmentIndex]string{}
	if errors.Is(err, os.ErrNotExist) {
		return out // nothing stored yet
	}
	if err != nil {
		t.Fatalf("blobs of %s: %v", videoID, err)
	}
	for _, e := range entries {
		idx, sha, ok := strings.Cut(e.Name(), "-")
		if !ok {
			t.Fatalf("unexpected blob %s", e.Name())
		}
		i, err := api.ParseSegmentIndex(idx)
		if err != nil {
			t.Fatalf("blob %s: %v", e.Name(), err)
		}
		if _, dup := out[i]; dup {
			t.Fatalf("segment %s is stored twice on the server", i)
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != sha {
			t.Fatalf("blob %s holds bytes with SHA-256 %s", e.Name(), got)
		}
		out[i] = sha
	}
	return out
}

// desk is a desktop's queue folder with a file-backed device key.
type desk struct {
	dir   string
	plain string
	keys  *keystore.Store
	q     *queue.Queue
}

func openDesk(t testing.TB, dir string) *desk {
	t.Helper()
	d, err := openDeskDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.q.Close() })
	return d
}

func openDeskDir(dir string) (*desk, error) {
	keys, err := keystore.OpenWith(filepath.Join(dir, "keys"), keystore.File)
	if err != nil {
		return nil, err
	}
	q, err := queue.Open(filepath.Join(dir, "queue"), keys)
	if err != nil {
		return nil, err
	}
	plain := filepath.Join(dir, "plain")
	if err := os.MkdirAll(plain, 0o700); err != nil {
		return nil, err
	}
	return &desk{dir: dir, plain: plain, keys: keys, q: q}, nil
}

func (d *desk) create(t testing.TB, title string) queue.Recording {
	t.Helper()
	r, err := d.q.CreateRecording(context.Background(), queue.NewRecording{Title: title})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// plaintext is synthetic segment content: random, so sealing cannot
// shrink it, and reproducible from (recording, index).
func plaintext(id seal.RecordingID, i api.SegmentIndex, size int) []byte {
	b := make([]byte, size)
	var seed [32]byte
	copy(seed[:], id[:])
	seed[20], seed[21] = byte(i), byte(i>>8)
	rand.NewChaCha8(seed).Read(b)
	return b
}

// add queues a synthetic segment of size plaintext bytes lasting 2 s.
func (d *desk) add(t testing.TB, id seal.RecordingID, i api.SegmentIndex, size int) queue.Segment {
	t.Helper()
	path := filepath.Join(d.plain, fmt.Sprintf("%s-%s.m4s", id, i))
	if err := os.WriteFile(path, plaintext(id, i, size), 0o600); err != nil {
		t.Fatal(err)
	}
	dur := 2 * time.Second
	if i == api.InitSegment {
		dur = 0
	}
	s, err := d.q.AddSegment(context.Background(), id, i, path, dur)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (d *desk) finish(t testing.TB, id seal.RecordingID) {
	t.Helper()
	if err := d.q.Finish(context.Background(), id, 0); err != nil {
		t.Fatal(err)
	}
}

// events collects what an uploader reports.
type events struct {
	mu  stdsync.Mutex
	all []upsync.Event
}

func (e *events) add(ev upsync.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, ev)
}

func (e *events) count(k upsync.EventKind) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, ev := range e.all {
		if ev.Kind == k {
			n++
		}
	}
	return n
}

func (e *events) of(k upsync.EventKind) []upsync.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []upsync.Event
	for _, ev := range e.all {
		if ev.Kind == k {
			out = append(out, ev)
		}
	}
	return out
}

// running is an uploader running in the test process.
type running struct {
	*upsync.Uploader
	ev     *events
	cancel context.CancelFunc
	done   chan error
	once   stdsync.Once
}

// runUploader starts an uploader on d against url; it stops with the test.
func runUploader(t testing.TB, d *desk, url string, edit ...func(*upsync.Config)) *running {
	t.Helper()
	ev := &events{}
	logs := &testenv.LockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("uploader log:\n%s", testenv.Tail(logs.String(), 60))
		}
	})
	cfg := upsync.Config{Queue: d.q, ServerURL: url, Token: testToken, OnEvent: ev.add,
		RetryMin: 50 * time.Millisecond, RetryBase: 200 * time.Millisecond, RetryMax: 3 * time.Second,
		Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	for _, e := range edit {
		e(&cfg)
	}
	u, err := upsync.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{Uploader: u, ev: ev, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- u.Run(ctx) }()
	t.Cleanup(r.stop)
	return r
}

func (r *running) stop() {
	r.once.Do(func() {
		r.cancel()
		select {
		case <-r.done:
		case <-time.After(10 * time.Second):
			panic("the uploader did not stop within 10s of its context ending")
		}
	})
}

func waitReady(t testing.TB, u *upsync.Uploader, id seal.RecordingID, within time.Duration) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	url, err := u.WaitReady(ctx, id)
	if err != nil {
		t.Fatalf("recording %s not ready: %v", id, err)
	}
	return url
}

// checkDelivered is the promise: every segment the queue holds for the
// recording is on the server exactly once, byte for byte, the video is
// ready, and its playlist lists every media segment.
func checkDelivered(t testing.TB, srv *server, d *desk, id seal.RecordingID) queue.Recording {
	t.Helper()
	ctx := context.Background()
	r, err := d.q.Recording(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if r.State != queue.StateUploaded {
		t.Fatalf("recording is %s (%s), want uploaded", r.State, r.Failure)
	}
	segs, err := d.q.Segments(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	blobs := srv.blobs(t, r.ServerID)
	if len(blobs) != len(segs) {
		t.Fatalf("server holds %d segments, the queue %d", len(blobs), len(segs))
	}
	media := 0
	for _, s := range segs {
		if blobs[s.Index] != hex.EncodeToString(s.SHA256[:]) {
			t.Fatalf("segment %s: server blob %q, queue sha256 %x", s.Index, blobs[s.Index], s.SHA256)
		}
		raw, err := os.ReadFile(s.Path)
		if err != nil || sha256.Sum256(raw) != s.SHA256 {
			t.Fatalf("segment %s: the queue's own file does not match its row (%v)", s.Index, err)
		}
		if s.Index != api.InitSegment {
			media++
		}
	}
	c := api.NewClient(srv.URL, testToken)
	v, err := c.Video(ctx, r.ServerID)
	if err != nil || v.State != api.StateReady || v.SegmentCount != media {
		t.Fatalf("server video: %+v, %v; want ready with %d segments", v, err, media)
	}
	pl := get(t, v.ShareURL+"/playlist.m3u8")
	if n := strings.Count(pl, "#EXTINF:"); n != media {
		t.Fatalf("playlist lists %d segments, want %d:\n%s", n, media, pl)
	}
	return r
}

func get(t testing.TB, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v\n%s", url, resp.StatusCode, err, b)
	}
	return string(b)
}

// recording is a simulated recorder: ffmpeg makes ~2 s fMP4 HLS segments
// in real time from a test pattern, and each one it closes is queued
// (and the uploader notified) the way the recorder's SegmentClosed events
// are handled.
type recording struct {
	ID      seal.RecordingID
	Dir     string
	cmd     *exec.Cmd
	done    chan error
	mu      stdsync.Mutex
	closed  int // media segments queued
	started time.Time
}

// ffmpegArgs make seconds of noisy test pattern (~700 KB per segment, so
// uploads take a while) as the recorder's encoder lays them out.
func ffmpegArgs(seconds float64) []string {
	return []string{"-hide_banner", "-nostdin", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30,noise=alls=10:allf=t", "-t", fmt.Sprint(seconds),
		"-c:v", "libx264", "-preset", "ultrafast", "-g", "60", "-force_key_frames", "expr:gte(t,n_forced*2)",
		"-f", "hls", "-hls_time", "2", "-hls_list_size", "0", "-hls_playlist_type", "event",
		"-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", encode.InitName,
		"-hls_segment_filename", "seg%05d.m4s", "-start_number", "1",
		"-hls_flags", "temp_file+independent_segments", encode.PlaylistName}
}

// newRecording creates the queue's recording for a simulated recorder,
// with the plaintext layout the recorder uses, so Recover knows it.
func newRecording(t testing.TB, d *desk, title string) (queue.Recording, string) {
	t.Helper()
	r, dir, err := makeRecording(d, title)
	if err != nil {
		t.Fatal(err)
	}
	return r, dir
}

func makeRecording(d *desk, title string) (queue.Recording, string, error) {
	dir := filepath.Join(d.dir, "rec-"+fmt.Sprint(time.Now().UnixNano()))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return queue.Recording{}, "", err
	}
	r, err := d.q.CreateRecording(context.Background(), queue.NewRecording{Title: title, PlainDir: dir,
		PlainPattern: "seg%05d.m4s", PlainInit: encode.InitName, PlainFirst: 1})
	return r, dir, err
}

// record runs ffmpeg for seconds into dir and queues its segments as they
// close; onClosed (may be nil) hears of each. It returns at once; wait()
// returns after ffmpeg ended and everything it closed is queued, and
// then finishes the recording in the queue.
func record(q *queue.Queue, id seal.RecordingID, dir string, seconds float64, notify func(), onClosed func(api.SegmentIndex)) (*recording, error) {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(ffmpeg, ffmpegArgs(seconds)...)
	cmd.Dir = dir
	var stderr testenv.LockedBuffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = dieWithParent()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	rec := &recording{ID: id, Dir: dir, cmd: cmd, done: make(chan error, 1), started: time.Now()}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	go func() {
		ctx := context.Background()
		initDone := false
		next := 1
		var total time.Duration
		poll := func() error {
			p, err := encode.ReadPlaylist(dir)
			if err != nil {
				return err
			}
			if p.Init != "" && !initDone {
				if _, err := q.AddSegment(ctx, id, api.InitSegment, filepath.Join(dir, p.Init), 0); err != nil {
					return err
				}
				initDone = true
				notify()
			}
			for _, s := range p.Segments {
				if s.Index < next {
					continue
				}
				idx := api.SegmentIndex(s.Index - 1)
				if onClosed != nil {
					onClosed(idx)
				}
				if _, err := q.AddSegment(ctx, id, idx, filepath.Join(dir, s.File), s.Duration); err != nil {
					return err
				}
				total += s.Duration
				next = s.Index + 1
				rec.mu.Lock()
				rec.closed++
				rec.mu.Unlock()
				notify()
			}
			return nil
		}
		for {
			select {
			case err := <-exited:
				if err != nil {
					rec.done <- fmt.Errorf("ffmpeg: %v: %s", err, stderr.String())
					return
				}
				if err := poll(); err != nil {
					rec.done <- err
					return
				}
				if err := q.Finish(ctx, id, total); err != nil {
					rec.done <- err
					return
				}
				notify()
				rec.done <- nil
				return
			case <-time.After(50 * time.Millisecond):
				if err := poll(); err != nil {
					rec.cmd.Process.Kill()
					<-exited
					rec.done <- err
					return
				}
			}
		}
	}()
	return rec, nil
}

func (r *recording) wait(t testing.TB) {
	t.Helper()
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("simulated recording: %v", err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("simulated recording did not end")
	}
}

func (r *recording) segments() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

func requireFFmpeg(t testing.TB) { testenv.Require(t, "ffmpeg") }
