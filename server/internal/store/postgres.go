package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// PostgreSQL is the scale-out store: several server replicas share one
// database. It is the SQLite store's code on another engine, which keeps
// one implementation of every method and lets the contract suite prove
// both. The SQL therefore stays within what both engines accept:
//
//   - ? placeholders (pgdriver.go rebinds them);
//   - times as integer unix microseconds, booleans as 0/1 integers, JSON
//     as text, so scanning is the same on both;
//   - ON CONFLICT, RETURNING, COALESCE, CASE; no engine-only functions
//     (max(a, b), ifnull, strftime, json_*), or a dialect branch (see
//     SQLite.isPostgres) where no shared form exists;
//   - every migration in migrations/sqlite has a twin with the same
//     version in migrations/postgres (TestMigrationsPaired checks).
//
// Explicit transactions are serialised by the driver, as SQLite's are;
// single statements must be safe on their own under READ COMMITTED (a
// conditional UPDATE re-checks its WHERE on the row it waited for).

//go:embed migrations/postgres/*.sql
var postgresMigrations embed.FS

// Postgres is the Store on a PostgreSQL database.
type Postgres struct {
	*SQLite
}

var _ Store = (*Postgres)(nil)

// OpenPostgres connects to the database a postgres:// URL names and runs
// the pending migrations. Replicas starting together take turns: goose
// holds a PostgreSQL session lock while it migrates.
func OpenPostgres(ctx context.Context, dbURL string) (*Postgres, error) {
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		// pgx's message may quote the URL, password and all.
		return nil, fmt.Errorf("open postgres %s: the URL is not valid", redactURL(dbURL))
	}
	if err := migratePostgres(ctx, cfg); err != nil {
		return nil, err
	}
	db := sql.OpenDB(pgConnector{stdlib.GetConnector(*cfg)})
	// Enough for the request handlers and the job workers of one replica;
	// PostgreSQL's default max_connections (100) then leaves room for
	// several replicas.
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(10)
	db.SetConnMaxIdleTime(5 * time.Minute)
	s := &Postgres{SQLite: &SQLite{db: db, postgres: true}}
	if err := s.Ping(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func migratePostgres(ctx context.Context, cfg *pgx.ConnConfig) error {
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		return fmt.Errorf("open postgres %s@%s:%d/%s: %w", cfg.User, cfg.Host, cfg.Port, cfg.Database, err)
	}
	fsys, err := fs.Sub(postgresMigrations, "migrations/postgres")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys, goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

func (s *Postgres) Ping(ctx context.Context) error {
	var one int
	if err := s.db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping postgres: %w", err)
	}
	return nil
}

// PostgreSQL error codes the store branches on.
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
)

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}
