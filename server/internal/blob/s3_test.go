package blob_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"framecast.dev/server/internal/blob"
	"framecast.dev/server/internal/blob/blobtest"
	"framecast.dev/shared/testenv"
)

// openS3 connects to a fresh bucket on srv.
func openS3(t *testing.T, srv *testenv.S3Server, bucket string) *blob.S3 {
	t.Helper()
	loc, err := blob.ParseS3URL(srv.BucketURL(bucket))
	if err != nil {
		t.Fatal(err)
	}
	s, err := blob.NewS3(context.Background(), loc, blob.S3Credentials{AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestS3Contract(t *testing.T) {
	srv := testenv.S3(t)
	blobtest.Run(t, func(t *testing.T) blob.Store { return openS3(t, srv, srv.NewBucket(t)) })
}

func TestParseS3URL(t *testing.T) {
	good := map[string]blob.S3Location{
		"s3://media":                           {Bucket: "media", Endpoint: "s3.amazonaws.com", Secure: true},
		"s3://media/fc/prod/?region=eu-west-1": {Bucket: "media", Prefix: "fc/prod", Endpoint: "s3.amazonaws.com", Region: "eu-west-1", Secure: true},
		"s3://media?endpoint=127.0.0.1:9000&secure=false&region=us-east-1": {Bucket: "media", Endpoint: "127.0.0.1:9000", Region: "us-east-1"},
	}
	for in, want := range good {
		got, err := blob.ParseS3URL(in)
		if err != nil || got != want {
			t.Errorf("ParseS3URL(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{
		"s3://", "s3://UPPER", "s3://a", "s3://media?endpoint=", "s3://media?endpoint=http://x", "s3://media?secure=maybe",
		"s3://media?bucket=x", "s3://key:secret@media", "s3://media/../x", "file:///x",
	} {
		if _, err := blob.ParseS3URL(in); err == nil {
			t.Errorf("ParseS3URL(%q) succeeded", in)
		} else if strings.Contains(err.Error(), "secret") && strings.Contains(in, "secret") {
			t.Errorf("ParseS3URL(%q) error shows the secret: %v", in, err)
		}
	}
}

// TestS3Prefix: two stores in one bucket under different key prefixes see
// only their own objects, and keys come back without the prefix.
func TestS3Prefix(t *testing.T) {
	srv := testenv.S3(t)
	ctx := context.Background()
	cred := blob.S3Credentials{AccessKey: srv.AccessKey, SecretKey: srv.SecretKey}
	open := func(prefix string) blob.Store {
		u := strings.Replace(srv.URL(), srv.Bucket, srv.Bucket+"/"+prefix, 1)
		s, err := blob.Open(ctx, u, cred)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := open("tenant-a"), open("tenant-a2/x")
	if err := a.Put(ctx, "k/1", strings.NewReader("a")); err != nil {
		t.Fatal(err)
	}
	if err := b.Put(ctx, "k/1", strings.NewReader("b")); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for info, err := range a.List(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, info.Key)
	}
	if len(keys) != 1 || keys[0] != "k/1" {
		t.Fatalf("List under prefix = %q", keys)
	}
	rc, err := b.Get(ctx, "k/1")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if string(got) != "b" {
		t.Fatalf("Get = %q", got)
	}
	if _, err := os.Stat(filepath.Join(srv.Dir, srv.Bucket, "tenant-a", "k", "1")); err != nil {
		t.Fatalf("object not under its prefix: %v", err)
	}
}

func TestS3OpenFailsClearly(t *testing.T) {
	srv := testenv.S3(t)
	ctx := context.Background()
	cred := blob.S3Credentials{AccessKey: srv.AccessKey, SecretKey: srv.SecretKey}
	if _, err := blob.Open(ctx, srv.BucketURL("no-such-bucket"), cred); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing bucket: %v", err)
	}
	wrong := blob.S3Credentials{AccessKey: srv.AccessKey, SecretKey: "wrong-secret-value"}
	if _, err := blob.Open(ctx, srv.URL(), wrong); err == nil || strings.Contains(err.Error(), "wrong-secret-value") {
		t.Errorf("wrong secret: %v", err)
	}
	if _, err := blob.Open(ctx, srv.URL(), blob.S3Credentials{}); err == nil || !strings.Contains(err.Error(), "FRAMECAST_S3_ACCESS_KEY") {
		t.Errorf("no credentials: %v", err)
	}
}
