// Package config turns flags and FRAMECAST_* environment variables into the
// one Config the server runs with. Every setting is declared once, in
// Settings, so the flag set, the -print-config output and the README table
// cannot drift apart.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Version is the server's version, set at build time with
// -ldflags "-X framecast.dev/server/internal/config.Version=...".
var Version = "dev"

// Config is the effective configuration of one server process.
type Config struct {
	Listen          string
	BaseURL         string
	DataDir         string // absolute
	DatabaseURL     string
	BlobURL         string
	LogLevel        string // debug, info, warn, error
	LogFormat       string // text, json
	DeviceToken     string // empty: read or generated in DataDir by the daemon
	KEK             string // hex; empty: read or generated in DataDir by the daemon
	MaxBodyBytes    int64
	MaxSegmentBytes int64
	ShutdownTimeout time.Duration
	JobWorkers      int

	// PrintConfig asks main to print the configuration and exit.
	PrintConfig bool

	// sources records where each setting's value came from, for -print-config.
	sources map[string]string
}

// Setting describes one configuration knob.
type Setting struct {
	Name        string // flag name, without the dash; empty when there is no flag
	Env         string
	Default     string // as documented; may mention the data dir
	Description string
	Secret      bool // never printed, never accepted as a flag (flags show up in ps)

	get func(*Config) string
	set func(*Config, string) error
}

// Files kept in the data dir when the corresponding secret is not configured.
const (
	DeviceTokenFile = "device-token"
	KEKFile         = "kek"
)

// Settings is the table of every setting, in the order they are documented.
var Settings = []Setting{
	{
		Name: "listen", Env: "FRAMECAST_LISTEN", Default: "127.0.0.1:8080",
		Description: "Address (host:port) the HTTP server listens on.",
		get:         func(c *Config) string { return c.Listen },
		set: func(c *Config, v string) error {
			if _, _, err := net.SplitHostPort(v); err != nil {
				return fmt.Errorf("want host:port: %w", err)
			}
			c.Listen = v
			return nil
		},
	},
	{
		Name: "base-url", Env: "FRAMECAST_BASE_URL", Default: "http://127.0.0.1:8080",
		Description: "Public URL the server is reached at; share links are built from it.",
		get:         func(c *Config) string { return c.BaseURL },
		set: func(c *Config, v string) error {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return errors.New("want an absolute http(s) URL such as https://framecast.example.com")
			}
			c.BaseURL = strings.TrimRight(v, "/")
			return nil
		},
	},
	{
		Name: "data-dir", Env: "FRAMECAST_DATA_DIR", Default: "./data",
		Description: "Directory for the SQLite database, blobs, uploads in progress and generated secrets.",
		get:         func(c *Config) string { return c.DataDir },
		set: func(c *Config, v string) error {
			if v == "" {
				return errors.New("must not be empty")
			}
			abs, err := filepath.Abs(v)
			if err != nil {
				return err
			}
			c.DataDir = abs
			return nil
		},
	},
	{
		Name: "database-url", Env: "FRAMECAST_DATABASE_URL", Default: "sqlite:<data-dir>/framecast.db",
		Description: "Database: sqlite:PATH or sqlite:///ABSOLUTE/PATH (postgres:// is planned).",
		get:         func(c *Config) string { return c.DatabaseURL },
		set:         func(c *Config, v string) error { c.DatabaseURL = v; return nil },
	},
	{
		Name: "blob-url", Env: "FRAMECAST_BLOB_URL", Default: "file://<data-dir>/blobs",
		Description: "Where sealed segments are stored: file:PATH or file:///ABSOLUTE/PATH (s3:// is planned).",
		get:         func(c *Config) string { return c.BlobURL },
		set:         func(c *Config, v string) error { c.BlobURL = v; return nil },
	},
	{
		Name: "log-level", Env: "FRAMECAST_LOG_LEVEL", Default: "info",
		Description: "Log level: debug, info, warn or error.",
		get:         func(c *Config) string { return c.LogLevel },
		set: func(c *Config, v string) error {
			switch v {
			case "debug", "info", "warn", "error":
				c.LogLevel = v
				return nil
			}
			return errors.New("want debug, info, warn or error")
		},
	},
	{
		Name: "log-format", Env: "FRAMECAST_LOG_FORMAT", Default: "text",
		Description: "Log format: text or json.",
		get:         func(c *Config) string { return c.LogFormat },
		set: func(c *Config, v string) error {
			if v != "text" && v != "json" {
				return errors.New("want text or json")
			}
			c.LogFormat = v
			return nil
		},
	},
	{
		Env: "FRAMECAST_DEVICE_TOKEN", Default: "generated into <data-dir>/" + DeviceTokenFile,
		Description: "Bearer token desktop apps use for the sync API (placeholder until accounts). Environment only.",
		Secret:      true,
		get:         func(c *Config) string { return c.DeviceToken },
		set: func(c *Config, v string) error {
			if len(v) < 16 {
				return errors.New("must be at least 16 characters")
			}
			c.DeviceToken = v
			return nil
		},
	},
	{
		Env: "FRAMECAST_KEK", Default: "generated into <data-dir>/" + KEKFile,
		Description: "Key-encryption key (64 hex digits) wrapping each video's data key at rest. Environment only.",
		Secret:      true,
		get:         func(c *Config) string { return c.KEK },
		set: func(c *Config, v string) error {
			if len(v) != 64 || strings.Trim(strings.ToLower(v), "0123456789abcdef") != "" {
				return errors.New("want 64 hex digits (32 bytes)")
			}
			c.KEK = v
			return nil
		},
	},
	{
		Name: "max-body-bytes", Env: "FRAMECAST_MAX_BODY_BYTES", Default: "1048576",
		Description: "Largest request body accepted, except segment uploads.",
		get:         func(c *Config) string { return strconv.FormatInt(c.MaxBodyBytes, 10) },
		set:         func(c *Config, v string) error { return setSize(&c.MaxBodyBytes, v) },
	},
	{
		Name: "max-segment-bytes", Env: "FRAMECAST_MAX_SEGMENT_BYTES", Default: "134217728",
		Description: "Largest sealed segment accepted by the sync API.",
		get:         func(c *Config) string { return strconv.FormatInt(c.MaxSegmentBytes, 10) },
		set:         func(c *Config, v string) error { return setSize(&c.MaxSegmentBytes, v) },
	},
	{
		Name: "shutdown-timeout", Env: "FRAMECAST_SHUTDOWN_TIMEOUT", Default: "30s",
		Description: "How long in-flight requests may run after SIGINT/SIGTERM before the server stops anyway.",
		get:         func(c *Config) string { return c.ShutdownTimeout.String() },
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return errors.New("want a duration such as 30s")
			}
			c.ShutdownTimeout = d
			return nil
		},
	},
	{
		Name: "job-workers", Env: "FRAMECAST_JOB_WORKERS", Default: "2",
		Description: "How many processing jobs (thumbnails, previews, downloads, trims) run at once; each runs one ffmpeg.",
		get:         func(c *Config) string { return strconv.Itoa(c.JobWorkers) },
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 64 {
				return errors.New("want a number from 1 to 64")
			}
			c.JobWorkers = n
			return nil
		},
	},
}

func setSize(dst *int64, v string) error {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return errors.New("want a positive number of bytes")
	}
	*dst = n
	return nil
}

// Load builds the configuration from defaults, then the environment, then
// flags (flags win). getenv is os.Getenv in production and a map in tests.
func Load(args []string, getenv func(string) string, stderr io.Writer) (*Config, error) {
	c := &Config{sources: map[string]string{}}
	// Defaults that depend on the data dir are filled in after it is known.
	for _, s := range Settings {
		if strings.Contains(s.Default, "<data-dir>") || strings.HasPrefix(s.Default, "generated") {
			continue
		}
		if err := s.set(c, s.Default); err != nil {
			panic(fmt.Sprintf("config: bad default for %s: %v", s.Env, err))
		}
		c.sources[s.Env] = "default"
	}
	for _, s := range Settings {
		if v := getenv(s.Env); v != "" {
			if err := s.set(c, v); err != nil {
				return nil, fmt.Errorf("%s=%q: %w", s.Env, redact(s, v), err)
			}
			c.sources[s.Env] = "env"
		}
	}

	fs := flag.NewFlagSet("framecast-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	for _, s := range Settings {
		if s.Name == "" {
			continue
		}
		fs.Func(s.Name, s.Description+" (env "+s.Env+", default "+s.Default+")", func(v string) error {
			if err := s.set(c, v); err != nil {
				return err
			}
			c.sources[s.Env] = "flag"
			return nil
		})
	}
	fs.BoolVar(&c.PrintConfig, "print-config", false, "Print the effective configuration (secrets redacted) and exit.")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}

	if c.DatabaseURL == "" {
		c.DatabaseURL = "sqlite:" + filepath.Join(c.DataDir, "framecast.db")
		c.sources["FRAMECAST_DATABASE_URL"] = "default"
	}
	if c.BlobURL == "" {
		c.BlobURL = "file://" + filepath.Join(c.DataDir, "blobs")
		c.sources["FRAMECAST_BLOB_URL"] = "default"
	}
	if _, err := SQLitePath(c.DatabaseURL); err != nil {
		return nil, fmt.Errorf("FRAMECAST_DATABASE_URL: %w", err)
	}
	if _, err := FilePath(c.BlobURL); err != nil {
		return nil, fmt.Errorf("FRAMECAST_BLOB_URL: %w", err)
	}
	return c, nil
}

// SQLitePath extracts the file path of a sqlite: database URL. Relative
// paths stay relative to the working directory, like the data dir.
func SQLitePath(dbURL string) (string, error) {
	return schemePath(dbURL, "sqlite")
}

// FilePath extracts the directory of a file: blob URL.
func FilePath(blobURL string) (string, error) {
	return schemePath(blobURL, "file")
}

func schemePath(raw, scheme string) (string, error) {
	rest, ok := strings.CutPrefix(raw, scheme+":")
	if !ok {
		if i := strings.Index(raw, ":"); i > 0 {
			return "", fmt.Errorf("%q: the %s scheme is not supported yet; use %s:PATH", raw, raw[:i], scheme)
		}
		return "", fmt.Errorf("%q: want %s:PATH", raw, scheme)
	}
	rest = strings.TrimPrefix(rest, "//")
	if rest == "" || strings.ContainsAny(rest, "?#") {
		return "", fmt.Errorf("%q: want %s:PATH without query or fragment", raw, scheme)
	}
	return filepath.Clean(rest), nil
}

// Print writes the effective configuration, one setting a line, with
// secrets redacted: the output is meant to be pasted into bug reports.
func (c *Config) Print(w io.Writer) {
	for _, s := range Settings {
		v := s.get(c)
		switch {
		case s.Secret && v != "":
			v = "<redacted>"
		case s.Secret:
			file := DeviceTokenFile
			if s.Env == "FRAMECAST_KEK" {
				file = KEKFile
			}
			v = "<from " + filepath.Join(c.DataDir, file) + ", generated at first start>"
		}
		src := c.sources[s.Env]
		if src == "" {
			src = "default"
		}
		fmt.Fprintf(w, "%s=%s\t# %s\n", s.Env, v, src)
	}
}

func redact(s Setting, v string) string {
	if s.Secret {
		return "<redacted>"
	}
	return v
}
