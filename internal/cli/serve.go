package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/plugboard/plugboard/graph"
	"github.com/plugboard/plugboard/internal/auth"
	"github.com/plugboard/plugboard/internal/config"
	"github.com/plugboard/plugboard/internal/connect"
	"github.com/plugboard/plugboard/internal/hooks"
	"github.com/plugboard/plugboard/internal/notify"
	"github.com/plugboard/plugboard/internal/outbound"
	"github.com/plugboard/plugboard/internal/server"
	"github.com/plugboard/plugboard/internal/store"
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
			// The live heap is small (a few lists in flight), so Go's default of 100 % ran the
			// collector very often: 200 % took a list from 580 to 620 req/s. It also let 64
			// concurrent pages of 200 connectors grow RSS to 140 MB: the soft limit makes the
			// collector work harder near it instead (about 80 MB of RSS at 64 MiB).
			if os.Getenv("GOMEMLIMIT") == "" && cfg.MemoryLimit > 0 {
				debug.SetMemoryLimit(cfg.MemoryLimit)
			}
			if os.Getenv("GOGC") == "" {
				debug.SetGCPercent(cfg.GCPercent)
			}
			st, cfg, err := openStore(ctx, cmd, logger, true)
			if err != nil {
				return err
			}
			defer st.Close()

			// The bus keeps the key cache coherent across servers. Like the heartbeat it runs
			// until the command ends, through the drain, hence not the signal's context.
			bus := notify.NewLocal()
			if st.Dialect() == store.Postgres {
				bus = notify.NewPostgres(cfg.DirectURL(), logger)
			}
			st.Bus = bus
			keys := auth.NewKeys(st, logger)
			keys.CacheTTL = cfg.KeyCacheTTL
			keys.Follow(bus)
			bus.Start(context.WithoutCancel(ctx))
			defer bus.Stop()
			authn := &auth.Authenticator{Keys: keys}
			if cfg.JWT.Enabled() {
				if authn.JWT, err = auth.NewJWTVerifier(ctx, cfg.JWT, st, logger, auth.JWTOptions{}); err != nil {
					return err
				}
			}
			actions := outbound.NewExecutor(st, logger, outbound.Limits{
				Timeout: cfg.Outbound.Timeout, ConnectTimeout: cfg.Outbound.ConnectTimeout, MaxBodyBytes: cfg.Outbound.MaxBodyBytes,
				MaxRedirects: cfg.Outbound.MaxRedirects, Allow: cfg.Outbound.Allow,
			})
			metrics := server.NewMetrics()
			sqlDB, err := st.SQL()
			if err != nil {
				return err
			}
			metrics.RegisterRuntime(sqlDB, actions)
			// The heartbeat tells this server how many share the inbound per-key limit. It
			// beats from here to the end of the command: the deferred Stop runs after the HTTP
			// server has drained (so a draining server still counts) and before the database
			// closes (so that it can delete its row and the others take up its share at once).
			// Hence not the signal's context, which SIGTERM cancels before the drain.
			heartbeat := server.NewHeartbeat(st, logger)
			heartbeat.Start(context.WithoutCancel(ctx))
			defer heartbeat.Stop()
			var draining atomic.Bool
			sockets := server.NewSockets()
			live, stopLive := hooks.NewLive(bus, st, logger)
			defer stopLive()
			resolver := graph.NewResolver(st, actions, keys, logger)
			resolver.Events, resolver.PublicURL = live, cfg.PublicURL()
			go hooks.KeepPruning(ctx, st, cfg.EventRetention, 10*time.Minute, logger)
			connector := &connect.Service{Store: st, Exchanger: actions, PublicURL: cfg.PublicURL(), RedirectOrigins: cfg.ConnectRedirectOrigins, Logger: logger}
			resolver.Connect = connector
			handler := server.NewHandler(server.Deps{
				Connect:       connector.Handler(),
				Resolver:      resolver,
				Hooks:         hooks.NewHandler(hooks.Handler{Store: st, Logger: logger, MaxBodyBytes: cfg.HookMaxBodyBytes}),
				Authenticator: authn,
				DB:            st,
				Logger:        logger,
				Metrics:       metrics,
				Heartbeat:     heartbeat,
				Limits: server.Limits{
					MaxBodyBytes: cfg.MaxBodyBytes, RequestTimeout: cfg.RequestTimeout, MaxDepth: cfg.MaxDepth,
					MaxComplexity: cfg.MaxComplexity, MaxAliases: cfg.MaxAliases, MaxRootFields: cfg.MaxRootFields,
					MaxTokens: cfg.MaxTokens, MaxFields: cfg.MaxFields, MaxConcurrent: cfg.MaxConcurrent, MaxWebSockets: cfg.MaxWebSockets, TrustedProxies: cfg.TrustedProxies,
					InboundRate: server.InboundRate{Requests: cfg.RateLimit.Requests, Window: cfg.RateLimit.Window, Burst: cfg.RateBurst},
				},
				Introspection: cfg.Enabled(cfg.Introspection),
				CORSOrigins:   cfg.CORSOrigins,
				Playground:    cfg.Enabled(cfg.Playground),
				NoDirectReads: cfg.DirectReads == "off",
				Draining:      &draining,
				Idempotency:   st,
				Sockets:       sockets,
			})
			srv := &http.Server{
				Handler:           handler,
				ReadHeaderTimeout: min(10*time.Second, cfg.ReadTimeout),
				ReadTimeout:       cfg.ReadTimeout,
				WriteTimeout:      cfg.WriteTimeout,
				IdleTimeout:       cfg.IdleTimeout,
				ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
			}
			if cfg.PprofAddr != "" {
				go func() {
					mux := http.NewServeMux()
					mux.HandleFunc("/debug/pprof/", pprof.Index)
					mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
					mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
					logger.Warn("pprof listening", "addr", cfg.PprofAddr)
					if err := http.ListenAndServe(cfg.PprofAddr, mux); err != nil {
						logger.Error("pprof", "error", err.Error())
					}
				}()
			}
			ln, err := net.Listen("tcp", cfg.Addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
			}
			logger.Info("listening", "addr", ln.Addr().String(), "database", string(st.Dialect()),
				"playground", cfg.Enabled(cfg.Playground), "introspection", cfg.Enabled(cfg.Introspection))
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve(ln) }()
			select {
			case err := <-errc:
				return err
			case <-ctx.Done():
			}
			// Draining: /readyz fails first while everything is still served, so that the load
			// balancer's health check takes this server out before it stops accepting; stopping
			// at once would refuse the requests the balancer still sends until its check fails.
			// Keep-alives end with each answer meanwhile (the handler answers Connection: close),
			// so that clients and the balancer open their next connection elsewhere instead of
			// reusing one the shutdown closes. Idle connections are not closed here: the balancer
			// may be sending its next request on one at that very moment, and a request lost that
			// way is a failure it cannot retry (it was sent); they are closed by the shutdown,
			// once the balancer has stopped sending.
			// A second signal ends the delay (someone at a terminal pressing Ctrl-C again); the
			// channel is registered before the line that announces the drain, and NotifyContext's
			// handler is stopped only after it, so that no signal falls back to the default
			// (killing the process) in between.
			again := make(chan os.Signal, 1)
			signal.Notify(again, syscall.SIGINT, syscall.SIGTERM)
			defer signal.Stop(again)
			stop()
			draining.Store(true)
			logger.Info("draining", "delay", cfg.DrainDelay.String())
			if cfg.DrainDelay > 0 {
				delay := time.NewTimer(cfg.DrainDelay)
				select {
				case <-delay.C:
				case <-again:
					delay.Stop()
				case err := <-errc:
					return err
				}
			}
			// Then it stops accepting; in-flight requests finish (up to the shutdown timeout);
			// then the deferred Close closes the database pool.
			logger.Info("shutting down", "grace", cfg.ShutdownGrace().String())
			shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace())
			defer cancel()
			if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("shutdown: %w", err)
			}
			// Subscriptions last as long as their clients want: once requests are done, each
			// socket is closed with 1001 Going Away, and its client reconnects elsewhere.
			if err := sockets.Close(shutdownCtx); err != nil {
				logger.Warn("closing websockets", "error", err.Error())
			}
			logger.Info("stopped")
			return nil
		},
	}
}
