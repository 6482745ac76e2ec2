package daemon

import (
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"framecast.dev/server/internal/config"
	"framecast.dev/server/internal/store/storetest"
	"framecast.dev/shared/seal"
	"framecast.dev/shared/testenv"
)

// TestScaleOutBackendsReady: a server on PostgreSQL and S3 is ready while
// both answer, and says which one does not.
func TestScaleOutBackendsReady(t *testing.T) {
	s3 := testenv.S3(t)
	kek := seal.NewKey()
	ts := start(t, func(c *config.Config) {
		c.DatabaseURL = storetest.URL(t, storetest.Postgres)
		c.BlobURL = s3.URL()
		c.S3AccessKey, c.S3SecretKey = s3.AccessKey, s3.SecretKey
		c.KEK = hex.EncodeToString(kek[:])
	})
	body := wantStatus(t, ts.do(t, "GET", "/readyz", nil, false), http.StatusOK)
	if !strings.Contains(body, `"blobs":"ok"`) || !strings.Contains(body, `"database":"ok"`) {
		t.Fatalf("readyz body %s", body)
	}
	s3.Stop()
	body = wantStatus(t, ts.do(t, "GET", "/readyz", nil, false), http.StatusServiceUnavailable)
	if !strings.Contains(body, `"blobs":"not answering"`) || strings.Contains(body, s3.Endpoint) {
		t.Fatalf("readyz body with S3 down: %s", body)
	}
}
