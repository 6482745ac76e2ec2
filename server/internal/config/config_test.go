package config

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := Load(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	data := filepath.Join(wd, "data")
	if c.Listen != "127.0.0.1:8080" || c.BaseURL != "http://127.0.0.1:8080" || c.DataDir != data ||
		c.DatabaseURL != "sqlite:"+data+"/framecast.db" || c.BlobURL != "file://"+data+"/blobs" ||
		c.LogLevel != "info" || c.LogFormat != "text" || c.DeviceToken != "" || c.KEK != "" ||
		c.MaxBodyBytes != 1<<20 || c.MaxSegmentBytes != 128<<20 || c.ShutdownTimeout != 30*time.Second {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestFlagsWinOverEnv(t *testing.T) {
	c, err := Load([]string{"-listen", "127.0.0.1:1", "-log-format", "json"},
		env(map[string]string{"FRAMECAST_LISTEN": "127.0.0.1:2", "FRAMECAST_LOG_LEVEL": "debug", "FRAMECAST_LOG_FORMAT": "text",
			"FRAMECAST_DATA_DIR": "/srv/fc"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:1" || c.LogFormat != "json" || c.LogLevel != "debug" || c.DataDir != "/srv/fc" ||
		c.DatabaseURL != "sqlite:/srv/fc/framecast.db" {
		t.Fatalf("got %+v", c)
	}
}

func TestInvalid(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
	}{
		{[]string{"-listen", "nope"}, nil},
		{[]string{"-base-url", "ftp://x"}, nil},
		{[]string{"-log-level", "loud"}, nil},
		{[]string{"-max-body-bytes", "-1"}, nil},
		{[]string{"-database-url", "postgres://u:p@h/db"}, nil},
		{[]string{"-blob-url", "s3://bucket"}, nil},
		{[]string{"extra"}, nil},
		{nil, map[string]string{"FRAMECAST_KEK": "short"}},
		{nil, map[string]string{"FRAMECAST_DEVICE_TOKEN": "short"}},
		{[]string{"-device-token-user", "not an address"}, nil},
		{[]string{"-base-url", "http://framecast.example.com"}, nil}, // plain http only for loopback
		{[]string{"-smtp-port", "0"}, nil},
		{[]string{"-smtp-tls", "maybe"}, nil},
		{[]string{"-mail-from", "nobody"}, nil},
		{[]string{"-smtp-host", "mail.example.com"}, map[string]string{"FRAMECAST_SMTP_URL": "smtp://mail.example.com"}},
		{nil, map[string]string{"FRAMECAST_SMTP_PASSWORD": "pw"}},          // without a username
		{nil, map[string]string{"FRAMECAST_METRICS_TOKEN": "guessable"}},   // too short
		{[]string{"-metrics-token", "0123456789abcdef0123"}, nil},          // secrets are env-only
		{[]string{"-google-client-id", "id"}, nil},                         // without its secret
		{nil, map[string]string{"FRAMECAST_MICROSOFT_CLIENT_SECRET": "s"}}, // without its id
		{[]string{"-smtp-password", "pw"}, nil},                            // secrets are env-only
		{[]string{"-google-issuer", "accounts.google.com"}, nil},
		{[]string{"-trusted-proxies", "10.0.0.0/8,nonsense"}, nil},
		{[]string{"-device-token", strings.Repeat("x", 20)}, nil}, // secrets are env-only
	} {
		if _, err := Load(tc.args, env(tc.env), io.Discard); err == nil {
			t.Errorf("Load(%q, %v) succeeded", tc.args, tc.env)
		}
	}
}

func TestSecretErrorsRedact(t *testing.T) {
	_, err := Load(nil, env(map[string]string{"FRAMECAST_KEK": "supersecretbutwrong"}), io.Discard)
	if err == nil || strings.Contains(err.Error(), "supersecret") {
		t.Fatalf("error %v", err)
	}
}

func TestPrintRedacts(t *testing.T) {
	kek := strings.Repeat("0f", 32)
	c, err := Load(nil, env(map[string]string{"FRAMECAST_DEVICE_TOKEN": "a-long-device-token-value", "FRAMECAST_KEK": kek,
		"FRAMECAST_DEVICE_TOKEN_USER": "owner@example.com", "FRAMECAST_SMTP_URL": "smtp://u:smtp-secret@mail.example.com",
		"FRAMECAST_GOOGLE_CLIENT_ID": "gid", "FRAMECAST_GOOGLE_CLIENT_SECRET": "google-secret"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	c.Print(&b)
	out := b.String()
	for _, secret := range []string{"a-long-device-token-value", kek, "smtp-secret", "google-secret"} {
		if strings.Contains(out, secret) {
			t.Fatalf("Print shows a secret:\n%s", out)
		}
	}
	if strings.Count(out, "<redacted>") != 4 {
		t.Fatalf("Print:\n%s", out)
	}
	for _, s := range Settings {
		if !strings.Contains(out, s.Env+"=") {
			t.Errorf("Print lacks %s", s.Env)
		}
	}
}

func TestSettingsTable(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range Settings {
		if !strings.HasPrefix(s.Env, "FRAMECAST_") || s.Description == "" || s.Default == "" || seen[s.Env] {
			t.Errorf("bad setting %+v", s)
		}
		if s.Secret && s.Name != "" {
			t.Errorf("%s is secret but has a flag (flags show in ps)", s.Env)
		}
		seen[s.Env] = true
	}
}

func TestAccountSettings(t *testing.T) {
	c, err := Load([]string{"-base-url", "http://localhost:9000", "-smtp-host", "mail.example.com", "-smtp-username", "fc",
		"-google-client-id", "gid"}, env(map[string]string{"FRAMECAST_SMTP_PASSWORD": "pw", "FRAMECAST_GOOGLE_CLIENT_SECRET": "gs",
		"FRAMECAST_DEVICE_TOKEN": strings.Repeat("t", 20), "FRAMECAST_DEVICE_TOKEN_USER": "owner@example.com"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTPHost != "mail.example.com" || c.SMTPPort != 587 || c.SMTPTLS != "starttls" || c.SMTPPassword != "pw" ||
		!c.Google.Enabled() || c.Google.Issuer != "https://accounts.google.com" || c.Microsoft.Enabled() ||
		c.Microsoft.Issuer != "https://login.microsoftonline.com/common/v2.0" || c.DeviceTokenUser != "owner@example.com" {
		t.Fatalf("got %+v", c)
	}
	c, err = Load([]string{"-trusted-proxies", "10.0.0.1, 192.168.0.0/16,::1"}, env(nil), io.Discard)
	if err != nil || len(c.TrustedProxies) != 3 || c.TrustedProxies[0].String() != "10.0.0.1/32" || c.TrustedProxies[2].String() != "::1/128" {
		t.Fatalf("trusted proxies %v, %v", c.TrustedProxies, err)
	}
	for _, ok := range []string{"https://framecast.example.com", "http://127.0.0.1:8080", "http://[::1]:8080", "http://localhost"} {
		if _, err := Load([]string{"-base-url", ok}, env(nil), io.Discard); err != nil {
			t.Errorf("base URL %s: %v", ok, err)
		}
	}
}

func TestSchemePaths(t *testing.T) {
	for in, want := range map[string]string{
		"sqlite:///abs/f.db": "/abs/f.db", "sqlite:data/f.db": "data/f.db", "sqlite:/abs/f.db": "/abs/f.db",
	} {
		if got, err := SQLitePath(in); err != nil || got != want {
			t.Errorf("SQLitePath(%q) = %q, %v", in, got, err)
		}
	}
	if got, err := FilePath("file:///srv/blobs"); err != nil || got != "/srv/blobs" {
		t.Errorf("FilePath = %q, %v", got, err)
	}
}

// TestREADMEDocumentsEverySetting keeps the README's configuration table
// complete: a setting added here must be documented there.
func TestREADMEDocumentsEverySetting(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range Settings {
		if !strings.Contains(string(readme), "`"+s.Env+"`") {
			t.Errorf("README.md does not document %s", s.Env)
		}
		if s.Name != "" && !strings.Contains(string(readme), "`-"+s.Name+"`") {
			t.Errorf("README.md does not document the flag -%s", s.Name)
		}
	}
}

func TestScaleOutSettings(t *testing.T) {
	kek := strings.Repeat("0f", 32)
	pg := "postgres://framecast:pg-hunter2@db.internal:5432/framecast?sslmode=disable"
	s3 := "s3://media/fc?endpoint=127.0.0.1:7070&region=us-east-1&secure=false"
	c, err := Load(nil, env(map[string]string{
		"FRAMECAST_DATABASE_URL": pg, "FRAMECAST_BLOB_URL": s3, "FRAMECAST_KEK": kek,
		"FRAMECAST_S3_ACCESS_KEY": "access-AKIA", "FRAMECAST_S3_SECRET_KEY": "s3-hunter2",
	}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.DatabaseURL != pg || c.BlobURL != s3 || c.S3AccessKey != "access-AKIA" || c.S3SecretKey != "s3-hunter2" {
		t.Fatalf("got %+v", c)
	}
	var b strings.Builder
	c.Print(&b)
	out := b.String()
	for _, secret := range []string{"pg-hunter2", "s3-hunter2", "access-AKIA"} {
		if strings.Contains(out, secret) {
			t.Errorf("Print shows %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "FRAMECAST_DATABASE_URL=postgres://framecast:redacted@db.internal:5432/framecast?sslmode=disable") ||
		!strings.Contains(out, "FRAMECAST_BLOB_URL="+s3) {
		t.Errorf("Print:\n%s", out)
	}

	for _, tc := range []map[string]string{
		// Replicas must share the key-encryption key.
		{"FRAMECAST_DATABASE_URL": pg},
		// S3 needs its keys.
		{"FRAMECAST_BLOB_URL": s3},
		{"FRAMECAST_BLOB_URL": s3, "FRAMECAST_S3_ACCESS_KEY": "a"},
		{"FRAMECAST_BLOB_URL": "s3://x?endpoint=h:1", "FRAMECAST_S3_ACCESS_KEY": "a", "FRAMECAST_S3_SECRET_KEY": "b"},
		{"FRAMECAST_BLOB_URL": "s3://media?typo=1", "FRAMECAST_S3_ACCESS_KEY": "a", "FRAMECAST_S3_SECRET_KEY": "b"},
		{"FRAMECAST_DATABASE_URL": "postgres://u:pg-hunter2@/", "FRAMECAST_KEK": kek},
		{"FRAMECAST_DATABASE_URL": "mysql://u:pg-hunter2@h/db", "FRAMECAST_KEK": kek},
	} {
		_, err := Load(nil, env(tc), io.Discard)
		if err == nil {
			t.Errorf("Load(%v) succeeded", tc)
		} else if strings.Contains(err.Error(), "pg-hunter2") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}
