package daemon

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"framecast.dev/server/internal/store"
	"framecast.dev/shared/api"
	"framecast.dev/shared/seal"
)

// recording is what a desktop app holds for one recording.
type recording struct {
	key   seal.Key
	id    seal.RecordingID
	video api.Video
	plain map[api.SegmentIndex][]byte
	seal  map[api.SegmentIndex][]byte
}

func sealSegment(t testing.TB, key seal.Key, rec seal.RecordingID, index api.SegmentIndex, plain []byte) []byte {
	t.Helper()
	sealed, err := seal.Seal(plain, key, rec, index.SealIndex())
	if err != nil {
		t.Fatal(err)
	}
	return sealed
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// newRecording creates a video and seals segments of the given plaintext
// sizes (index 0..), plus an init segment.
func newRecording(t *testing.T, ts *testServer, sizes ...int) *recording {
	t.Helper()
	r := &recording{key: seal.NewKey(), id: seal.NewRecordingID(), plain: map[api.SegmentIndex][]byte{}, seal: map[api.SegmentIndex][]byte{}}
	v, created, err := ts.client.CreateVideo(context.Background(), api.CreateVideoRequest{Title: "Test <b>video</b>", RecordingID: r.id.String()})
	if err != nil || !created {
		t.Fatalf("create: %v created=%v", err, created)
	}
	r.video = v
	r.add(t, api.InitSegment, randomBytes(700))
	for i, n := range sizes {
		r.add(t, api.SegmentIndex(i), randomBytes(n))
	}
	return r
}

func (r *recording) add(t *testing.T, i api.SegmentIndex, plain []byte) {
	r.plain[i] = plain
	r.seal[i] = sealSegment(t, r.key, r.id, i, plain)
}

func (r *recording) put(t *testing.T, ts *testServer, i api.SegmentIndex) api.Segment {
	t.Helper()
	b := r.seal[i]
	seg, err := ts.client.PutSegment(context.Background(), r.video.ID, i, sum(b), int64(len(b)), bytes.NewReader(b))
	if err != nil {
		t.Fatalf("put segment %s: %v", i, err)
	}
	return seg
}

func (r *recording) finalize(t *testing.T, ts *testServer, count int) api.Video {
	t.Helper()
	v, err := ts.client.Finalize(context.Background(), r.video.ID, r.finalizeRequest(count))
	if err != nil {
		t.Fatalf("finalize: %v", err)
	}
	return v
}

func (r *recording) finalizeRequest(count int) api.FinalizeRequest {
	d := make([]float64, count)
	for i := range d {
		d[i] = 2
	}
	d[count-1] = 1.5
	return api.FinalizeRequest{SegmentCount: count, Init: true, SegmentDurations: d, DataKey: r.key[:]}
}

func (ts *testServer) putRaw(t *testing.T, videoID string, i api.SegmentIndex, sha string, body []byte) *http.Response {
	t.Helper()
	return ts.do(t, "PUT", api.SegmentPath(videoID, i), bytes.NewReader(body), true,
		api.HeaderSHA256, sha, api.HeaderUploadLength, fmt.Sprint(len(body)))
}

// blobFiles lists the stored blobs of a video.
func (ts *testServer) blobFiles(t *testing.T, videoID string) []string {
	t.Helper()
	var out []string
	root := filepath.Join(ts.DataDir, "blobs", "videos", videoID)
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// blobFilesUnder lists the stored blobs under a key prefix (a folder).
func (ts *testServer) blobFilesUnder(t *testing.T, prefix string) []string {
	t.Helper()
	var out []string
	for info, err := range ts.d.blobs.List(context.Background(), prefix+"/") {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, info.Key)
	}
	return out
}

func (ts *testServer) get(t *testing.T, path string) (*http.Response, []byte, error) {
	t.Helper()
	resp, err := http.Get(ts.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func TestSyncFlow(t *testing.T) {
	ts := start(t)
	ctx := context.Background()
	// Segment 1 spans several seal chunks.
	r := newRecording(t, ts, 1000, 3*seal.ChunkSize+123, 0+5000)

	again, created, err := ts.client.CreateVideo(ctx, api.CreateVideoRequest{Title: "retry", RecordingID: r.id.String()})
	if err != nil || created || again.ID != r.video.ID || again.ShareURL != r.video.ShareURL {
		t.Fatalf("retried create = %+v created=%v err=%v", again, created, err)
	}
	slug := strings.TrimPrefix(r.video.ShareURL, ts.URL+"/v/")
	if len(slug) != 32 || r.video.State != api.StateUploading {
		t.Fatalf("video %+v", r.video)
	}

	// Nothing is visible before finalize, and unknown slugs look the same.
	for _, p := range []string{"/v/" + slug, "/v/" + slug + "/playlist.m3u8", "/v/" + slug + "/seg/0.m4s", "/v/" + strings.Repeat("a", 32)} {
		resp, body, _ := ts.get(t, p)
		if resp.StatusCode != 404 || strings.Contains(string(body), slug) {
			t.Fatalf("GET %s before finalize: %d %s", p, resp.StatusCode, body)
		}
	}

	// Out of order; 201 each, with the upload headers.
	for _, i := range []api.SegmentIndex{2, 0, api.InitSegment} {
		resp := ts.putRaw(t, r.video.ID, i, sum(r.seal[i]), r.seal[i])
		wantStatus(t, resp, http.StatusCreated)
		if resp.Header.Get(api.HeaderUploadOffset) != fmt.Sprint(len(r.seal[i])) {
			t.Fatalf("Upload-Offset %q", resp.Header.Get(api.HeaderUploadOffset))
		}
	}
	seg := r.put(t, ts, 1)
	if !seg.Stored || seg.Offset != int64(len(r.seal[1])) || seg.SHA256 != sum(r.seal[1]) {
		t.Fatalf("put = %+v", seg)
	}

	// The same bytes again: 200, and no second copy.
	before := ts.blobFiles(t, r.video.ID)
	resp := ts.putRaw(t, r.video.ID, 1, sum(r.seal[1]), r.seal[1])
	body := wantStatus(t, resp, http.StatusOK)
	if !strings.Contains(body, `"stored":true`) {
		t.Fatalf("duplicate put body %s", body)
	}
	if after := ts.blobFiles(t, r.video.ID); len(after) != len(before) || len(after) != 4 {
		t.Fatalf("blobs before %v after %v", before, after)
	}
	// Other bytes for a stored index: 409.
	other := sealSegment(t, r.key, r.id, 1, []byte("other"))
	wantErrorCode(t, ts.putRaw(t, r.video.ID, 1, sum(other), other), 409, api.CodeSHA256Conflict)

	st, err := ts.client.SegmentState(ctx, r.video.ID, 1)
	if err != nil || !st.Stored() || st.SHA256 != sum(r.seal[1]) {
		t.Fatalf("HEAD = %+v, %v", st, err)
	}
	status, err := ts.client.Video(ctx, r.video.ID)
	if err != nil || len(status.Segments) != 4 || status.Segments[0].Index != api.InitSegment {
		t.Fatalf("status = %+v, %v", status, err)
	}

	v := r.finalize(t, ts, 3)
	if v.State != api.StateReady || v.SegmentCount != 3 || !v.Init || v.Duration != 5.5 || v.ReadyAt == nil {
		t.Fatalf("finalized = %+v", v)
	}
	// Repeating finalize is harmless; changing it is not.
	r.finalize(t, ts, 3)
	changed := r.finalizeRequest(3)
	changed.SegmentDurations[0] = 3
	if _, err := ts.client.Finalize(ctx, r.video.ID, changed); !api.IsCode(err, api.CodeFinalized) {
		t.Fatalf("changed finalize: %v", err)
	}
	otherKey := r.finalizeRequest(3)
	k := seal.NewKey()
	otherKey.DataKey = k[:]
	if _, err := ts.client.Finalize(ctx, r.video.ID, otherKey); !api.IsCode(err, api.CodeFinalized) {
		t.Fatalf("finalize with another key: %v", err)
	}
	// Finalized videos take no new segments.
	r.add(t, 3, []byte("late"))
	wantErrorCode(t, ts.putRaw(t, r.video.ID, 3, sum(r.seal[3]), r.seal[3]), 409, api.CodeFinalized)

	resp, pl, _ := ts.get(t, "/v/"+slug+"/playlist.m3u8")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.apple.mpegurl" {
		t.Fatalf("playlist: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{"#EXT-X-MAP:URI=\"init.mp4\"", "#EXTINF:2.000000,\nseg/0.m4s", "seg/1.m4s", "#EXTINF:1.500000,\nseg/2.m4s", "#EXT-X-ENDLIST", "#EXT-X-PLAYLIST-TYPE:VOD"} {
		if !strings.Contains(string(pl), want) {
			t.Errorf("playlist lacks %q:\n%s", want, pl)
		}
	}
	for i, p := range map[api.SegmentIndex]string{api.InitSegment: "init.mp4", 0: "seg/0.m4s", 1: "seg/1.m4s", 2: "seg/2.m4s"} {
		resp, got, err := ts.get(t, "/v/"+slug+"/"+p)
		if err != nil || resp.StatusCode != 200 || !bytes.Equal(got, r.plain[i]) {
			t.Fatalf("GET %s: %d, %d bytes (want %d), %v", p, resp.StatusCode, len(got), len(r.plain[i]), err)
		}
	}
	for _, p := range []string{"seg/3.m4s", "seg/init.m4s", "seg/01.m4s", "seg/0.ts", "seg/-1.m4s"} {
		if resp, _, _ := ts.get(t, "/v/"+slug+"/"+p); resp.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
	resp, page, _ := ts.get(t, "/v/"+slug)
	if resp.StatusCode != 200 || !strings.Contains(string(page), `src="/static/hls.min.js"`) ||
		!strings.Contains(string(page), "Test &lt;b&gt;video&lt;/b&gt;") || !strings.Contains(string(page), "/v/"+slug+"/playlist.m3u8") {
		t.Fatalf("player page: %d\n%s", resp.StatusCode, page)
	}
	resp, js, _ := ts.get(t, "/static/hls.min.js")
	if resp.StatusCode != 200 || len(js) < 100000 {
		t.Fatalf("hls.min.js: %d, %d bytes", resp.StatusCode, len(js))
	}

	// Keys never reach the log, nor slugs.
	logs := ts.logs.String()
	if strings.Contains(logs, hex.EncodeToString(r.key[:])) || strings.Contains(logs, slug) {
		t.Fatal("a key or slug reached the log")
	}
	// Only the wrapped key is stored.
	db, _ := os.ReadFile(filepath.Join(ts.DataDir, "framecast.db"))
	wal, _ := os.ReadFile(filepath.Join(ts.DataDir, "framecast.db-wal"))
	if bytes.Contains(db, r.key[:]) || bytes.Contains(wal, r.key[:]) {
		t.Fatal("the data key is stored in the clear")
	}
}

func TestResumeAfterCut(t *testing.T) {
	ts := start(t)
	ctx := context.Background()
	r := newRecording(t, ts, 5*seal.ChunkSize)
	b := r.seal[0]
	cut := len(b) / 3

	// Nothing yet: HEAD is 404 and PATCH has nothing to resume.
	if _, err := ts.client.SegmentState(ctx, r.video.ID, 0); !api.IsCode(err, api.CodeNotFound) {
		t.Fatalf("HEAD before upload: %v", err)
	}
	if _, err := ts.client.PatchSegment(ctx, r.video.ID, 0, sum(b), int64(len(b)), 0, bytes.NewReader(b)); !api.IsCode(err, api.CodeNotFound) {
		t.Fatalf("PATCH before upload: %v", err)
	}

	// The connection dies a third of the way in.
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n%s: %s\r\n%s: %d\r\nContent-Length: %d\r\n\r\n",
		api.SegmentPath(r.video.ID, 0), ts.Token, api.HeaderSHA256, sum(b), api.HeaderUploadLength, len(b), len(b))
	conn.Write(b[:cut])
	time.Sleep(100 * time.Millisecond)
	conn.Close()

	var st api.UploadState
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err = ts.client.SegmentState(ctx, r.video.ID, 0)
		if err == nil && st.Offset == int64(cut) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("HEAD after cut = %+v, %v; want offset %d", st, err, cut)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st.Stored() || st.Length != int64(len(b)) || st.SHA256 != sum(b) {
		t.Fatalf("HEAD = %+v", st)
	}

	// A PATCH at the wrong offset is told the right one.
	resp := ts.do(t, "PATCH", api.SegmentPath(r.video.ID, 0), bytes.NewReader(b[cut+10:]), true,
		api.HeaderSHA256, sum(b), api.HeaderUploadLength, fmt.Sprint(len(b)), api.HeaderUploadOffset, fmt.Sprint(cut+10))
	if resp.Header.Get(api.HeaderUploadOffset) != fmt.Sprint(cut) {
		t.Errorf("offset mismatch answer has Upload-Offset %q", resp.Header.Get(api.HeaderUploadOffset))
	}
	wantErrorCode(t, resp, 409, api.CodeOffsetMismatch)

	// A partial PATCH, then the rest.
	mid := cut + seal.ChunkSize
	resp = ts.do(t, "PATCH", api.SegmentPath(r.video.ID, 0), bytes.NewReader(b[cut:mid]), true,
		api.HeaderSHA256, sum(b), api.HeaderUploadLength, fmt.Sprint(len(b)), api.HeaderUploadOffset, fmt.Sprint(cut))
	body := wantStatus(t, resp, 200)
	if !strings.Contains(body, fmt.Sprintf(`"offset":%d`, mid)) || !strings.Contains(body, `"stored":false`) {
		t.Fatalf("partial PATCH: %s", body)
	}
	seg, err := ts.client.PatchSegment(ctx, r.video.ID, 0, sum(b), int64(len(b)), int64(mid), bytes.NewReader(b[mid:]))
	if err != nil || !seg.Stored {
		t.Fatalf("final PATCH = %+v, %v", seg, err)
	}
	if staged := ts.blobFilesUnder(t, "uploads/"+r.video.ID); len(staged) != 0 {
		t.Fatalf("staged parts left: %v", staged)
	}

	r.put(t, ts, api.InitSegment)
	v := r.finalize(t, ts, 1)
	slug := strings.TrimPrefix(v.ShareURL, ts.URL+"/v/")
	resp2, got, err := ts.get(t, "/v/"+slug+"/seg/0.m4s")
	if err != nil || resp2.StatusCode != 200 || !bytes.Equal(got, r.plain[0]) {
		t.Fatalf("resumed segment does not play back byte-identical: %d %v", resp2.StatusCode, err)
	}
}

// TestTakeover: a new upload of a segment whose previous connection is
// still open (a network cut the server has not noticed) takes it over.
func TestTakeover(t *testing.T) {
	ts := start(t)
	r := newRecording(t, ts, 3*seal.ChunkSize)
	b := r.seal[0]
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n%s: %s\r\n%s: %d\r\nContent-Length: %d\r\n\r\n",
		api.SegmentPath(r.video.ID, 0), ts.Token, api.HeaderSHA256, sum(b), api.HeaderUploadLength, len(b), len(b))
	conn.Write(b[:20000])
	time.Sleep(200 * time.Millisecond) // the stale request holds the segment now

	start := time.Now()
	seg := r.put(t, ts, 0)
	if !seg.Stored || time.Since(start) > 2*time.Second {
		t.Fatalf("takeover: %+v after %v", seg, time.Since(start))
	}
	// The stale request was told it was interrupted (if the network ever
	// delivers it), and its connection closed.
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("stale upload: %v", err)
	}
	wantErrorCode(t, resp, 400, api.CodeUploadInterrupted)
	if !resp.Close {
		t.Fatal("the stale connection is kept open")
	}
}

func TestRefusedUploads(t *testing.T) {
	ts := start(t)
	ctx := context.Background()
	r := newRecording(t, ts, 2000)
	b := r.seal[0]

	// Announced hash does not match the bytes.
	tampered := bytes.Clone(b)
	tampered[len(tampered)-5] ^= 1
	wantErrorCode(t, ts.putRaw(t, r.video.ID, 0, sum(b), tampered), 422, api.CodeChecksumMismatch)
	if _, err := ts.client.SegmentState(ctx, r.video.ID, 0); !api.IsCode(err, api.CodeNotFound) {
		t.Fatalf("a refused upload left state: %v", err)
	}
	// Sealed for another index, or another recording, or not sealed.
	wrongIndex := sealSegment(t, r.key, r.id, 1, r.plain[0])
	wantErrorCode(t, ts.putRaw(t, r.video.ID, 0, sum(wrongIndex), wrongIndex), 422, api.CodeBadSeal)
	wrongRec := sealSegment(t, r.key, seal.NewRecordingID(), 0, r.plain[0])
	wantErrorCode(t, ts.putRaw(t, r.video.ID, 0, sum(wrongRec), wrongRec), 422, api.CodeBadSeal)
	junk := randomBytes(len(b))
	wantErrorCode(t, ts.putRaw(t, r.video.ID, 0, sum(junk), junk), 422, api.CodeBadSeal)
	impossible := randomBytes(seal.HeaderSize + 3) // shorter than one tag
	wantErrorCode(t, ts.putRaw(t, r.video.ID, 0, sum(impossible), impossible), 422, api.CodeBadSeal)
	// Missing or malformed headers.
	wantErrorCode(t, ts.do(t, "PUT", api.SegmentPath(r.video.ID, 0), bytes.NewReader(b), true), 400, api.CodeBadRequest)
	wantErrorCode(t, ts.putRaw(t, r.video.ID, 0, "abc", b), 400, api.CodeBadRequest)
	// Larger than the limit (checked before any byte is read), and no
	// length at all.
	wantErrorCode(t, ts.do(t, "PUT", api.SegmentPath(r.video.ID, 0), bytes.NewReader(b), true,
		api.HeaderSHA256, sum(b), api.HeaderUploadLength, fmt.Sprint(200<<20)), 413, api.CodeBodyTooLarge)
	wantErrorCode(t, ts.do(t, "PUT", api.SegmentPath(r.video.ID, 0), io.MultiReader(bytes.NewReader(b)), true,
		api.HeaderSHA256, sum(b)), 411, api.CodeLengthRequired)
	// Unknown video.
	wantErrorCode(t, ts.putRaw(t, strings.Repeat("a", 26), 0, sum(b), b), 404, api.CodeNotFound)
	if files := ts.blobFiles(t, r.video.ID); len(files) != 0 {
		t.Fatalf("refused uploads were stored: %v", files)
	}

	// The real one still goes through, and finalize insists on all segments
	// and the right key.
	r.put(t, ts, 0)
	if _, err := ts.client.Finalize(ctx, r.video.ID, r.finalizeRequest(1)); !api.IsCode(err, api.CodeSegmentsMissing) {
		t.Fatalf("finalize without init: %v", err)
	}
	r.put(t, ts, api.InitSegment)
	if _, err := ts.client.Finalize(ctx, r.video.ID, r.finalizeRequest(2)); !api.IsCode(err, api.CodeSegmentsMissing) {
		t.Fatalf("finalize with a missing segment: %v", err)
	}
	bad := r.finalizeRequest(1)
	k := seal.NewKey()
	bad.DataKey = k[:]
	if _, err := ts.client.Finalize(ctx, r.video.ID, bad); !api.IsCode(err, api.CodeWrongDataKey) {
		t.Fatalf("finalize with a wrong key: %v", err)
	}
	for _, f := range []api.FinalizeRequest{
		{SegmentCount: 0, DataKey: r.key[:]},
		{SegmentCount: 1, SegmentDurations: []float64{2, 2}, DataKey: r.key[:]},
		{SegmentCount: 1, SegmentDurations: []float64{-1}, DataKey: r.key[:]},
		{SegmentCount: 1, SegmentDurations: []float64{2}, DataKey: r.key[:5]},
	} {
		if _, err := ts.client.Finalize(ctx, r.video.ID, f); !api.IsCode(err, api.CodeBadRequest) {
			t.Errorf("finalize %+v: %v", f, err)
		}
	}
	r.finalize(t, ts, 1)
}

func TestTamperedAtRest(t *testing.T) {
	ts := start(t)
	r := newRecording(t, ts, 1000, 3*seal.ChunkSize)
	for _, i := range []api.SegmentIndex{api.InitSegment, 0, 1} {
		r.put(t, ts, i)
	}
	v := r.finalize(t, ts, 2)
	slug := strings.TrimPrefix(v.ShareURL, ts.URL+"/v/")
	flip := func(i api.SegmentIndex, at int) {
		t.Helper()
		p := filepath.Join(ts.DataDir, "blobs", "videos", r.video.ID, fmt.Sprintf("%s-%s", i, sum(r.seal[i])))
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b[at] ^= 0x40
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	// A flipped byte in the first chunk: refused before anything is sent.
	flip(0, seal.HeaderSize+10)
	resp, body, _ := ts.get(t, "/v/"+slug+"/seg/0.m4s")
	if resp.StatusCode != 500 || bytes.Contains(body, r.plain[0][:16]) {
		t.Fatalf("tampered segment served: %d", resp.StatusCode)
	}
	// In a later chunk: the stream stops short, and only authenticated
	// bytes (the chunks before) were sent.
	flip(1, seal.HeaderSize+2*(seal.ChunkSize+seal.TagSize)+7)
	resp, body, err := ts.get(t, "/v/"+slug+"/seg/1.m4s")
	if err == nil || len(body) >= len(r.plain[1]) || !bytes.Equal(body, r.plain[1][:len(body)]) {
		t.Fatalf("tampered later chunk: status %d, %d of %d bytes, err %v", resp.StatusCode, len(body), len(r.plain[1]), err)
	}
	// The untouched segment still plays.
	if resp, got, err := ts.get(t, "/v/"+slug+"/init.mp4"); err != nil || resp.StatusCode != 200 || !bytes.Equal(got, r.plain[api.InitSegment]) {
		t.Fatalf("init after tampering elsewhere: %d %v", resp.StatusCode, err)
	}
	logs := ts.logs.String()
	if !strings.Contains(logs, "video_id="+r.video.ID) || !strings.Contains(logs, "not serving it") {
		t.Fatalf("tampering not logged with the video id:\n%s", logs)
	}
	if strings.Contains(logs, hex.EncodeToString(r.key[:])) {
		t.Fatal("the key reached the log")
	}
}

func TestMalformedIDs(t *testing.T) {
	ts := start(t)
	r := newRecording(t, ts, 100)
	b := r.seal[0]
	for _, tc := range []struct {
		path string
		code string
	}{
		{"/api/v1/videos/..%2F..%2Fetc/segments/0", api.CodeInvalidID},
		{"/api/v1/videos/" + strings.ToUpper(r.video.ID) + "/segments/0", api.CodeInvalidID},
		{"/api/v1/videos/" + r.video.ID + "x/segments/0", api.CodeInvalidID},
		{"/api/v1/videos/" + r.video.ID + "/segments/..%2F..%2Fkek", api.CodeInvalidIndex},
		{"/api/v1/videos/" + r.video.ID + "/segments/-1", api.CodeInvalidIndex},
		{"/api/v1/videos/" + r.video.ID + "/segments/01", api.CodeInvalidIndex},
		{"/api/v1/videos/" + r.video.ID + "/segments/1000000", api.CodeInvalidIndex},
		{"/api/v1/videos/" + r.video.ID + "/segments/..", api.CodeInvalidIndex},
	} {
		resp := ts.do(t, "PUT", tc.path, bytes.NewReader(b), true, api.HeaderSHA256, sum(b), api.HeaderUploadLength, fmt.Sprint(len(b)))
		wantErrorCode(t, resp, 400, tc.code)
		resp = ts.do(t, "HEAD", tc.path, nil, true)
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("HEAD %s: %d", tc.path, resp.StatusCode)
		}
	}
	wantErrorCode(t, ts.do(t, "GET", "/api/v1/videos/%2e%2e", nil, true), 400, api.CodeInvalidID)
	if _, _, err := ts.client.CreateVideo(context.Background(), api.CreateVideoRequest{RecordingID: "../../etc"}); !api.IsCode(err, api.CodeBadRequest) {
		t.Fatalf("bad recording id: %v", err)
	}
	// Nothing escaped the data dir.
	entries, _ := os.ReadDir(filepath.Dir(ts.DataDir))
	if len(entries) != 1 {
		t.Fatalf("files beside the data dir: %v", entries)
	}
}

// TestHeadCommitsStagedUpload: the server stopped after the last byte of a
// segment arrived but before it was stored. HEAD stores it, so that
// Offset == Length always means stored.
func TestHeadCommitsStagedUpload(t *testing.T) {
	ts := start(t)
	ctx := context.Background()
	r := newRecording(t, ts, 3000)
	b := r.seal[0]
	// What a replica leaves when it stops between staging the last byte
	// and storing the segment.
	if err := ts.d.blobs.Put(ctx, fmt.Sprintf("uploads/%s/0/%s-%d", r.video.ID, sum(b), len(b)), bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	if err := ts.d.store.StartUpload(ctx, store.Upload{VideoID: r.video.ID, Index: 0, SHA256: sum(b), Length: int64(len(b)), UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := ts.d.store.AdvanceUpload(ctx, r.video.ID, 0, 0, int64(len(b)), time.Now()); err != nil {
		t.Fatal(err)
	}
	st, err := ts.client.SegmentState(ctx, r.video.ID, 0)
	if err != nil || !st.Stored() {
		t.Fatalf("HEAD = %+v, %v", st, err)
	}
	v, err := ts.client.Video(ctx, r.video.ID)
	if err != nil || len(v.Segments) != 1 || v.Segments[0].SHA256 != sum(b) {
		t.Fatalf("status = %+v, %v", v, err)
	}
	if staged := ts.blobFilesUnder(t, "uploads/"+r.video.ID); len(staged) != 0 {
		t.Fatalf("staged parts left: %v", staged)
	}
}
