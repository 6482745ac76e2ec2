// Package daemon wires the server's parts together (config, secrets,
// store, blob store, HTTP) and runs them until told to stop. main calls Run;
// tests call New and Serve on a listener of their own.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/gofiber/fiber/v2"

	"framecast.dev/server/internal/account"
	"framecast.dev/server/internal/blob"
	"framecast.dev/server/internal/config"
	"framecast.dev/server/internal/httpapi"
	"framecast.dev/server/internal/jobs"
	"framecast.dev/server/internal/media"
	"framecast.dev/server/internal/privacy"
	"framecast.dev/server/internal/secrets"
	"framecast.dev/server/internal/share"
	"framecast.dev/server/internal/store"
	"framecast.dev/server/internal/track"
	"framecast.dev/shared/seal"
)

// Daemon is a server that is ready to serve.
type Daemon struct {
	cfg   *config.Config
	log   *slog.Logger
	store store.Store
	blobs blob.Store
	kek   seal.Key
	media *media.Service
	jobs  *jobs.Queue
	share *share.Service
	http  *httpapi.Server
	token string

	accounts *account.Service
	privacy  *privacy.Service
	track    *track.Service
	geo      *track.Geo
}

// NewLogger builds the process logger the config asks for.
func NewLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel)) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// New opens everything the configuration names, creating the data dir
// and first-start secrets as needed.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger, opts ...Option) (_ *Daemon, err error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	d := &Daemon{cfg: cfg, log: log}

	// Desktop apps sign in and get device tokens; the placeholder token
	// works only when configured (FRAMECAST_DEVICE_TOKEN).
	d.token = cfg.DeviceToken
	if d.token != "" {
		log.Warn("the placeholder device token is enabled; desktop apps can sign in instead", "acts_for_user", "FRAMECAST_DEVICE_TOKEN_USER")
	}
	kekHex := cfg.KEK
	if kekHex == "" {
		path := filepath.Join(cfg.DataDir, config.KEKFile)
		var created bool
		if kekHex, created, err = secrets.LoadOrCreate(path, secrets.NewKEKHex); err != nil {
			return nil, fmt.Errorf("key-encryption key: %w", err)
		}
		if created {
			log.Warn("generated the key-encryption key; back it up: without it no stored video can be played", "file", path)
		}
	}
	kek, err := secrets.ParseKEK(kekHex)
	if err != nil {
		return nil, err
	}
	d.kek = seal.Key(kek)

	if d.store, err = store.Open(ctx, cfg.DatabaseURL); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			d.store.Close()
		}
	}()
	if d.blobs, err = blob.Open(ctx, cfg.BlobURL, blob.S3Credentials{AccessKey: cfg.S3AccessKey, SecretKey: cfg.S3SecretKey}); err != nil {
		return nil, err
	}

	d.jobs = jobs.New(jobs.Config{Store: d.store, Log: log, Workers: cfg.JobWorkers, Lanes: []jobs.Lane{mailLane(o)}})
	tools := media.FindTools()
	if tools.FFmpeg == "" || tools.FFprobe == "" {
		log.Warn("ffmpeg or ffprobe is not in PATH; thumbnails, previews and downloads will fail until it is installed")
	}
	d.media, err = media.New(media.Config{
		Store:           d.store,
		Blobs:           d.blobs,
		KEK:             d.kek,
		SpoolDir:        filepath.Join(cfg.DataDir, "spool"),
		BaseURL:         cfg.BaseURL,
		MaxSegmentBytes: cfg.MaxSegmentBytes,
		Log:             log,
		Jobs:            d.jobs,
		Tools:           tools,
		WorkDir:         filepath.Join(cfg.DataDir, "work"),
		Imports: media.ImportLimits{MaxBytes: cfg.MaxUploadBytes, MaxLong: cfg.UploadMaxLong, MaxShort: cfg.UploadMaxShort,
			MaxDuration: cfg.UploadMaxDuration, MaxStreams: cfg.UploadMaxStreams},
		OnImportPublished: o.importPublished,
	})
	if err != nil {
		return nil, err
	}
	d.media.RegisterJobs(d.jobs)

	sender, err := newMailer(cfg, log)
	if err != nil {
		return nil, err
	}
	if d.accounts, err = newAccounts(cfg, log, d.store, d.blobs, d.media, sender, d.jobs, d.kek, o.now); err != nil {
		return nil, err
	}
	d.accounts.RegisterJobs(d.jobs)
	if d.privacy, err = privacy.New(privacy.Config{
		Store: d.store, Blobs: d.blobs, Jobs: d.jobs, Media: d.media, Accounts: d.accounts, Mailer: sender, KEK: d.kek,
		BaseURL: cfg.BaseURL, WorkDir: filepath.Join(cfg.DataDir, "work"), Log: log, Now: o.now, ExportTTL: cfg.Privacy.ExportTTL, Admins: cfg.Privacy.AdminEmails,
		Retention: privacy.Retention{Usage: cfg.Privacy.RetainUsage, Support: cfg.Privacy.RetainSupport, Unverified: cfg.Privacy.RetainUnverified, Uploads: cfg.Privacy.RetainUploads,
			Jobs: cfg.Privacy.RetainJobs},
	}); err != nil {
		return nil, err
	}
	d.privacy.RegisterJobs(d.jobs)

	sh, err := share.New(share.Config{Store: d.store, Media: d.media, Jobs: d.jobs, KEK: d.kek, BaseURL: cfg.BaseURL, Log: log})
	if err != nil {
		return nil, err
	}
	d.share = sh
	d.track, d.geo = newTracking(cfg, log, d.store, d.kek, d.firstViewMail, d.accounts.Notify)
	d.http, err = httpapi.New(httpapi.Deps{
		Track:           d.track,
		Log:             log,
		Blobs:           d.blobs,
		Store:           d.store,
		Media:           d.media,
		Accounts:        d.accounts,
		Share:           sh,
		Privacy:         d.privacy,
		TrustedProxies:  cfg.TrustedProxies,
		DataDir:         cfg.DataDir,
		BaseURL:         cfg.BaseURL,
		MaxBodyBytes:    cfg.MaxBodyBytes,
		MaxSegmentBytes: cfg.MaxSegmentBytes,
		MaxUploadBytes:  cfg.MaxUploadBytes,
		MetricsToken:    cfg.MetricsToken,
	})
	if err != nil {
		return nil, err
	}
	d.http.Registry().MustRegister(d.jobs.Collectors()...)
	if err := d.privacy.StartRetention(ctx); err != nil {
		return nil, fmt.Errorf("schedule the retention job: %w", err)
	}
	d.jobs.Start()
	return d, nil
}

// DeviceToken is the configured placeholder device token ("" when off).
func (d *Daemon) DeviceToken() string { return d.token }

// Accounts is the account service (for tests and tools).
func (d *Daemon) Accounts() *account.Service { return d.accounts }

// Routes lists the HTTP routes (for the authorisation test).
func (d *Daemon) Routes() []fiber.Route { return d.http.Routes() }

// Privacy is the privacy centre (tests run its retention job).
func (d *Daemon) Privacy() *privacy.Service { return d.privacy }

// Share is the share-link service (tests edit videos behind its back
// and make it forget them).
func (d *Daemon) Share() *share.Service { return d.share }

// Serve answers requests on ln until Shutdown is called.
func (d *Daemon) Serve(ln net.Listener) error { return d.http.Serve(ln) }

// Shutdown lets in-flight requests finish (until ctx ends), then closes
// the database.
func (d *Daemon) Shutdown(ctx context.Context) error {
	// Running jobs get the same deadline as in-flight requests; those
	// still running then are cancelled and picked up after a restart.
	jobsDone := make(chan error, 1)
	go func() { jobsDone <- d.jobs.Stop(ctx) }()
	herr := d.http.Shutdown(ctx)
	if herr != nil {
		herr = fmt.Errorf("http shutdown: %w", herr)
	}
	// Viewer events the last requests queued are written before the
	// database closes.
	terr := d.track.Close(ctx)
	if terr != nil {
		terr = fmt.Errorf("write viewer events: %w", terr)
	}
	d.geo.Close()
	jerr := <-jobsDone
	serr := d.store.Close()
	if serr != nil {
		serr = fmt.Errorf("close store: %w", serr)
	}
	return errors.Join(herr, terr, jerr, serr)
}

// Run serves on the configured address until ctx is cancelled (SIGINT or
// SIGTERM in main), then shuts down gracefully.
func Run(ctx context.Context, cfg *config.Config, log *slog.Logger) error {
	d, err := New(ctx, cfg, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		d.store.Close()
		return fmt.Errorf("listen: %w", err)
	}
	log.Info("framecast-server listening", "addr", ln.Addr().String(), "version", config.Version, "url", cfg.BaseURL, "data_dir", cfg.DataDir)

	served := make(chan error, 1)
	go func() { served <- d.Serve(ln) }()
	select {
	case err := <-served:
		d.store.Close()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down; waiting for in-flight requests", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	start := time.Now()
	if err := d.Shutdown(sctx); err != nil {
		return err
	}
	<-served
	log.Info("stopped", "after", time.Since(start).Round(time.Millisecond).String())
	return nil
}
