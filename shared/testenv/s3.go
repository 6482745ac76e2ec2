package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// S3Server is a running versitygw: a real S3 server (posix backend) on a
// loopback port, serving buckets from a temporary folder.
type S3Server struct {
	Endpoint  string // host:port, plain HTTP
	Region    string
	AccessKey string
	SecretKey string
	Bucket    string // a fresh, empty bucket made for the caller
	Dir       string // the posix backend's root; each bucket is a folder in it
	cmd       *exec.Cmd
	exited    chan struct{} // closed once cmd.Wait returned; Wait must run only once
}

// URL is the FRAMECAST_BLOB_URL that names the server's bucket.
func (s *S3Server) URL() string { return s.BucketURL(s.Bucket) }

// BucketURL is the FRAMECAST_BLOB_URL of another bucket on this server.
func (s *S3Server) BucketURL(bucket string) string {
	q := url.Values{"endpoint": {s.Endpoint}, "region": {s.Region}, "secure": {"false"}}
	return "s3://" + bucket + "?" + q.Encode()
}

// NewBucket makes another empty bucket. The posix backend treats every
// folder in its root as a bucket, so making one needs no S3 client (and
// shared/ stays free of one).
func (s *S3Server) NewBucket(t testing.TB) string {
	t.Helper()
	name := "fc-" + randomHex(6)
	if err := os.Mkdir(filepath.Join(s.Dir, name), 0o700); err != nil {
		t.Fatalf("s3: make bucket: %v", err)
	}
	return name
}

// Stop ends the server. Tests need not call it: S3 registers it as cleanup.
func (s *S3Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// VersityGW is the S3 server the tests run; `make setup` installs it into
// $(go env GOPATH)/bin.
const VersityGW = "versitygw"

// S3 starts versitygw with a fresh bucket and stops it when the test ends.
// It fails the test when versitygw is not installed.
func S3(t testing.TB) *S3Server {
	t.Helper()
	s, err := StartS3(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// StartS3 is S3 for programs that are not tests: dir (empty or missing)
// becomes the backend's root. The caller must call Stop.
func StartS3(dir string) (*S3Server, error) {
	bin, err := versityGW()
	if err != nil {
		return nil, err
	}
	s := &S3Server{Region: "us-east-1", AccessKey: "fctest" + randomHex(6), SecretKey: randomHex(20),
		Bucket: "fc-" + randomHex(6), Dir: dir}
	if err := os.MkdirAll(filepath.Join(dir, s.Bucket), 0o700); err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	// The port is picked by the kernel and handed over; if another
	// process grabs it in between, try again with another.
	var lastErr error
	for range 3 {
		if lastErr = s.start(bin); lastErr == nil {
			return s, nil
		}
	}
	return nil, lastErr
}

func (s *S3Server) start(bin string) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("s3: pick a port: %w", err)
	}
	s.Endpoint = ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "--port", s.Endpoint, "posix", s.Dir)
	// The root credentials go by environment, not argv, where ps shows them.
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+s.AccessKey, "ROOT_SECRET_KEY="+s.SecretKey)
	var out LockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("s3: start versitygw: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-exited:
			return fmt.Errorf("s3: versitygw exited at start:\n%s", tail(out.String(), 2000))
		default:
		}
		if c, err := net.DialTimeout("tcp", s.Endpoint, 200*time.Millisecond); err == nil {
			c.Close()
			s.cmd, s.exited = cmd, exited
			return nil
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("s3: versitygw did not listen on %s within 15s:\n%s", s.Endpoint, tail(out.String(), 2000))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// versityGW finds versitygw in PATH or where `go install` puts it.
func versityGW() (string, error) {
	if p, err := exec.LookPath(VersityGW); err == nil {
		return p, nil
	}
	var candidates []string
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		candidates = append(candidates, filepath.Join(gobin, VersityGW))
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, dir := range filepath.SplitList(string(trimNL(out))) {
			candidates = append(candidates, filepath.Join(dir, "bin", VersityGW))
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		candidates = append(candidates, filepath.Join(home, "go", "bin", VersityGW))
	}
	for _, p := range candidates {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s is required but was not found in PATH or $(go env GOPATH)/bin; run `make setup`", VersityGW)
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
