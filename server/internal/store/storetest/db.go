package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	osuser "os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"framecast.dev/server/internal/store"
)

// The database kinds a store-backed test runs against.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Kinds lists every kind, for tests that run once per kind:
//
//	for _, kind := range storetest.Kinds {
//		t.Run(kind, func(t *testing.T) { s := storetest.Open(t, kind); ... })
//	}
var Kinds = []string{SQLite, Postgres}

// PostgresEnv names the server tests create their databases on, as a URL
// of a role that may create databases. Unset, tests use the framecast
// role `make setup` creates (DefaultPostgresURL), then the current OS
// user over the local socket.
const PostgresEnv = "FRAMECAST_TEST_POSTGRES_URL"

// DefaultPostgresURL is the role scripts/setup.sh creates for tests: a
// local-only login with CREATEDB, password "framecast".
const DefaultPostgresURL = "postgres://framecast:framecast@127.0.0.1:5432/postgres?sslmode=disable"

// Open returns a fresh, empty, migrated store of the given kind, closed
// (and for PostgreSQL dropped) when the test ends.
func Open(t testing.TB, kind string) store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), URL(t, kind))
	if err != nil {
		t.Fatalf("open %s store: %v", kind, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// URL returns the URL of a fresh, empty database of the given kind, for
// tests that hand a database to a server (FRAMECAST_DATABASE_URL). For
// PostgreSQL it is a new database on the local server, dropped when the
// test ends. A PostgreSQL that does not answer fails the test: `make
// setup` starts it.
func URL(t testing.TB, kind string) string {
	t.Helper()
	switch kind {
	case SQLite:
		return "sqlite:" + filepath.Join(t.TempDir(), "framecast.db")
	case Postgres:
		return postgresURL(t)
	}
	t.Fatalf("storetest: unknown database kind %q", kind)
	return ""
}

var admin struct {
	once sync.Once
	db   *sql.DB
	url  *url.URL
	err  error
}

// testDBPrefix starts the name of every database the tests create; the
// creation time follows, so leftovers of killed runs can be recognised.
const testDBPrefix = "fctest_"

func postgresURL(t testing.TB) string {
	t.Helper()
	admin.once.Do(connectAdmin)
	if admin.err != nil {
		t.Fatalf("PostgreSQL for tests: %v", admin.err)
	}
	name := fmt.Sprintf("%s%d_%s", testDBPrefix, time.Now().Unix(), randomHex(6))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// FORCE: a server under test may still hold connections. An
		// autovacuum worker that just started on the database can make
		// the drop fail once; it is gone a moment later.
		var err error
		for range 10 {
			if _, err = admin.db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err == nil {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Errorf("drop test database %s: %v", name, err)
	})
	u := *admin.url
	u.Path = "/" + name
	return u.String()
}

func connectAdmin() {
	var candidates []string
	if v := os.Getenv(PostgresEnv); v != "" {
		candidates = []string{v}
	} else {
		candidates = []string{DefaultPostgresURL}
		if u, err := osuser.Current(); err == nil {
			candidates = append(candidates, "postgres://"+url.PathEscape(u.Username)+"@/postgres?host=/var/run/postgresql")
		}
	}
	var errs []error
	for _, c := range candidates {
		db, u, err := tryAdmin(c)
		if err == nil {
			admin.db, admin.url = db, u
			dropStale(db)
			return
		}
		errs = append(errs, err)
	}
	admin.err = fmt.Errorf("no PostgreSQL server to create test databases on (run `make setup`, or set %s): %w",
		PostgresEnv, errors.Join(errs...))
}

func tryAdmin(raw string) (*sql.DB, *url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, nil, fmt.Errorf("%s must be a postgres:// URL", PostgresEnv)
	}
	cfg, err := pgx.ParseConfig(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", redact(u), err)
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(4)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var canCreate bool
	if err := db.QueryRowContext(ctx, "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&canCreate); err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("%s: %w", redact(u), err)
	}
	if !canCreate {
		db.Close()
		return nil, nil, fmt.Errorf("%s: the role may not create databases", redact(u))
	}
	return db, u, nil
}

// dropStale removes test databases older than a day, left by test runs
// that were killed before their cleanup ran.
func dropStale(db *sql.DB) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rows, err := db.QueryContext(ctx, "SELECT datname FROM pg_database WHERE datname LIKE '"+testDBPrefix+"%'")
	if err != nil {
		return
	}
	var stale []string
	for rows.Next() {
		var name string
		if rows.Scan(&name) != nil {
			continue
		}
		ts, _, _ := strings.Cut(strings.TrimPrefix(name, testDBPrefix), "_")
		if sec, err := strconv.ParseInt(ts, 10, 64); err == nil && time.Since(time.Unix(sec, 0)) > 24*time.Hour {
			stale = append(stale, name)
		}
	}
	rows.Close()
	for _, name := range stale {
		_, _ = db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	}
}

func redact(u *url.URL) string {
	if _, ok := u.User.Password(); ok {
		c := *u
		c.User = url.UserPassword(u.User.Username(), "redacted")
		return c.String()
	}
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
