package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// readEach runs a read written with ? placeholders and calls each after scanning every row
// into dest. On PostgreSQL it goes through pgx itself on a connection of the pool: pgx scans
// wire values straight into the destinations, where database/sql boxed every value and
// converted it a second time (a quarter of a connector list's server CPU). Slices are passed
// as arrays there (see readQueriesFor); elsewhere GORM expands them.
func (s *Store) readEach(ctx context.Context, query string, args []any, dest []any, each func() error) error {
	if s.dialect != Postgres {
		rows, err := s.db.WithContext(ctx).Raw(query, args...).Rows()
		if err != nil {
			return err
		}
		defer rows.Close()
		return eachRow(rows, dest, each)
	}
	return s.onPgx(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, numbered(query), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		return eachRow(rows, dest, each)
	})
}

// exec runs a statement written with ? placeholders outside a transaction and returns how
// many rows it changed; on PostgreSQL through pgx, like readEach.
func (s *Store) exec(ctx context.Context, query string, args ...any) (int64, error) {
	if s.dialect != Postgres {
		res := s.db.WithContext(ctx).Exec(query, args...)
		return res.RowsAffected, res.Error
	}
	var changed int64
	err := s.onPgx(ctx, func(c *pgx.Conn) error {
		tag, err := c.Exec(ctx, numbered(query), args...)
		changed = tag.RowsAffected()
		return err
	})
	return changed, err
}

// onPgx runs f on the pgx connection of a connection of the pool (PostgreSQL only).
func (s *Store) onPgx(ctx context.Context, f func(*pgx.Conn) error) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("a PostgreSQL statement got a %T connection", driverConn)
		}
		return f(c.Conn())
	})
}

// rows is what database/sql's and pgx's result sets have in common.
type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

func eachRow(rows rows, dest []any, each func() error) error {
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		if err := each(); err != nil {
			return err
		}
	}
	return rows.Err()
}

// readRows is readEach for rows of type T (plus extra destinations), scanned into one T that
// each must copy from.
func readRows[T any, P row[T]](ctx context.Context, s *Store, query string, args []any, extra []any, each func(*T) error) error {
	var r T
	dest := append(P(&r).fields(nil), extra...)
	return s.readEach(ctx, query, args, dest, func() error { return each(&r) })
}

// numberedQueries caches numbered: the queries are a few texts (per parts selected, filter
// and order); past maxNumbered of them, further ones are numbered each time.
var (
	numberedQueries sync.Map
	numberedCount   atomic.Int32
)

const maxNumbered = 1024

// numbered rewrites ? placeholders as $1, $2, … (the queries here hold no ? in literals).
func numbered(query string) string {
	if q, ok := numberedQueries.Load(query); ok {
		return q.(string)
	}
	q := placeholdersNumbered(query)
	if numberedCount.Add(1) <= maxNumbered {
		numberedQueries.Store(query, q)
	}
	return q
}

func placeholdersNumbered(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] != '?' {
			b.WriteByte(query[i])
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}
