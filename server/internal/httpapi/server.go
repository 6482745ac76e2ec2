// Package httpapi is the HTTP face of the server: fiber routes, middleware
// and thin handlers that translate between HTTP and the domain packages.
package httpapi

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"framecast.dev/server/internal/account"
	"framecast.dev/server/internal/blob"
	"framecast.dev/server/internal/media"
	"framecast.dev/server/internal/privacy"
	"framecast.dev/server/internal/share"
	"framecast.dev/server/internal/store"
	"framecast.dev/server/internal/track"
	"framecast.dev/server/web"
	"framecast.dev/shared/api"
)

// Deps is what the HTTP layer needs from the rest of the server.
type Deps struct {
	Log             *slog.Logger
	Blobs           blob.Store // checked by /readyz
	Store           store.Store
	Media           *media.Service
	Accounts        *account.Service
	Share           *share.Service
	Privacy         *privacy.Service
	Track           *track.Service // viewer events and analytics
	TrustedProxies  []netip.Prefix // whose X-Forwarded-For is believed
	DataDir         string         // checked for writability by /readyz
	BaseURL         string
	MaxBodyBytes    int64
	MaxSegmentBytes int64
	MaxUploadBytes  int64 // whole video files from the dashboard
	// MetricsToken is the bearer token /metrics asks for; empty: /metrics
	// is off (it tells how busy the server is, which is nobody's business
	// but the operator's).
	MetricsToken string
}

// Server holds the fiber app and what its handlers share.
type Server struct {
	app        *fiber.App
	log        *slog.Logger
	store      store.Store
	blobs      blob.Store
	media      *media.Service
	accounts   *account.Service
	share      *share.Service
	privacy    *privacy.Service
	track      *track.Service
	dataDir    string
	baseURL    string
	maxBody    int64
	maxSegment int64
	maxUpload  int64
	https      bool
	cookies    cookieNames
	proxies    []netip.Prefix
	registry   *prometheus.Registry
	metricsTok string
	metrics    *metrics
}

// Timeouts of the HTTP server. ReadTimeout bounds one whole request, body
// included: a segment upload that takes longer resumes with PATCH.
const (
	readTimeout  = 5 * time.Minute
	writeTimeout = 5 * time.Minute
	idleTimeout  = 2 * time.Minute
)

// New builds the server and its routes.
func New(d Deps) (*Server, error) {
	if d.Accounts == nil {
		return nil, errors.New("httpapi: the account service is required")
	}
	s := &Server{
		log:        d.Log,
		store:      d.Store,
		blobs:      d.Blobs,
		media:      d.Media,
		accounts:   d.Accounts,
		share:      d.Share,
		privacy:    d.Privacy,
		track:      d.Track,
		proxies:    d.TrustedProxies,
		dataDir:    d.DataDir,
		baseURL:    strings.TrimRight(d.BaseURL, "/"),
		maxBody:    d.MaxBodyBytes,
		maxSegment: d.MaxSegmentBytes,
		maxUpload:  d.MaxUploadBytes,
		metricsTok: d.MetricsToken,
		https:      strings.HasPrefix(d.BaseURL, "https://"),
		registry:   prometheus.NewRegistry(),
	}
	s.cookies = newCookieNames(s.https)
	s.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.metrics = newMetrics(s.registry)
	s.registry.MustRegister(d.Media.Collectors()...)

	s.app = fiber.New(fiber.Config{
		AppName:               "framecast-server",
		DisableStartupMessage: true,
		// Values from the request (params, headers) stay valid after the
		// handler returns; handlers hand them to goroutines and the store.
		Immutable: true,
		// Uploads are streamed to disk, never buffered whole in memory;
		// limits are enforced by limitBody and the readers.
		StreamRequestBody: true,
		// Forms (uploads included) are read by readForm, bounded; fasthttp
		// must not parse multipart bodies itself first.
		DisablePreParseMultipartForm: true,
		BodyLimit:                    int(min(d.MaxBodyBytes, 1<<30)),
		ReadTimeout:                  readTimeout,
		WriteTimeout:                 writeTimeout,
		IdleTimeout:                  idleTimeout,
		ErrorHandler:                 s.errorHandler,
	})
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	a := s.app
	a.Use(s.outermost, s.recoverPanics)
	a.Get("/healthz", s.healthz)
	a.Get("/readyz", s.readyz)
	a.Get("/metrics", s.metricsAuth, adaptor.HTTPHandler(promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{})))
	a.Use("/static", filesystem.New(filesystem.Config{
		Root: http.FS(web.Static), PathPrefix: "static", MaxAge: 86400,
	}))
	s.trackingRoutes(a)
	s.playbackRoutes(a)
	s.dashboardRoutes(a)
	s.importRoutes(a)
	v1 := a.Group("/api/v1")
	s.syncRoutes(v1)
	s.deviceAPIRoutes(v1)
	s.accountRoutes(a)
	s.workspaceRoutes(a)
	s.privacyRoutes(a)
}

// Routes lists the registered routes (method and path), without
// middleware: the authorisation test checks it covers every one.
func (s *Server) Routes() []fiber.Route { return s.app.GetRoutes(true) }

// Registry is where the server's metrics live; domain packages may add theirs.
func (s *Server) Registry() *prometheus.Registry { return s.registry }

// Serve answers requests on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error { return s.app.Listener(ln) }

// Shutdown stops accepting connections and waits for in-flight requests
// until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error { return s.app.ShutdownWithContext(ctx) }

func (s *Server) healthz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"status": "ok"})
}

// readyz answers 200 only when requests can actually be served: the
// database answers and the data dir takes writes. The reasons stay short;
// details go to the log (the endpoint is unauthenticated).
func (s *Server) readyz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	checks := fiber.Map{"database": "ok", "data_dir": "ok", "blobs": "ok"}
	ready := true
	if err := s.store.Ping(ctx); err != nil {
		s.reqLogger(c).Warn("readiness: database", "err", err)
		checks["database"] = "not answering"
		ready = false
	}
	if err := checkWritable(s.dataDir); err != nil {
		s.reqLogger(c).Warn("readiness: data dir", "err", err)
		checks["data_dir"] = "not writable"
		ready = false
	}
	// A missing object is the answer expected: it proves the blob store
	// (an S3 server, with these keys and this bucket) answers.
	if s.blobs != nil {
		if _, err := s.blobs.Stat(ctx, "readyz-probe"); err != nil && !errors.Is(err, blob.ErrNotExist) {
			s.reqLogger(c).Warn("readiness: blob store", "err", err)
			checks["blobs"] = "not answering"
			ready = false
		}
	}
	if !ready {
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "checks": checks})
	}
	return c.JSON(fiber.Map{"status": "ready", "checks": checks})
}

func checkWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".readyz-*")
	if err != nil {
		return err
	}
	name := f.Name()
	_, werr := f.Write([]byte("ok"))
	cerr := f.Close()
	rerr := os.Remove(name)
	return errors.Join(werr, cerr, rerr)
}

// authenticate finds the user and device of the bearer device token.
func (s *Server) authenticate(c *fiber.Ctx) error {
	tok, ok := bearer(c.Get(fiber.HeaderAuthorization))
	if !ok {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="framecast"`)
		return newError(fiber.StatusUnauthorized, api.CodeUnauthorized,
			"A valid device token is required (Authorization: Bearer <token>). Sign in from the desktop app.")
	}
	u, dev, err := s.accounts.AuthenticateDevice(c.UserContext(), tok)
	if err != nil {
		if account.IsKind(err, account.KindUnauthorized) {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="framecast", error="invalid_token"`)
		}
		return accountError(err)
	}
	c.Locals(localUser, &u)
	c.Locals(localDevice, &dev)
	return c.Next()
}

// readJSON decodes a JSON body of at most maxBody bytes from the request
// stream (StreamRequestBody is on, so c.Body() would read without limit).
func (s *Server) readJSON(c *fiber.Ctx, v any) error {
	body, err := s.readBody(c, s.maxBody)
	if err != nil {
		return err
	}
	if err := decodeJSON(body, v); err != nil {
		return newError(fiber.StatusBadRequest, api.CodeBadRequest, "The JSON body is not valid: %v.", err)
	}
	return nil
}

func (s *Server) readBody(c *fiber.Ctx, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(bodyReader(c), limit+1))
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, newError(fiber.StatusRequestEntityTooLarge, api.CodeBodyTooLarge,
			"The request body is larger than %d bytes.", limit)
	}
	return b, nil
}

// metricsAuth lets through only the operator's scraper: /metrics is not
// found without a configured token, and asks for it with one.
func (s *Server) metricsAuth(c *fiber.Ctx) error {
	if s.metricsTok == "" {
		return fiber.ErrNotFound
	}
	got, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.metricsTok)) != 1 {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="metrics"`)
		return fiber.ErrUnauthorized
	}
	return c.Next()
}
