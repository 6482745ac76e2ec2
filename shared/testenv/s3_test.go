package testenv

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestS3Answers(t *testing.T) {
	s := S3(t)
	// Anonymous requests are refused: the server is up and checks keys.
	resp, err := http.Get("http://" + s.Endpoint + "/" + s.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("anonymous GET: %d, want 403", resp.StatusCode)
	}
	other := s.NewBucket(t)
	for _, b := range []string{s.Bucket, other} {
		if fi, err := os.Stat(filepath.Join(s.Dir, b)); err != nil || !fi.IsDir() {
			t.Fatalf("bucket %s: %v", b, err)
		}
	}
	if u := s.URL(); !strings.HasPrefix(u, "s3://"+s.Bucket+"?") || !strings.Contains(u, "secure=false") {
		t.Fatalf("URL = %s", u)
	}
	s.Stop()
	if c, err := net.DialTimeout("tcp", s.Endpoint, time.Second); err == nil {
		c.Close()
		t.Fatal("versitygw still listens after Stop")
	}
}
