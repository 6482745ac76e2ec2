package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/stdlib"
)

// The PostgreSQL store runs the same Go code and the same SQL as the
// SQLite store (see postgres.go for the rules that SQL keeps). This
// database/sql driver sits in front of pgx and closes the three gaps that
// remain between the engines:
//
//   - placeholders: SQLite's ? becomes PostgreSQL's $1, $2, ...
//   - booleans: the schema keeps them as integers (0/1) on both engines, so
//     a Go bool argument is sent as 0 or 1;
//   - write transactions: SQLite (with _txlock=immediate) runs one write
//     transaction at a time, and the store's read-check-write transactions
//     rely on that. Every transaction here first takes one transaction-level
//     advisory lock, which gives PostgreSQL the same order across all
//     replicas. Single statements do not take it and run concurrently.

// txLockKey is the advisory lock that serialises the store's transactions
// (an arbitrary constant: "fcst" in ASCII).
const txLockKey = 0x66637374

type pgConnector struct{ base driver.Connector }

func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	sc, ok := conn.(*stdlib.Conn)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("postgres: unexpected connection type %T", conn)
	}
	return &pgConn{sc}, nil
}

func (c pgConnector) Driver() driver.Driver { return c.base.Driver() }

type pgConn struct{ c *stdlib.Conn }

var (
	_ driver.Conn               = (*pgConn)(nil)
	_ driver.ConnBeginTx        = (*pgConn)(nil)
	_ driver.ExecerContext      = (*pgConn)(nil)
	_ driver.QueryerContext     = (*pgConn)(nil)
	_ driver.ConnPrepareContext = (*pgConn)(nil)
	_ driver.Pinger             = (*pgConn)(nil)
	_ driver.NamedValueChecker  = (*pgConn)(nil)
	_ driver.SessionResetter    = (*pgConn)(nil)
)

func (p *pgConn) Prepare(query string) (driver.Stmt, error) {
	return p.c.Prepare(rebind(query))
}

func (p *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return p.c.PrepareContext(ctx, rebind(query))
}

func (p *pgConn) Close() error { return p.c.Close() }

func (p *pgConn) Begin() (driver.Tx, error) {
	return p.BeginTx(context.Background(), driver.TxOptions{})
}

func (p *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := p.c.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	if opts.ReadOnly {
		return tx, nil
	}
	if _, err := p.c.ExecContext(ctx, "SELECT pg_advisory_xact_lock("+strconv.Itoa(txLockKey)+")", nil); err != nil {
		return nil, errors.Join(fmt.Errorf("postgres: take the transaction lock: %w", err), tx.Rollback())
	}
	return tx, nil
}

func (p *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return p.c.ExecContext(ctx, rebind(query), args)
}

func (p *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return p.c.QueryContext(ctx, rebind(query), args)
}

func (p *pgConn) Ping(ctx context.Context) error { return p.c.Ping(ctx) }

// CheckNamedValue sends bools as integers and leaves every other value to
// database/sql's usual conversions (the store passes only plain values).
func (p *pgConn) CheckNamedValue(nv *driver.NamedValue) error {
	if b, ok := nv.Value.(bool); ok {
		nv.Value = int64(0)
		if b {
			nv.Value = int64(1)
		}
		return nil
	}
	v, err := driver.DefaultParameterConverter.ConvertValue(nv.Value)
	if err != nil {
		return err
	}
	if b, ok := v.(bool); ok { // a Valuer such as sql.NullBool
		v = int64(0)
		if b {
			v = int64(1)
		}
	}
	nv.Value = v
	return nil
}

func (p *pgConn) ResetSession(ctx context.Context) error { return p.c.ResetSession(ctx) }

// rebind turns ? placeholders into $1, $2, ..., leaving string literals,
// quoted identifiers and comments alone.
func rebind(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(query) && query[j] != c {
				j++
			}
			b.WriteString(query[i:min(j+1, len(query))])
			i = j
		case c == '-' && i+1 < len(query) && query[i+1] == '-':
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				j = len(query) - i
			}
			b.WriteString(query[i : i+j])
			i += j - 1
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
