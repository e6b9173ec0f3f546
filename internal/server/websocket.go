package server

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"

	"github.com/plugboard/plugboard/internal/auth"
	"github.com/plugboard/plugboard/internal/domain"
)

// CloseForbidden is the close code of a socket whose credentials are refused or end
// (graphql-transport-ws's 4403 Forbidden).
const CloseForbidden = 4403

// recheckInterval is how often an open socket re-authenticates its token: a revoked key (the
// key cache is dropped over the cross-server bus) or an expired JWT closes it within this.
const recheckInterval = 250 * time.Millisecond

// isWebSocket tells whether r asks to become a WebSocket.
func isWebSocket(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// webSocketTransport is gqlgen's WebSocket transport (graphql-transport-ws and the older
// graphql-ws) authenticated by connection_init's payload.
func webSocketTransport(a Authenticator, logger *slog.Logger, origins []string) transport.Websocket {
	return transport.Websocket{
		Upgrader: websocket.Upgrader{
			CheckOrigin: func(r *http.Request) bool { return originAllowed(r, origins) },
		},
		InitTimeout:           10 * time.Second,
		KeepAlivePingInterval: 15 * time.Second,
		PingPongInterval:      20 * time.Second,
		InitFunc: func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			sock := socketOf(ctx)
			token, ok := initToken(payload)
			if !ok {
				sock.forbid()
				return ctx, nil, errors.New("authentication required: send {\"Authorization\": \"Bearer <API key or token>\"} in connection_init's payload")
			}
			p, err := a.Authenticate(ctx, token)
			if err != nil {
				sock.forbid()
				if domain.ErrorCode(err) != domain.CodeUnauthenticated {
					logger.ErrorContext(ctx, "authenticate websocket", "request_id", RequestID(ctx), "error", err.Error())
					return ctx, nil, errors.New("internal server error")
				}
				return ctx, nil, err
			}
			if info := infoOf(ctx); info != nil {
				info.orgID = p.OrganisationID
			}
			ctx, cancel := context.WithCancel(domain.WithActor(auth.WithPrincipal(ctx, p), p.Subject))
			go watchCredentials(ctx, cancel, a, token, sock, logger)
			return ctx, nil, nil
		},
	}
}

// watchCredentials re-authenticates the socket's token until ctx ends; once it is refused
// (revoked, expired, its organisation gone) the socket closes with 4403.
func watchCredentials(ctx context.Context, cancel context.CancelFunc, a Authenticator, token string, sock *socket, logger *slog.Logger) {
	t := time.NewTicker(recheckInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_, err := a.Authenticate(ctx, token)
		if err == nil || ctx.Err() != nil {
			continue
		}
		if domain.ErrorCode(err) != domain.CodeUnauthenticated {
			// The database may be briefly away: keep the socket, check again.
			logger.WarnContext(ctx, "re-authenticate websocket", "error", err.Error())
			continue
		}
		sock.forbid()
		cancel()
		return
	}
}

// initToken finds the bearer token in connection_init's payload, under Authorization in any
// letter case.
func initToken(payload transport.InitPayload) (string, bool) {
	for k, v := range payload {
		if s, ok := v.(string); ok && strings.EqualFold(k, "Authorization") {
			return bearerToken(s)
		}
	}
	return "", false
}

// originAllowed lets a browser page open a socket from its own host or from an origin listed
// for CORS; clients that send no Origin (servers, scripts) are not browsers.
func originAllowed(r *http.Request, origins []string) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || slices.Contains(origins, "*") || slices.Contains(origins, origin) {
		return true
	}
	host, ok := strings.CutPrefix(origin, "http://")
	if !ok {
		host, _ = strings.CutPrefix(origin, "https://")
	}
	return strings.EqualFold(host, r.Host)
}

// webSockets serves upgrade requests with their own cap, outside the admission slots and the
// request deadline (a subscription lasts as long as its client wants): over the cap, 503.
// Each socket is registered in open (when not nil), which closes them when the server stops.
func webSockets(max int, open *Sockets, next http.Handler) http.Handler {
	var count atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if count.Add(1) > int64(max) {
			count.Add(-1)
			w.Header().Set("Retry-After", "5")
			writeError(w, r, http.StatusServiceUnavailable, domain.CodeBadUserInput, domain.ReasonLimitExceeded, "too many open WebSocket connections on this server; retry later")
			return
		}
		defer count.Add(-1)
		sock := &socket{}
		ctx, cancel := context.WithCancel(context.WithValue(r.Context(), socketKey{}, sock))
		defer cancel()
		if !open.add(sock, cancel) {
			w.Header().Set("Retry-After", "1")
			writeError(w, r, http.StatusServiceUnavailable, domain.CodeInternal, "", "this server is stopping; retry (through a load balancer, another server answers)")
			return
		}
		defer open.remove(sock)
		next.ServeHTTP(&hijackWriter{ResponseWriter: w, sock: sock}, r.WithContext(ctx))
	})
}

// Sockets are a server's open GraphQL WebSockets. http.Server.Shutdown neither closes nor
// waits for them (they are hijacked connections): without Close, a stopping server's
// subscribers would see their TCP connection drop with no close frame (1006).
type Sockets struct {
	mu     sync.Mutex
	open   map[*socket]context.CancelFunc
	done   sync.WaitGroup
	closed bool
}

// NewSockets returns an empty set.
func NewSockets() *Sockets { return &Sockets{open: map[*socket]context.CancelFunc{}} }

func (s *Sockets) add(sock *socket, cancel context.CancelFunc) bool {
	if s == nil {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.open[sock] = cancel
	s.done.Add(1)
	return true
}

func (s *Sockets) remove(sock *socket) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.open, sock)
	s.done.Done()
}

// Close ends every open socket with 1001 Going Away (a graphql-transport-ws client then
// reconnects, through a balancer to another server) and refuses new ones; it returns once
// they are closed, or when ctx ends.
func (s *Sockets) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	for sock, cancel := range s.open {
		sock.goAway()
		cancel() // gqlgen closes a socket whose context ends
	}
	s.mu.Unlock()
	closed := make(chan struct{})
	go func() { s.done.Wait(); close(closed) }()
	select {
	case <-closed:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type socketKey struct{}

func socketOf(ctx context.Context) *socket {
	s, _ := ctx.Value(socketKey{}).(*socket)
	return s
}

// socket is the connection under gqlgen's transport. gqlgen closes a socket whose context ends
// with code 1000; once forbid is called, the close frame it writes is given code 4403
// instead, which graphql-transport-ws clients read as "credentials refused", and once goAway
// is, 1001 Going Away (the server stops).
type socket struct {
	closeCode atomic.Uint32 // 0: as gqlgen writes it
}

func (s *socket) forbid() {
	if s != nil {
		s.closeCode.Store(CloseForbidden)
	}
}

func (s *socket) goAway() {
	s.closeCode.CompareAndSwap(0, websocket.CloseGoingAway)
}

type hijackWriter struct {
	http.ResponseWriter
	sock *socket
}

func (w *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	// The server's read and write timeouts were set for a request; a socket lives longer.
	_ = conn.SetDeadline(time.Time{})
	return &socketConn{Conn: conn, sock: w.sock}, rw, nil
}

type socketConn struct {
	net.Conn
	sock *socket
	mu   sync.Mutex
}

// Write rewrites the code of a close frame once the socket is forbidden or going away. gorilla writes a
// server's close frame whole in one call: FIN+close opcode, an unmasked length under 126, the
// two-byte code.
func (c *socketConn) Write(p []byte) (int, error) {
	if code := c.sock.closeCode.Load(); code != 0 && len(p) >= 4 && p[0] == 0x88 && int(p[1]) == len(p)-2 &&
		binary.BigEndian.Uint16(p[2:4]) == websocket.CloseNormalClosure {
		q := slices.Clone(p)
		binary.BigEndian.PutUint16(q[2:4], uint16(code))
		p = q
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Conn.Write(p)
}
