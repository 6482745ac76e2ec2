package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"
)

// S3Location is what an s3:// blob URL names:
// s3://BUCKET[/PREFIX]?endpoint=HOST:PORT&region=REGION&secure=false.
type S3Location struct {
	Bucket   string
	Prefix   string // key prefix inside the bucket, without slashes at either end; may be empty
	Endpoint string // host[:port]; s3.amazonaws.com when the URL names none
	Region   string // empty: asked of the server
	Secure   bool   // HTTPS; true unless secure=false
}

// ParseS3URL parses an s3:// blob URL. Credentials never travel in the URL
// (it is printed by -print-config and lands in logs); they come from
// FRAMECAST_S3_ACCESS_KEY and FRAMECAST_S3_SECRET_KEY.
func ParseS3URL(raw string) (S3Location, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" {
		return S3Location{}, fmt.Errorf("want s3://BUCKET[/PREFIX]?endpoint=HOST:PORT&region=REGION&secure=false")
	}
	if u.User != nil {
		return S3Location{}, errors.New("put the S3 keys in FRAMECAST_S3_ACCESS_KEY and FRAMECAST_S3_SECRET_KEY, not in the URL")
	}
	loc := S3Location{Bucket: u.Host, Prefix: strings.Trim(u.Path, "/"), Endpoint: "s3.amazonaws.com", Secure: true}
	if err := s3utils.CheckValidBucketNameStrict(loc.Bucket); err != nil {
		return S3Location{}, fmt.Errorf("bucket %q: %v", loc.Bucket, err)
	}
	if loc.Prefix != "" {
		if err := ValidKey(loc.Prefix); err != nil {
			return S3Location{}, fmt.Errorf("key prefix %q: %v", loc.Prefix, err)
		}
	}
	for k, vs := range u.Query() {
		v := vs[len(vs)-1]
		switch k {
		case "endpoint":
			if v == "" || strings.Contains(v, "/") {
				return S3Location{}, fmt.Errorf("endpoint %q: want host or host:port", v)
			}
			loc.Endpoint = v
		case "region":
			loc.Region = v
		case "secure":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return S3Location{}, fmt.Errorf("secure=%q: want true or false", v)
			}
			loc.Secure = b
		default:
			return S3Location{}, fmt.Errorf("unknown parameter %q (known: endpoint, region, secure)", k)
		}
	}
	return loc, nil
}

// S3Credentials are the keys an S3 store signs its requests with.
type S3Credentials struct {
	AccessKey string
	SecretKey string
}

// S3 is a Store in an S3 bucket (AWS S3, MinIO, versitygw, ...). S3 makes
// an object visible only once its upload has completed, which gives Put
// its atomicity; a failed multipart upload is aborted so no parts linger.
type S3 struct {
	client *minio.Client
	bucket string
	prefix string // "" or ends in "/"
	loc    S3Location
}

var _ Store = (*S3)(nil)

// Objects up to this size are buffered and sent in one PUT; larger ones
// go up in parts of this size, so memory per Put stays bounded.
const s3PartSize = 16 << 20

// NewS3 connects to the bucket loc names and checks that it exists, so a
// misconfiguration shows at start-up rather than at the first upload.
func NewS3(ctx context.Context, loc S3Location, cred S3Credentials) (*S3, error) {
	if cred.AccessKey == "" || cred.SecretKey == "" {
		return nil, errors.New("s3 blob store: FRAMECAST_S3_ACCESS_KEY and FRAMECAST_S3_SECRET_KEY are required")
	}
	client, err := minio.New(loc.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cred.AccessKey, cred.SecretKey, ""),
		Secure: loc.Secure,
		Region: loc.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("s3 blob store %s: %w", loc.Endpoint, err)
	}
	s := &S3{client: client, bucket: loc.Bucket, loc: loc}
	if loc.Prefix != "" {
		s.prefix = loc.Prefix + "/"
	}
	ok, err := client.BucketExists(ctx, loc.Bucket)
	if err != nil {
		return nil, fmt.Errorf("s3 blob store: bucket %s at %s: %w", loc.Bucket, loc.Endpoint, err)
	}
	if !ok {
		return nil, fmt.Errorf("s3 blob store: bucket %s does not exist at %s; create it first", loc.Bucket, loc.Endpoint)
	}
	return s, nil
}

// Location is where the store keeps its objects.
func (s *S3) Location() S3Location { return s.loc }

func (s *S3) object(key string) (string, error) {
	if err := ValidKey(key); err != nil {
		return "", err
	}
	return s.prefix + key, nil
}

func (s *S3) Put(ctx context.Context, key string, r io.Reader) error {
	name, err := s.object(key)
	if err != nil {
		return fmt.Errorf("put blob: %w", err)
	}
	r = ctxReader{ctx, r}
	size := int64(-1)
	if n, ok := remaining(r); ok {
		size = n
	} else {
		// Read ahead one part: a small object (the usual segment) then
		// goes up in a single PUT instead of a three-request multipart
		// upload.
		var buf bytes.Buffer
		n, err := io.CopyN(&buf, r, s3PartSize+1)
		if err != nil && err != io.EOF {
			return fmt.Errorf("put blob %s: %w", key, err)
		}
		if n <= s3PartSize {
			size = n
			r = bytes.NewReader(buf.Bytes())
		} else {
			r = io.MultiReader(&buf, r)
		}
	}
	_, err = s.client.PutObject(ctx, s.bucket, name, r, size, minio.PutObjectOptions{
		ContentType: "application/octet-stream",
		PartSize:    s3PartSize,
	})
	if err != nil {
		return fmt.Errorf("put blob %s: %w", key, err)
	}
	return nil
}

// remaining reports how many bytes r will yield, when r can tell.
func remaining(r io.Reader) (int64, bool) {
	switch v := r.(type) {
	case ctxReader:
		return remaining(v.r)
	case interface{ Len() int }:
		return int64(v.Len()), true
	case *os.File:
		fi, err := v.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return 0, false
		}
		off, err := v.Seek(0, io.SeekCurrent)
		if err != nil || off > fi.Size() {
			return 0, false
		}
		return fi.Size() - off, true
	}
	return 0, false
}

func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	name, err := s.object(key)
	if err != nil {
		return nil, fmt.Errorf("get blob: %w", err)
	}
	// Core.GetObject sends the request now, so a missing object is an
	// error here rather than at the first Read.
	rc, _, _, err := minio.Core{Client: s.client}.GetObject(ctx, s.bucket, name, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("get blob %s: %w", key, s3Error(err))
	}
	return rc, nil
}

func (s *S3) Stat(ctx context.Context, key string) (Info, error) {
	name, err := s.object(key)
	if err != nil {
		return Info{}, fmt.Errorf("stat blob: %w", err)
	}
	oi, err := s.client.StatObject(ctx, s.bucket, name, minio.StatObjectOptions{})
	if err != nil {
		return Info{}, fmt.Errorf("stat blob %s: %w", key, s3Error(err))
	}
	return Info{Key: key, Size: oi.Size, ModTime: oi.LastModified}, nil
}

func (s *S3) Delete(ctx context.Context, key string) error {
	name, err := s.object(key)
	if err != nil {
		return fmt.Errorf("delete blob: %w", err)
	}
	if err := s.client.RemoveObject(ctx, s.bucket, name, minio.RemoveObjectOptions{}); err != nil {
		if errors.Is(s3Error(err), ErrNotExist) {
			return nil
		}
		return fmt.Errorf("delete blob %s: %w", key, err)
	}
	return nil
}

func (s *S3) List(ctx context.Context, prefix string) iter.Seq2[Info, error] {
	return func(yield func(Info, error) bool) {
		if err := ValidPrefix(prefix); err != nil {
			yield(Info{}, fmt.Errorf("list blobs: %w", err))
			return
		}
		// Cancelling stops minio's listing goroutine when the caller
		// stops early.
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		for oi := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + prefix, Recursive: true}) {
			if oi.Err != nil {
				yield(Info{}, fmt.Errorf("list blobs %q: %w", prefix, oi.Err))
				return
			}
			key := strings.TrimPrefix(oi.Key, s.prefix)
			// Objects written by something else (a console, a
			// directory marker) are not ours to report.
			if ValidKey(key) != nil {
				continue
			}
			if !yield(Info{Key: key, Size: oi.Size, ModTime: oi.LastModified}, nil) {
				return
			}
		}
	}
}

// s3Error maps "no such object" answers onto ErrNotExist.
func s3Error(err error) error {
	resp := minio.ToErrorResponse(err)
	if resp.Code == minio.NoSuchKey || resp.StatusCode == http.StatusNotFound && resp.Code != minio.NoSuchBucket {
		return fmt.Errorf("%w (%v)", ErrNotExist, err)
	}
	return err
}
