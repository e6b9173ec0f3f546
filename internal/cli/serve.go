package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/plugboard/plugboard/graph"
	"github.com/plugboard/plugboard/internal/auth"
	"github.com/plugboard/plugboard/internal/config"
	"github.com/plugboard/plugboard/internal/outbound"
	"github.com/plugboard/plugboard/internal/server"
)

func serveCommand(stderr io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Serve GraphQL at /graphql and the playground at /",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			cfg, err := config.Load(cmd.Flags())
			if err != nil {
				return err
			}
			logger := newLogger(stderr, cfg.LogLevel)
			st, cfg, err := openStore(ctx, cmd, logger, true)
			if err != nil {
				return err
			}
			defer st.Close()

			keys := auth.NewKeys(st, logger)
			keys.CacheTTL = cfg.KeyCacheTTL
			authn := &auth.Authenticator{Keys: keys}
			if cfg.JWT.Enabled() {
				if authn.JWT, err = auth.NewJWTVerifier(ctx, cfg.JWT, st, logger, auth.JWTOptions{}); err != nil {
					return err
				}
			}
			handler := server.NewHandler(server.Deps{
				Resolver: &graph.Resolver{
					OrganisationService: st, ConnectorService: st, ConnectionService: st, VersionService: st,
					Actions: outbound.NewExecutor(st, logger, outbound.Limits(cfg.Outbound)),
					Keys:    keys, Logger: logger,
				},
				Authenticator: authn,
				DB:            st,
				Logger:        logger,
			})
			srv := &http.Server{
				Handler:           handler,
				ReadHeaderTimeout: 10 * time.Second,
				ReadTimeout:       30 * time.Second,
				WriteTimeout:      60 * time.Second,
				IdleTimeout:       120 * time.Second,
			}
			ln, err := net.Listen("tcp", cfg.Addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
			}
			logger.Info("listening", "addr", ln.Addr().String(), "database", string(st.Dialect()), "playground", "http://"+ln.Addr().String()+"/")
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve(ln) }()
			select {
			case err := <-errc:
				return err
			case <-ctx.Done():
			}
			logger.Info("shutting down")
			shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
}
