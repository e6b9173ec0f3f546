package server

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"

	"github.com/plugboard/plugboard/internal/auth"
	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/fairshare"
)

// CloseForbidden is the close code of a socket whose credentials are refused or end
// (graphql-transport-ws's 4403 Forbidden).
const CloseForbidden = 4403

// CloseInitTimeout closes a socket that sent no connection_init in time (graphql-transport-ws's
// 4408 Connection initialisation timeout).
const CloseInitTimeout = 4408

// closeTryAgainLater closes a socket refused for its organisation's share of the cap (RFC 6455's
// 1013 Try Again Later): unlike 4403, a client may come back.
const closeTryAgainLater = 1013

// socketWriteTimeout bounds one write to a socket.
const socketWriteTimeout = 30 * time.Second

// initTimeout is how long a socket may wait before its connection_init: until then it holds a
// pending slot, not one of the authenticated ones.
const initTimeout = 3 * time.Second

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
		InitTimeout:           initTimeout,
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
			if !sock.admit(tenantOf(auth.WithPrincipal(ctx, p))) {
				sock.closeWith(closeTryAgainLater)
				return ctx, nil, errors.New("too many open WebSocket connections for this organisation on this server; retry later")
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

// webSockets serves upgrade requests with their own caps, outside the admission slots and the
// request deadline (a subscription lasts as long as its client wants). A socket that has not
// completed connection_init holds one of few pending slots (pendingPerAddress per remote
// address), for initTimeout at most, so that keyless clients cannot hold the authenticated
// ones; once authenticated it holds one of limit, of which one organisation holds at most half.
// Over a cap at the upgrade, 503; over the organisation's share at connection_init, close 1013.
// Each socket is registered in open (when not nil), which closes them when the server stops.
// The address is the client's as clientAddr finds it behind the trusted proxies.
func webSockets(limit int, trusted []netip.Prefix, open *Sockets, next http.Handler) http.Handler {
	caps := &socketCaps{
		pendingMax: max(16, limit/8), pendingByAddr: map[string]int{}, max: int64(limit),
		open: fairshare.New(int64(limit), int64(max(1, limit/2))),
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := clientAddr(r, trusted)
		if caps.full() || !caps.takePending(addr) {
			w.Header().Set("Retry-After", "5")
			writeError(w, r, http.StatusServiceUnavailable, domain.CodeBadUserInput, domain.ReasonLimitExceeded, "too many open WebSocket connections on this server; retry later")
			return
		}
		sock := &socket{caps: caps, addr: addr, pending: true}
		defer sock.release()
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

// clientAddr is the address a request came from: its peer's, or, when the peer is one of the
// trusted proxies, the nearest address in X-Forwarded-For that is not (each proxy appends the
// address it received from, so the entries left of it are the client's own claims). Behind a
// load balancer every client would otherwise share its address, and one per-address cap.
func clientAddr(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	isTrusted := func(s string) bool {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return false
		}
		a = a.Unmap()
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	if !isTrusted(host) {
		return host
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		if _, err := netip.ParseAddr(hop); err != nil {
			return host // a malformed entry: nothing left of it can be trusted
		}
		if !isTrusted(hop) {
			return hop
		}
	}
	return host
}

// pendingPerAddress bounds the sockets one remote address has waiting for connection_init.
const pendingPerAddress = 8

type socketCaps struct {
	mu            sync.Mutex
	pending       int
	pendingMax    int
	pendingByAddr map[string]int
	open          *fairshare.Share
	opened        atomic.Int64
	max           int64
}

func (c *socketCaps) full() bool {
	return c.max > 0 && c.opened.Load() >= c.max
}

func (c *socketCaps) takePending(addr string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending >= c.pendingMax || c.pendingByAddr[addr] >= pendingPerAddress {
		return false
	}
	c.pending++
	c.pendingByAddr[addr]++
	return true
}

func (c *socketCaps) givePending(addr string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pending--
	if c.pendingByAddr[addr]--; c.pendingByAddr[addr] <= 0 {
		delete(c.pendingByAddr, addr)
	}
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
	code atomic.Int32 // the code given to gqlgen's 1000 close frame instead; 0: kept
	caps *socketCaps
	addr string

	mu       sync.Mutex
	pending  bool
	giveOpen func()
}

func (s *socket) forbid() { s.closeWith(CloseForbidden) }

func (s *socket) closeWith(code int) {
	if s != nil {
		s.code.Store(int32(code))
	}
}

// admit moves an authenticated socket from its pending slot to one of tenant's open ones.
func (s *socket) admit(tenant string) bool {
	if s == nil || s.caps == nil {
		return true
	}
	give, err := s.caps.open.TryAcquire(tenant)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending {
		s.pending = false
		s.caps.givePending(s.addr)
	}
	if err != nil {
		return false
	}
	s.caps.opened.Add(1)
	s.giveOpen = give
	return true
}

func (s *socket) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending {
		s.pending = false
		s.caps.givePending(s.addr)
	}
	if s.giveOpen != nil {
		s.giveOpen()
		s.giveOpen = nil
		s.caps.opened.Add(-1)
	}
}

func (s *socket) goAway() {
	s.code.CompareAndSwap(0, websocket.CloseGoingAway)
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

// Write rewrites the code of gqlgen's close frames: 1000 once the socket is forbidden or
// refused (closeWith), and the 1002 of a missing connection_init to the 4408
// graphql-transport-ws requires. gorilla writes a server's close frame whole in one call:
// FIN+close opcode, an unmasked length under 126, the two-byte code, the reason.
func (c *socketConn) Write(p []byte) (int, error) {
	if len(p) >= 4 && p[0] == 0x88 && int(p[1]) == len(p)-2 {
		code := binary.BigEndian.Uint16(p[2:4])
		to := uint16(0)
		switch {
		case code == websocket.CloseNormalClosure && c.sock.code.Load() != 0:
			to = uint16(c.sock.code.Load())
		case code == websocket.CloseProtocolError && string(p[4:]) == "connection initialisation timeout":
			to = CloseInitTimeout
		}
		if to != 0 {
			q := slices.Clone(p)
			binary.BigEndian.PutUint16(q[2:4], to)
			p = q
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// A client that stops reading cannot hold the transport's writer (and its subscription's
	// buffered events) forever: gqlgen sets no write deadline.
	_ = c.Conn.SetWriteDeadline(time.Now().Add(socketWriteTimeout))
	return c.Conn.Write(p)
}
