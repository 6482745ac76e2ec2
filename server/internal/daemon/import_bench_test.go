package daemon

import (
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

	"framecast.dev/shared/api"
	"framecast.dev/shared/testenv"
)

// BenchmarkImportToPlayable uploads a 10-minute 1080p H.264 + AAC file
// from the dashboard's protocol (POST /uploads, one PATCH with the whole
// file) and waits until the video is ready to play (the copy path: probe,
// segment, seal, store). The baseline, in the same run, copies the same
// bytes through a loopback TCP socket into a file on the same disk and
// fsyncs it: what merely receiving and keeping the file costs. Target
// (docs/BENCHMARKS.md): ≤ 1.2× the baseline.
//
// The file is made once with ffmpeg (a few minutes on 2 cores) and kept
// in $TMPDIR/framecast-bench for later runs.
func BenchmarkImportToPlayable(b *testing.B) {
	src := benchImportFile(b)
	fi, err := os.Stat(src)
	if err != nil {
		b.Fatal(err)
	}
	ts := startBenchServer(b)
	dir := ts.DataDir
	secret, _ := ownerSession(b, ts)
	csrf := strings.Repeat("c", 43)
	cookies := "fc_session=" + secret + "; fc_csrf=" + csrf

	var base time.Duration
	b.Run("baseline-loopback-copy", func(b *testing.B) {
		for range b.N {
			base = loopbackCopy(b, src, filepath.Join(dir, "baseline-copy"))
		}
		b.ReportMetric(float64(fi.Size())/base.Seconds()/1e6, "MB/s")
	})
	b.Run("upload-to-playable", func(b *testing.B) {
		var took, received time.Duration
		for range b.N {
			took, received = importOnce(b, ts.URL, cookies, csrf, src, fi.Size())
		}
		b.ReportMetric(received.Seconds(), "s-received")
		ratio := took.Seconds() / base.Seconds()
		b.ReportMetric(float64(fi.Size())/took.Seconds()/1e6, "MB/s")
		b.ReportMetric(ratio, "x-baseline")
		b.Logf("%d MB: upload to playable %.2f s (received after %.2f s), loopback copy %.2f s: %.2f× (target ≤ 1.2×)",
			fi.Size()>>20, took.Seconds(), received.Seconds(), base.Seconds(), ratio)
	})
}

// benchImportFile is the cached 10-minute 1080p H.264 + AAC file.
func benchImportFile(b *testing.B) string {
	b.Helper()
	ffmpeg := testenv.Require(b, "ffmpeg")
	testenv.Require(b, "ffprobe")
	dir := filepath.Join(os.TempDir(), "framecast-bench")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "import-1080p-600s-h264-aac.mp4")
	if _, err := os.Stat(path); err == nil {
		return path
	}
	b.Logf("making %s once (10 min of 1080p H.264)", path)
	tmp := path + ".part.mp4"
	short := path + ".20s.mp4"
	defer os.Remove(short)
	// 20 s of a moving pattern at about 5 Mbit/s, a keyframe every 2 s,
	// then repeated by stream copy to 10 minutes (encoding all of it would
	// take minutes of both cores); the index (moov) at the end, as cameras
	// and screen recorders write it.
	for _, args := range [][]string{
		{"-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
			"-t", "20", "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "5M", "-maxrate", "5M", "-bufsize", "10M",
			"-pix_fmt", "yuv420p", "-g", "50", "-c:a", "aac", "-b:a", "128k", short},
		{"-stream_loop", "29", "-i", short, "-map", "0", "-c", "copy", tmp},
	} {
		cmd := exec.Command(ffmpeg, append([]string{"-hide_banner", "-nostdin", "-loglevel", "error", "-y"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("ffmpeg: %v\n%s", err, out)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	return path
}

// loopbackCopy sends the file through a loopback TCP connection into dst
// and fsyncs it.
func loopbackCopy(b *testing.B, src, dst string) time.Duration {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		f, err := os.Create(dst)
		if err != nil {
			done <- err
			return
		}
		defer os.Remove(dst)
		defer f.Close()
		if _, err := io.Copy(f, c); err != nil {
			done <- err
			return
		}
		done <- f.Sync()
	}()
	in, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	start := time.Now()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(c, in); err != nil {
		b.Fatal(err)
	}
	c.Close()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// importOnce uploads the file as the dashboard does and waits until the
// video is ready; it returns how long that took, and how long until the
// last byte was received.
func importOnce(b *testing.B, base, cookies, csrf, src string, size int64) (time.Duration, time.Duration) {
	b.Helper()
	do := func(method, path string, body io.Reader, n int64, headers ...string) *http.Response {
		req, err := http.NewRequest(method, base+path, body)
		if err != nil {
			b.Fatal(err)
		}
		req.ContentLength = n
		req.Header.Set("Cookie", cookies)
		req.Header.Set("X-CSRF-Token", csrf)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		return resp
	}
	in, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	start := time.Now()
	body := fmt.Sprintf(`{"name":"all-hands.mp4","size":%d}`, size)
	resp := do(http.MethodPost, "/uploads", strings.NewReader(body), int64(len(body)), "Content-Type", "application/json")
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b.Fatalf("POST /uploads: %d %s", resp.StatusCode, answer)
	}
	u := jsonField(string(answer), "url")
	resp = do(http.MethodPatch, u, in, size, api.HeaderUploadOffset, "0")
	answer, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("PATCH: %d %s", resp.StatusCode, answer)
	}
	received := time.Since(start)
	for {
		resp = do(http.MethodGet, u, nil, 0)
		answer, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		switch jsonField(string(answer), "state") {
		case "done":
			took := time.Since(start)
			// The share page's playlist answers: playable.
			share, _ := url.Parse(jsonField(string(answer), "share_url"))
			resp = do(http.MethodGet, share.Path+"/playlist.m3u8", nil, 0)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("playlist: %d", resp.StatusCode)
			}
			return took, received
		case "failed":
			b.Fatalf("import failed: %s", answer)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// jsonField pulls a string field out of a small JSON answer.
func jsonField(s, name string) string {
	key := `"` + name + `":"`
	i := strings.Index(s, key)
	if i < 0 {
		return ""
	}
	s = s[i+len(key):]
	if j := strings.IndexByte(s, '"'); j >= 0 {
		v, err := strconv.Unquote(`"` + s[:j] + `"`)
		if err == nil {
			return v
		}
		return s[:j]
	}
	return ""
}
