// Package store implements Plugboard's domain services on GORM, over PostgreSQL in production
// and a pure-Go SQLite file as the embedded default.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"

	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/notify"
	"github.com/plugboard/plugboard/internal/secrets"
	"github.com/plugboard/plugboard/migrations"
)

// Dialect names the database behind a Store.
type Dialect string

// The supported dialects.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// Store implements the domain services on one database.
type Store struct {
	db      *gorm.DB
	dialect Dialect
	reads   readQueries
	// Now is the clock; tests replace it. Times are kept in UTC at microsecond precision,
	// the precision PostgreSQL stores, so that what is written reads back equal.
	Now func() time.Time
	// Secrets seals credential values; a store without it refuses to handle credentials.
	Secrets *secrets.Keyring
	// FailPoint, when set, is called at named points inside transactions; an error it returns
	// aborts the transaction there. Fault-injection tests use it to prove that a change failing
	// half way leaves nothing behind.
	FailPoint func(ctx context.Context, point string) error
	// Bus, when set, hears of the store's changes to keys and organisations on SQLite, after
	// they commit; on PostgreSQL the database's triggers announce them to every server.
	Bus *notify.Bus
	// budgets are the outbound rate budgets on SQLite (budget.go); PostgreSQL keeps them in
	// connection_budgets.
	budgets memoryBudgets
	// announce NOTIFYs stored events on PostgreSQL (triggers.go), started on first use.
	announce     *announcer
	announceOnce sync.Once
}

// Options tune the connection pool.
type Options struct {
	// MaxOpenConns bounds the pool; 0 picks a default for the dialect.
	MaxOpenConns int
	// StatementCache is how statements run on PostgreSQL (see StatementCacheModes); "" is
	// "prepare".
	StatementCache string
}

// StatementCacheModes are the values of Options.StatementCache and what pgx does with each:
//
//   - prepare: each connection prepares a named statement per query text and reuses it, one
//     round trip per execution (pgx's default). Named statements live in the server session,
//     so a pooler in transaction mode, which hands each transaction to any server connection,
//     breaks them (pgbouncer before 1.21; Debian 12 has 1.18): "prepared statement
//     \"stmtcache_…\" does not exist" or "already exists".
//   - describe: the parameter and result types of each query text are asked once per
//     connection (with the unnamed statement) and cached; each execution then parses, binds
//     and runs in one round trip, which a pooler keeps on one server connection. A column
//     type changed under a running server can fail a query once.
//   - none: nothing cached; parameters are sent as text of unknown type for the server to
//     infer, in one round trip (pgx's exec mode).
var StatementCacheModes = map[string]pgx.QueryExecMode{
	"prepare":  pgx.QueryExecModeCacheStatement,
	"describe": pgx.QueryExecModeCacheDescribe,
	"none":     pgx.QueryExecModeExec,
}

// Open connects to databaseURL: a postgres:// or postgresql:// URL selects PostgreSQL;
// anything else is a SQLite file path (optionally prefixed with sqlite: or file:).
func Open(databaseURL string, opts Options) (*Store, error) {
	var (
		dialector gorm.Dialector
		dialect   Dialect
	)
	if strings.HasPrefix(databaseURL, "postgres://") || strings.HasPrefix(databaseURL, "postgresql://") {
		conn, err := openPostgres(databaseURL, opts.StatementCache)
		if err != nil {
			return nil, err
		}
		dialect, dialector = Postgres, postgres.New(postgres.Config{Conn: conn})
	} else {
		dialect, dialector = SQLite, sqlite.Open(sqliteDSN(databaseURL))
	}
	db, err := gorm.Open(dialector, &gorm.Config{
		// GORM's logger prints statements with their values; values can be secrets.
		Logger: logger.Discard,
		// pgx caches prepared statements per connection by itself (Options.StatementCache);
		// GORM's own cache would re-prepare every statement inside each transaction.
		PrepareStmt:            false,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	})
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	maxOpen := opts.MaxOpenConns
	if maxOpen <= 0 {
		maxOpen = 16
		if dialect == SQLite {
			// SQLite has one writer; a few readers run beside it in WAL mode.
			maxOpen = 4
		}
	}
	sqlDB.SetMaxOpenConns(maxOpen)
	sqlDB.SetMaxIdleConns(maxOpen)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	return &Store{db: db, dialect: dialect, reads: readQueriesFor(dialect), Now: func() time.Time { return time.Now() }}, nil
}

// openPostgres opens a database/sql pool of pgx connections running statements in the
// statement-cache mode named. GORM and the pgx reads (read.go) share its connections, so the
// mode holds for both.
func openPostgres(databaseURL, statementCache string) (*sql.DB, error) {
	if statementCache == "" {
		statementCache = "prepare"
	}
	mode, ok := StatementCacheModes[statementCache]
	if !ok {
		return nil, fmt.Errorf("statement cache %q: want prepare, describe or none", statementCache)
	}
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		// pgx's message may quote the URL, password included.
		return nil, errors.New("open postgres database: the database URL does not parse")
	}
	cfg.DefaultQueryExecMode = mode
	return stdlib.OpenDB(*cfg), nil
}

// sqliteDSN adds the pragmas the embedded database needs: WAL so readers do not wait for the
// writer, a busy timeout so concurrent writers queue instead of failing, foreign keys for
// cascades, and immediate transactions so a transaction never has to upgrade its lock.
func sqliteDSN(path string) string {
	path = strings.TrimPrefix(strings.TrimPrefix(path, "sqlite:"), "file:")
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
}

// Dialect returns the database kind.
func (s *Store) Dialect() Dialect { return s.dialect }

// Close closes the pool.
func (s *Store) Close() error {
	if s.announce != nil {
		s.announce.stop()
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// Migrate applies pending migrations. On PostgreSQL a session lock lets many replicas start
// at once.
func (s *Store) Migrate(ctx context.Context) (applied []string, err error) {
	sqlDB, err := s.db.DB()
	if err != nil {
		return nil, err
	}
	dir, gooseDialect := "sqlite", goose.DialectSQLite3
	// Migration 6 is Go (names need NFKC and collation keys, which SQLite's SQL lacks).
	opts := []goose.ProviderOption{goose.WithGoMigrations(nameKeysMigration(s.dialect))}
	if s.dialect == Postgres {
		dir, gooseDialect = "postgres", goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	fsys, err := fs.Sub(migrations.FS, dir)
	if err != nil {
		return nil, err
	}
	provider, err := goose.NewProvider(gooseDialect, sqlDB, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	results, err := provider.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("apply migrations: %w", err)
	}
	for _, r := range results {
		applied = append(applied, r.Source.Path)
	}
	return applied, nil
}

// SQL returns the underlying pool, for tests that inspect raw rows.
func (s *Store) SQL() (*sql.DB, error) { return s.db.DB() }

func (s *Store) now() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }

// changed publishes ev, once its transaction has committed, on the in-process bus of SQLite;
// PostgreSQL's triggers publish for every writer (migration 9).
func (s *Store) changed(ev notify.Event) {
	if s.dialect == SQLite && s.Bus != nil {
		s.Bus.Publish(ev)
	}
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// transaction runs fn in one database transaction: every multi-row change goes through here.
// A request sent with an Idempotency-Key marks its claim applied in the same transaction, so
// that the change and the record that it was made commit or roll back together.
func (s *Store) transaction(ctx context.Context, fn func(tx *gorm.DB) error) error {
	claim := domain.IdempotencyClaimOf(ctx)
	if claim == nil {
		return s.db.WithContext(ctx).Transaction(fn)
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := fn(tx); err != nil {
			return err
		}
		return s.markApplied(tx, claim)
	})
	if err == nil {
		claim.MarkApplied()
	}
	return err
}

// forUpdate locks the selected rows until the transaction ends. SQLite needs no row lock: its
// transactions are immediate, so writers already run one at a time.
func (s *Store) forUpdate(tx *gorm.DB) *gorm.DB {
	if s.dialect == Postgres {
		return tx.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return tx
}

// forUpdateOf locks only the rows of table when the query joins others (PostgreSQL refuses
// FOR UPDATE on the nullable side of an outer join).
func (s *Store) forUpdateOf(tx *gorm.DB, table string) *gorm.DB {
	if s.dialect == Postgres {
		return tx.Clauses(clause.Locking{Strength: "UPDATE", Table: clause.Table{Name: table}})
	}
	return tx
}

// isUniqueViolation tells whether err is a unique-constraint violation, naming the constraint
// when the driver says it.
func isUniqueViolation(err error) (constraint string, ok bool) {
	if err == nil {
		return "", false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.ConstraintName, pgErr.Code == "23505"
	}
	if strings.Contains(err.Error(), "UNIQUE constraint failed") {
		return err.Error(), true
	}
	return "", false
}
