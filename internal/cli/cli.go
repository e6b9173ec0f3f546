// Package cli is the plugboard command line: serve, migrate, and organisation and key
// management. It is scriptable: data goes to standard output (one line for org create and key
// create), messages and errors to standard error, and a failure exits non-zero.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/plugboard/plugboard/internal/config"
	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/secrets"
	"github.com/plugboard/plugboard/internal/store"
)

// Run executes the command line args with the given output streams and returns the exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	if err := root.ExecuteContext(domain.WithActor(ctx, "cli")); err != nil {
		fmt.Fprintln(stderr, "plugboard:", userMessage(err))
		return 1
	}
	return 0
}

// userMessage keeps error text fit for a terminal: domain errors as they are, others too
// (the command line is the operator's own tool), but never with a secret in them.
func userMessage(err error) string {
	var de *domain.Error
	if errors.As(err, &de) {
		return de.Error()
	}
	return err.Error()
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "plugboard",
		Short:         "Plugboard serves versioned integration connectors over GraphQL",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	config.RegisterFlags(root.PersistentFlags())
	root.SetOut(stderr)
	root.SetErr(stderr)
	root.AddCommand(serveCommand(stderr), migrateCommand(stderr), orgCommand(stdout, stderr), keyCommand(stdout, stderr), connectorCommand(stdout, stderr), secretsCommand(stdout, stderr))
	return root
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// openStore reads the configuration, opens the database and applies pending migrations; with
// needSecrets it also loads the credential encryption keys.
func openStore(ctx context.Context, cmd *cobra.Command, logger *slog.Logger, needSecrets bool) (*store.Store, config.Config, error) {
	cfg, err := config.Load(cmd.Flags())
	if err != nil {
		return nil, cfg, err
	}
	st, err := store.Open(cfg.DatabaseURL, store.Options{MaxOpenConns: cfg.MaxOpenConns, StatementCache: cfg.StatementCache})
	if err != nil {
		return nil, cfg, err
	}
	applied, err := migrate(ctx, st, cfg)
	if err != nil {
		st.Close()
		return nil, cfg, err
	}
	for _, m := range applied {
		logger.Info("migration applied", "migration", m)
	}
	if needSecrets {
		if st.Secrets, err = keyring(cfg); err != nil {
			st.Close()
			return nil, cfg, err
		}
	}
	return st, cfg, nil
}

// migrate applies pending migrations through PLUGBOARD_DATABASE_DIRECT_URL when it differs
// from the database URL: they hold a session-level advisory lock, which a pooler in
// transaction mode would take on one server session and release on another, and they may
// need a role with more rights than the one serving requests.
func migrate(ctx context.Context, st *store.Store, cfg config.Config) ([]string, error) {
	if st.Dialect() != store.Postgres || cfg.DirectURL() == cfg.DatabaseURL {
		return st.Migrate(ctx)
	}
	direct, err := store.Open(cfg.DirectURL(), store.Options{MaxOpenConns: 2})
	if err != nil {
		return nil, fmt.Errorf("direct database URL: %w", err)
	}
	defer direct.Close()
	return direct.Migrate(ctx)
}

// keyring loads the credential encryption keys: PLUGBOARD_SECRET_KEY, or for the embedded
// default a key file generated next to the SQLite database on first start.
func keyring(cfg config.Config) (*secrets.Keyring, error) {
	key := cfg.SecretKey
	if key == "" {
		path := cfg.SecretKeyFile()
		if path == "" {
			return nil, errors.New("PLUGBOARD_SECRET_KEY is required with PostgreSQL: every replica must seal credentials with the same key (generate one with `plugboard secrets new-key`)")
		}
		var err error
		if key, err = secrets.LoadOrCreateKeyFile(path); err != nil {
			return nil, err
		}
	}
	return secrets.ParseKeyring(key, cfg.RetiredSecretKeys)
}

// withStore runs fn with a migrated store (without credential keys) and a logger at level,
// closing the store after.
func withStore(cmd *cobra.Command, stderr io.Writer, level string, fn func(st *store.Store, logger *slog.Logger) error) error {
	logger := newLogger(stderr, level)
	st, _, err := openStore(cmd.Context(), cmd, logger, false)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(st, logger)
}

func migrateCommand(stderr io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations and exit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd, stderr, "info", func(st *store.Store, _ *slog.Logger) error {
				fmt.Fprintf(stderr, "database %s is up to date\n", st.Dialect())
				return nil
			})
		},
	}
}

func orgCommand(stdout, stderr io.Writer) *cobra.Command {
	org := &cobra.Command{Use: "org", Short: "Manage organisations"}
	org.AddCommand(&cobra.Command{
		Use:   "create NAME",
		Short: "Create an organisation and print its id",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, stderr, "warn", func(st *store.Store, _ *slog.Logger) error {
				o, err := st.CreateOrganisation(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				fmt.Fprintln(stdout, o.ID)
				fmt.Fprintf(stderr, "created organisation %q\n", o.Name)
				return nil
			})
		},
	})
	return org
}

// scopeList renders scopes for the terminal.
func scopeList(scopes []domain.Scope) string {
	parts := make([]string, len(scopes))
	for i, s := range scopes {
		parts[i] = string(s)
	}
	return strings.Join(parts, ",")
}
