package daemon

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"framecast.dev/server/internal/account"
	"framecast.dev/server/internal/config"
	"framecast.dev/server/internal/mail/mailtest"
	"framecast.dev/server/internal/store/storetest"
	"framecast.dev/shared/api"
	"framecast.dev/shared/seal"
	"framecast.dev/shared/testenv"
)

// TestErasure deletes a video and then a whole account through the pages,
// and then walks every table of the schema (found from the database
// itself, so tables added later are searched too) and the whole blob
// store, looking for anything of theirs. It runs on SQLite with the disk
// store and on PostgreSQL with S3; the first hands the user's videos in a
// shared library over to the workspace, the second deletes them.
func TestErasure(t *testing.T) {
	testenv.Require(t, "ffmpeg")
	rec := recordHLS(t, 4.5, 320, 240)
	for _, tc := range []struct {
		name, shared string
		edit         func(*config.Config)
	}{
		{"sqlite+disk", account.SharedToWorkspace, func(*config.Config) {}},
		{"postgres+s3", account.SharedDelete, func(c *config.Config) {
			s3 := testenv.S3(t)
			kek := seal.NewKey()
			c.DatabaseURL = storetest.URL(t, storetest.Postgres)
			c.BlobURL = s3.URL()
			c.S3AccessKey, c.S3SecretKey = s3.AccessKey, s3.SecretKey
			c.KEK = hex.EncodeToString(kek[:])
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { testErasure(t, rec, tc.shared, tc.edit) })
	}
}

func testErasure(t *testing.T, rec hlsRecording, shared string, edit func(*config.Config)) {
	clk := newClock()
	// Mail retries come quickly, so a mail queued during an SMTP outage
	// would arrive within the test if the deletion had left it queued.
	smtp := mailtest.Start(t)
	ts := startWith(t, []Option{WithClock(clk.Now), withMailBackoff(300 * time.Millisecond)},
		func(c *config.Config) { c.SMTPURL = smtp.URL() }, edit)
	ctx := context.Background()

	// Bob owns a workspace and invites the subject, who has a workspace
	// of their own too.
	bob := signUp(t, ts, smtp, "Bob Keeper", "bob@example.com")
	a := bob.post("/workspaces", url.Values{"name": {"Shared Co"}})
	wantRedirect(t, a, "/w/")
	ws := workspaceID(t, a.Location)
	wantRedirect(t, bob.post("/w/"+ws+"/invitations", url.Values{"email": {"Zeb.Quill@Example.com"}, "role": {"member"}}), "/w/"+ws+"?notice=invited")
	invite := smtp.WaitFor(t, "Zeb.Quill@Example.com", "invited you").Link(t, "/invite/")

	zeb := signUp(t, ts, smtp, "Zebediah Quillfeather", "Zeb.Quill@Example.com")
	wantRedirect(t, zeb.post("/profile", url.Values{"name": {"Zebediah Quillfeather"}, "email": {"Zeb.Quill@Example.com"},
		"phone": {"+41 79 555 01 23"}, "company": {"Featherworks"}}), "/profile?notice=saved")
	wantRedirect(t, zeb.post(invite, nil), "/w/"+ws+"?notice=joined")
	a = zeb.post("/workspaces", url.Values{"name": {"Quillfeather Labs"}})
	wantRedirect(t, a, "/w/")
	ownWS := workspaceID(t, a.Location)
	wantRedirect(t, zeb.upload("/profile/photo", "photo", "me.png", pngBytes(t, 16)), "/profile?notice=photo-saved")
	// Rate-limit counters keyed by the address and the id.
	want(t, newBrowser(t, ts.URL).post("/signin", url.Values{"email": {"zeb.quill@example.com"}, "password": {"not the password"}}), http.StatusUnauthorized)
	wantRedirect(t, newBrowser(t, ts.URL).post("/reset", url.Values{"email": {"zeb.quill@example.com"}}), "/reset?notice=reset-sent")
	smtp.WaitFor(t, "Zeb.Quill@Example.com", "Reset your Framecast password")

	app, _ := signInDevice(t, ts, clk, zeb, "zeb-laptop")
	// A processed and trimmed video, deleted on its own first.
	first := rec.uploadWith(t, app, "Take one")
	ts.waitJobs(t, first.ID, 90*time.Second)
	wantRedirect(t, zeb.post("/videos/"+first.ID+"/trim", url.Values{"start": {"0.5"}, "end": {"3.5"}}), "/videos/"+first.ID+"?notice=trim-queued")
	waitTrimmed(t, ts, first.ID)
	ts.waitJobs(t, first.ID, 90*time.Second)
	// A video in Bob's shared library, one in the subject's own
	// workspace, and an upload abandoned half-way (staged bytes only).
	inShared := rec.uploadWith(t, app, "Quarterly numbers")
	wantRedirect(t, zeb.post("/videos/"+inShared.ID+"/move", url.Values{"to": {ws}}), "/library?notice=moved")
	inOwn := rec.uploadWith(t, app, "Own workspace video")
	wantRedirect(t, zeb.post("/videos/"+inOwn.ID+"/move", url.Values{"to": {ownWS}}), "/library?notice=moved")
	partial := newRecordingWith(t, app, 3*seal.ChunkSize)
	b := partial.seal[0]
	cut := seal.ChunkSize + 100
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n%s: %s\r\n%s: %d\r\nContent-Length: %d\r\n\r\n",
		api.SegmentPath(partial.video.ID, 0), app.Token, api.HeaderSHA256, sum(b), api.HeaderUploadLength, len(b), len(b))
	conn.Write(b[:cut])
	time.Sleep(100 * time.Millisecond)
	conn.Close()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if st, err := app.SegmentState(ctx, partial.video.ID, 0); err == nil && st.Offset == int64(cut) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the cut-off upload was not staged")
		}
	}
	if len(ts.blobFilesUnder(t, "uploads/"+partial.video.ID)) == 0 {
		t.Fatal("the abandoned upload staged nothing; the test would prove nothing")
	}
	ts.waitJobs(t, inShared.ID, 90*time.Second)
	ts.waitJobs(t, inOwn.ID, 90*time.Second)
	// Viewers' analytics at the Full level: per-view rows, daily counts.
	wantRedirect(t, zeb.post("/analytics", url.Values{"tracking": {"full"}}), "/analytics")
	for _, v := range []api.Video{first, inShared, inOwn} {
		beacon(t, v, `{"view":"0123456789abcdef0123456789abcdef","k":"start","r":"news.example.com"}`)
	}
	waitRows(t, ts, "track_views", first.ID)
	// A data export, sealed in the blob store, with a privacy log entry.
	wantRedirect(t, zeb.post("/privacy/export", nil), "/privacy?notice=export-requested")
	smtp.WaitFor(t, "Zeb.Quill@Example.com", "Your Framecast data export is ready")
	if len(ts.blobFilesUnder(t, "exports/"+zeb.ID)) != 1 {
		t.Fatal("no export stored; the test would prove nothing")
	}

	// 1. Deleting one video leaves nothing of it.
	firstV, err := ts.d.store.Video(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantRedirect(t, zeb.post("/videos/"+first.ID+"/delete", url.Values{"confirm": {"delete"}}), "/videos?notice=video-deleted")
	want(t, newBrowser(t, ts.URL).get("/v/"+firstV.Slug), http.StatusNotFound)
	sweep(t, ts, []string{first.ID, firstV.Slug, firstV.RecordingID}, nil)
	want(t, zeb.get("/privacy"), http.StatusOK, "You deleted a video, with its files and its viewers&#39; analytics.")

	// 2. Deleting the account: it asks about the video in Bob's library.
	u, err := ts.d.store.User(ctx, zeb.ID)
	if err != nil {
		t.Fatal(err)
	}
	needles := []string{u.ID, u.EmailNorm, u.Name, "Quillfeather", u.Phone, u.Company, partial.video.ID, inOwn.ID, inOwn.RecordingID, slugOf(inOwn), ownWS}
	needles = append(needles, account.UserLimitKeys(u)...)
	devs, err := ts.d.store.Devices(ctx, u.ID)
	if err != nil || len(devs) != 1 {
		t.Fatalf("devices %+v %v", devs, err)
	}
	needles = append(needles, devs[0].ID, devs[0].TokenHash)
	needles = append(needles, columnValues(t, ts, "SELECT token_hash FROM sessions WHERE user_id = ?", u.ID)...)
	needles = append(needles, columnValues(t, ts, "SELECT id FROM sign_ins WHERE user_id = ?", u.ID)...)
	survivors := []string{"users/" + bob.ID + "/"}
	if shared == account.SharedDelete {
		needles = append(needles, inShared.ID, slugOf(inShared))
	} else {
		survivors = append(survivors, "videos/"+inShared.ID+"/")
	}
	want(t, zeb.get("/profile"), http.StatusOK, "You have 1 video in shared workspace libraries", `name="shared" value="workspace"`)
	want(t, zeb.post("/profile/delete", url.Values{"confirm": {testPassword}}), http.StatusBadRequest, "Choose what happens to your 1 videos")
	if _, err := ts.d.store.User(ctx, u.ID); err != nil {
		t.Fatal("a refused deletion deleted the user")
	}
	// A mail for them waits in the queue while the SMTP server is down;
	// their finished mail jobs are in the jobs table too.
	smtp.Stop()
	wantRedirect(t, newBrowser(t, ts.URL).post("/reset", url.Values{"email": {"zeb.quill@example.com"}}), "/reset?notice=reset-sent")
	waitMailAttemptFailed(t, ts, u.ID)
	resets := mailsAbout(smtp, "Zeb.Quill@Example.com", "Reset your Framecast password")
	if len(columnValuesMaybe(t, ts, "SELECT id FROM jobs WHERE user_id = ? AND state = 'done'", u.ID)) == 0 {
		t.Fatal("no finished mail job of the account; the test would prove nothing")
	}
	wantRedirect(t, zeb.post("/profile/delete", url.Values{"confirm": {testPassword}, "shared": {shared}}), "/signin?notice=account-deleted")
	if n := len(columnValuesMaybe(t, ts, "SELECT id FROM jobs WHERE user_id = ?", u.ID)); n != 0 {
		t.Errorf("%d jobs of the deleted account are left", n)
	}
	// Back up, the SMTP server gets nothing for the deleted account over
	// several retry periods.
	smtp.Restart(t)
	time.Sleep(2 * time.Second)
	if n := mailsAbout(smtp, "Zeb.Quill@Example.com", "Reset your Framecast password"); n != resets {
		t.Errorf("%d reset mails reached the deleted account's address after the deletion", n-resets)
	}

	// Signed out everywhere, the device token revoked, the address free.
	wantRedirect(t, zeb.get("/profile"), "/signin")
	if _, err := app.Me(ctx); !api.IsCode(err, api.CodeUnauthorized) {
		t.Fatalf("the device token survived: %v", err)
	}
	got, err := ts.d.store.Video(ctx, inShared.ID)
	switch {
	case shared == account.SharedToWorkspace && (err != nil || got.OwnerID != bob.ID || got.WorkspaceID != ws):
		t.Fatalf("the video left to the workspace: %+v, %v", got, err)
	case shared == account.SharedDelete && err == nil:
		t.Fatal("the shared video was to be deleted")
	}
	want(t, bob.get("/w/"+ws), http.StatusOK, "Shared Co")
	sweep(t, ts, needles, survivors)
	// No scratch copy (a processing or export work file) is left either.
	filepath.WalkDir(filepath.Join(ts.DataDir, "work"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			t.Errorf("scratch file left: %s", path)
		}
		return nil
	})
	// (After the sweep: any attempt counts against the address again.)
	want(t, newBrowser(t, ts.URL).post("/signin", url.Values{"email": {"zeb.quill@example.com"}, "password": {testPassword}}), http.StatusUnauthorized)
}

// waitMailAttemptFailed waits until a mail job of the user has failed an
// attempt (the SMTP server is down) and waits to be retried.
func waitMailAttemptFailed(t *testing.T, ts *testServer, userID string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		for _, id := range columnValuesMaybe(t, ts, "SELECT id FROM jobs WHERE user_id = ? AND state IN ('queued', 'running') AND last_error <> ''", userID) {
			if j, err := ts.d.store.Job(t.Context(), id); err == nil && j.Kind == account.JobMail {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no mail of the account failed an attempt while SMTP was down; the test would prove nothing")
		}
	}
}

// mailsAbout counts the mails received to an address about subject.
func mailsAbout(smtp *mailtest.Server, to, subject string) int {
	n := 0
	for _, m := range smtp.Messages() {
		for _, rcpt := range m.To {
			if strings.EqualFold(rcpt, to) && strings.Contains(m.Subject, subject) {
				n++
			}
		}
	}
	return n
}

// beacon sends one viewer event, as the share page does.
func beacon(t *testing.T, v api.Video, body string) {
	t.Helper()
	resp, err := http.Post(v.ShareURL+"/events", "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, resp, http.StatusNoContent)
}

// waitRows waits until table holds a row about the video (the event
// batcher writes within about a second).
func waitRows(t *testing.T, ts *testServer, table, videoID string) {
	t.Helper()
	db := ts.d.store.(interface{ DB() *sql.DB }).DB()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var n int
		if err := db.QueryRow("SELECT count(*) FROM "+table+" WHERE video_id = ?", videoID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s rows about %s; the test would prove nothing", table, videoID)
		}
	}
}

// slugOf is the last element of the video's share link.
func slugOf(v api.Video) string { return v.ShareURL[strings.LastIndex(v.ShareURL, "/")+1:] }

// waitTrimmed waits for the video's trim to exist.
func waitTrimmed(t *testing.T, ts *testServer, id string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		if _, err := ts.d.store.Trim(context.Background(), id); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the trim did not finish")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func columnValues(t *testing.T, ts *testServer, query string, args ...any) []string {
	t.Helper()
	out := columnValuesMaybe(t, ts, query, args...)
	if len(out) == 0 {
		t.Fatalf("%s found nothing; the test would prove nothing", query)
	}
	return out
}

// columnValuesMaybe is columnValues that may find nothing.
func columnValuesMaybe(t *testing.T, ts *testServer, query string, args ...any) []string {
	t.Helper()
	rows, err := ts.d.store.(interface{ DB() *sql.DB }).DB().Query(query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// sweep searches every column of every table, every blob key and every
// file name in the data dir for the needles (case-insensitively). Blobs
// must also each belong to a survivor prefix, so a leftover under a name
// the test did not think of is caught too (only when survivors is not
// nil).
func sweep(t *testing.T, ts *testServer, needles []string, survivors []string) {
	t.Helper()
	for i, n := range needles {
		if n == "" {
			t.Fatalf("needle %d is empty", i)
		}
		needles[i] = strings.ToLower(n)
	}
	found := func(where, s string) {
		s = strings.ToLower(s)
		for _, n := range needles {
			if strings.Contains(s, n) {
				t.Errorf("%s still holds %q: %s", where, n, clip(s))
			}
		}
	}
	db := ts.d.store.(interface{ DB() *sql.DB }).DB()
	for _, table := range schemaTables(t, db) {
		rows, err := db.Query("SELECT * FROM " + table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		n := 0
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				s := fmt.Sprint(v)
				if b, ok := v.([]byte); ok {
					s = string(b)
				}
				found(table+"."+cols[i], s)
			}
			n++
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	for info, err := range ts.d.blobs.List(context.Background(), "") {
		if err != nil {
			t.Fatal(err)
		}
		found("blob key", info.Key)
		if survivors == nil {
			continue
		}
		ok := false
		for _, p := range survivors {
			ok = ok || strings.HasPrefix(info.Key, p)
		}
		if !ok {
			t.Errorf("blob %s belongs to nobody left", info.Key)
		}
	}
	filepath.WalkDir(ts.DataDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil {
			found("data dir", path)
		}
		return nil
	})
}

// schemaTables lists the tables of the database, from the database.
func schemaTables(t *testing.T, db *sql.DB) []string {
	t.Helper()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`
	var one int
	if db.QueryRow(`SELECT 1 FROM sqlite_master LIMIT 1`).Scan(&one) != nil {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`
	}
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		out = append(out, s)
	}
	if len(out) < 15 {
		t.Fatalf("found only tables %v", out)
	}
	return out
}
