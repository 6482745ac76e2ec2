package studio_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// An imported recording can be sent by e-mail once the server has its
// video: before, the studio says so; a bad address gets the server's own
// sentence; a good send reaches every recipient with the share link (the
// server writes its mail to the outbox folder when no SMTP server is set).
func TestSendByEmail(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // the server starts once the import waits offline
	dir := importEnv(t, "http://"+addr)
	s := open(t, dir, &events{})
	src := makeVideo(t, "demo.mp4", 2, "-c:v", "libx264", "-preset", "veryfast", "-g", "25", "-c:a", "aac")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := s.Import(ctx, src, "")
	if err != nil {
		t.Fatal(err)
	}
	id := r.ID.String()
	recs, err := s.Recordings(ctx)
	if err != nil || len(recs) != 1 || recs[0].OnServer {
		t.Fatalf("library while offline: %+v, %v", recs, err)
	}
	if _, err := s.SendVideo(ctx, id, []string{"ann@example.com"}, ""); err == nil || !strings.Contains(err.Error(), "not on the server yet") {
		t.Fatalf("send before the upload: %v", err)
	}

	data := t.TempDir()
	startServerIn(t, addr, data)
	link, err := s.WaitUploaded(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	recs, err = s.Recordings(ctx)
	if err != nil || len(recs) != 1 || !recs[0].OnServer {
		t.Fatalf("library once uploaded: %+v, %v", recs, err)
	}

	if _, err := s.SendVideo(ctx, id, []string{"ann@example.com", "not-an-address"}, ""); err == nil ||
		err.Error() != `"not-an-address" is not an e-mail address.` {
		t.Fatalf("send to a bad address: %v", err)
	}
	sent, err := s.SendVideo(ctx, id, []string{"ann@example.com", "Bob@Example.com"}, "  Here is the demo.  ")
	if err != nil {
		t.Fatal(err)
	}
	if sent.Sent != 2 || sent.Recording != id || len(sent.Unsubscribed) != 0 {
		t.Fatalf("send: %+v", sent)
	}

	// Only the good send mailed anyone: one mail per recipient, with the
	// note and the link (personal, with ?r=, only at level Full).
	outbox := filepath.Join(data, "mail-outbox")
	var mails []string
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		files, _ := filepath.Glob(filepath.Join(outbox, "*-video-sent-*.eml"))
		mails = mails[:0]
		for _, f := range files {
			b, _ := os.ReadFile(f)
			mails = append(mails, string(b))
		}
		if len(mails) >= 2 || time.Now().After(deadline) {
			break
		}
	}
	if len(mails) != 2 {
		t.Fatalf("%d mails in the outbox, want 2", len(mails))
	}
	to := map[string]bool{}
	for _, m := range mails {
		for _, rcpt := range []string{"ann@example.com", "bob@example.com"} {
			if strings.Contains(m, "To: <"+rcpt+">") || strings.Contains(m, "To: "+rcpt) {
				to[rcpt] = true
			}
		}
		if !strings.Contains(m, "Here is the demo.") || !strings.Contains(m, link) || !strings.Contains(m, "List-Unsubscribe") {
			t.Fatalf("mail lacks the note, the link %s or List-Unsubscribe:\n%s", link, m)
		}
		if strings.Contains(m, link+"?r=") != sent.Personal {
			t.Fatalf("personal %v, but the mail's link says otherwise:\n%s", sent.Personal, m)
		}
	}
	if len(to) != 2 {
		t.Fatalf("recipients mailed: %v", to)
	}
}
