package graph_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"

	"github.com/plugboard/plugboard/internal/apitest"
	"github.com/plugboard/plugboard/internal/server"
	"github.com/plugboard/plugboard/internal/testdb"
)

const eventsSubscription = `subscription($c: ID!, $t: String) { connectionEvents(connectionId: $c, trigger: $t) { id trigger deliveryId body } }`

// wsMessage is a graphql-transport-ws message.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// dialGraphQL opens a graphql-transport-ws socket on h and sends connection_init with
// payload; it returns the socket and the first message the server answered.
func dialGraphQL(t *testing.T, h *apitest.Harness, payload map[string]any) (*websocket.Conn, wsMessage, error) {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 10 * time.Second}
	conn, res, err := d.Dial("ws"+strings.TrimPrefix(h.Server.URL, "http")+"/graphql", nil)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, res)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.WriteJSON(map[string]any{"type": "connection_init", "payload": payload}); err != nil {
		t.Fatal(err)
	}
	var m wsMessage
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	err = conn.ReadJSON(&m)
	return conn, m, err
}

func subscribe(t *testing.T, h *apitest.Harness, token, connection string, trigger any) *websocket.Conn {
	t.Helper()
	before := h.Live.Subscribers()
	conn, ack, err := dialGraphQL(t, h, map[string]any{"authorization": "bearer " + token})
	if err != nil || ack.Type != "connection_ack" {
		t.Fatalf("connection_init: %+v %v", ack, err)
	}
	err = conn.WriteJSON(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query": eventsSubscription, "variables": map[string]any{"c": connection, "t": trigger}}})
	if err != nil {
		t.Fatal(err)
	}
	// Deliveries made before the subscription is registered would not reach it.
	for deadline := time.Now().Add(10 * time.Second); h.Live.Subscribers() == before; {
		if time.Now().After(deadline) {
			t.Fatal("the subscription was not registered within 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return conn
}

// next reads messages until one of type typ for subscription 1.
func next(t *testing.T, conn *websocket.Conn, typ string) wsMessage {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var m wsMessage
		if err := conn.ReadJSON(&m); err != nil {
			t.Fatalf("waiting for %s: %v", typ, err)
		}
		if m.Type == typ {
			return m
		}
		if m.Type == "error" {
			t.Fatalf("subscription error: %s", m.Payload)
		}
	}
}

// closeCode reads until the server closes the socket and returns its code.
func closeCode(t *testing.T, conn *websocket.Conn) int {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := conn.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		if err != nil {
			t.Fatalf("the socket ended without a close frame: %v", err)
		}
	}
}

// A subscriber on server B receives the event delivered to server A (on PostgreSQL through
// LISTEN/NOTIFY; on SQLite the servers share one process's bus), and nothing of another
// connection or trigger; its socket closes with 4403 once its key is revoked on A.
func TestConnectionEventsSubscription(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			a, b := twoServers(t, d)
			admin := a.NewOrg(t)
			x := newHooked(t, admin)
			reader := a.NewKey(t, admin.OrgID, "connectors:read")
			conn := subscribe(t, b, reader.Token, x.connection, "push")

			url := hookURL(t, admin, x.connection, "push")
			slackURL := hookURL(t, admin, x.connection, "slack")
			if status, _ := deliver(t, slackURL, "x", map[string]string{}); status != http.StatusUnauthorized {
				t.Fatal("unsigned delivery accepted")
			}
			body := `{"live":true}`
			if status, answer := deliver(t, url, body, githubHeaders(body, "live-1")); status != http.StatusAccepted {
				t.Fatalf("delivery: %d %s", status, answer)
			}
			m := next(t, conn, "next")
			var p struct {
				Data struct {
					ConnectionEvents struct{ Trigger, DeliveryID, Body string }
				}
			}
			if err := json.Unmarshal(m.Payload, &p); err != nil || p.Data.ConnectionEvents.Body != body || p.Data.ConnectionEvents.DeliveryID != "live-1" {
				t.Fatalf("event streamed: %s (%v)", m.Payload, err)
			}

			admin.Do(t, revokeKey, map[string]any{"id": reader.KeyID}).OK(t)
			if code := closeCode(t, conn); code != 4403 {
				t.Errorf("revoked key: close code %d, want 4403", code)
			}
		})
	}
}

func TestSubscriptionAccess(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		admin := h.NewOrg(t)
		x := newHooked(t, admin)
		// No token, a bad token: 4403.
		for _, payload := range []map[string]any{{}, {"Authorization": "Bearer pb_nope"}} {
			conn, _, _ := dialGraphQL(t, h, payload)
			if code := closeCode(t, conn); code != 4403 {
				t.Errorf("connection_init %v: close code %d, want 4403", payload, code)
			}
		}
		// Another organisation's connection is NOT_FOUND; a key without connectors:read is FORBIDDEN.
		for _, c := range []struct {
			client *apitest.Client
			code   string
		}{{h.NewOrg(t), "NOT_FOUND"}, {h.NewKey(t, admin.OrgID, "keys:manage"), "FORBIDDEN"}} {
			conn, ack, err := dialGraphQL(t, h, map[string]any{"AUTHORIZATION": "Bearer " + c.client.Token})
			if err != nil || ack.Type != "connection_ack" {
				t.Fatalf("connection_init: %+v %v", ack, err)
			}
			_ = conn.WriteJSON(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
				"query": eventsSubscription, "variables": map[string]any{"c": x.connection}}})
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			var m wsMessage
			// gqlgen reports a resolver's error as a result with errors (next), then complete.
			if err := conn.ReadJSON(&m); err != nil || (m.Type != "error" && m.Type != "next") || !strings.Contains(string(m.Payload), `"code":"`+c.code+`"`) {
				t.Errorf("subscribe: %+v %s %v, want %s", m, m.Payload, err, c.code)
			}
		}
	})
}

// WebSockets have their own cap, apart from the admission slots: over it, 503 at the upgrade,
// while GraphQL over HTTP goes on.
func TestWebSocketCap(t *testing.T) {
	st := testdb.Open(t, "sqlite")
	h := apitest.NewWithOptions(t, st, apitest.Options{Limits: server.Limits{MaxWebSockets: 1}})
	c := h.NewOrg(t)
	if _, ack, err := dialGraphQL(t, h, map[string]any{"Authorization": "Bearer " + c.Token}); err != nil || ack.Type != "connection_ack" {
		t.Fatalf("first socket: %+v %v", ack, err)
	}
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}}
	_, res, err := d.Dial("ws"+strings.TrimPrefix(h.Server.URL, "http")+"/graphql", nil)
	if err == nil || res == nil || res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("second socket over the cap: %v %v", res, err)
	}
	c.Do(t, viewerQuery, nil).OK(t)
}

// A stopping server closes its subscriptions with 1001 Going Away (clients reconnect, through a
// balancer to another server), not by dropping the connection, and takes no new socket.
func TestSocketsClosedOnShutdown(t *testing.T) {
	h := apitest.New(t, testdb.Open(t, "sqlite"))
	admin := h.NewOrg(t)
	x := newHooked(t, admin)
	conn := subscribe(t, h, admin.Token, x.connection, "push")
	if err := h.Sockets.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if code := closeCode(t, conn); code != websocket.CloseGoingAway {
		t.Errorf("close code %d, want 1001", code)
	}
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}}
	_, res, err := d.Dial("ws"+strings.TrimPrefix(h.Server.URL, "http")+"/graphql", nil)
	if err == nil || res == nil || res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("a socket opened while the server stops: %v %v", res, err)
	}
	admin.Do(t, viewerQuery, nil).OK(t)
}

// A socket opened with a JWT closes with 4403 once the token expires (its exp, plus the
// configured leeway).
func TestSubscriptionJWTExpiry(t *testing.T) {
	st := testdb.Open(t, "sqlite")
	idp := newIdentityProvider(t)
	cfg := jwksConfig(idp)
	cfg.Leeway = time.Millisecond
	h := jwtHarness(t, st, cfg)
	org := h.NewOrg(t)
	c := claims(org.OrgID, "connectors:read")
	c["exp"] = time.Now().Add(2 * time.Second).Unix()
	token := sign(t, jwt.SigningMethodRS256, "k1", idp.key("k1"), c)
	conn, ack, err := dialGraphQL(t, h, map[string]any{"Authorization": "Bearer " + token})
	if err != nil || ack.Type != "connection_ack" {
		t.Fatalf("connection_init with a valid JWT: %+v %v", ack, err)
	}
	if code := closeCode(t, conn); code != 4403 {
		t.Errorf("expired JWT: close code %d, want 4403", code)
	}
}

// dialFrom opens a graphql-transport-ws socket on h from the loopback address ip, without
// connection_init; status is the upgrade's answer.
func dialFrom(t *testing.T, h *apitest.Harness, ip string) (*websocket.Conn, int) {
	t.Helper()
	return dialFromWith(t, h, ip, nil)
}

// dialFromWith is dialFrom with request headers (X-Forwarded-For of a proxy).
func dialFromWith(t *testing.T, h *apitest.Harness, ip string, header http.Header) (*websocket.Conn, int) {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 10 * time.Second,
		NetDial: func(network, addr string) (net.Conn, error) {
			return (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}).Dial(network, addr)
		}}
	conn, res, err := d.Dial("ws"+strings.TrimPrefix(h.Server.URL, "http")+"/graphql", header)
	if err != nil {
		if res == nil {
			if os.Getenv("PLUGBOARD_TEST_REQUIRE_LOOPBACK_ALIASES") == "" {
				t.Skipf("cannot dial from %s: %v", ip, err)
			}
			t.Fatalf("dial from %s: %v", ip, err)
		}
		return nil, res.StatusCode
	}
	t.Cleanup(func() { conn.Close() })
	return conn, http.StatusSwitchingProtocols
}

// Sockets that never send connection_init hold pending slots, a few per address, never the
// authenticated ones, and close with 4408 after the init timeout; an organisation holds at
// most half of the authenticated sockets.
func TestWebSocketPendingAndShares(t *testing.T) {
	st := testdb.Open(t, "sqlite")
	h := apitest.NewWithOptions(t, st, apitest.Options{Limits: server.Limits{MaxWebSockets: 4}})
	a, b := h.NewOrg(t), h.NewOrg(t)
	var idle []*websocket.Conn
	for range 8 {
		conn, status := dialFrom(t, h, "127.0.0.3")
		if status != http.StatusSwitchingProtocols {
			t.Fatalf("pending socket %d: %d", len(idle)+1, status)
		}
		idle = append(idle, conn)
	}
	if _, status := dialFrom(t, h, "127.0.0.3"); status != http.StatusServiceUnavailable {
		t.Errorf("a ninth pending socket from one address: %d, want 503", status)
	}
	for i, c := range []*apitest.Client{a, a} {
		if _, ack, err := dialGraphQL(t, h, map[string]any{"Authorization": "Bearer " + c.Token}); err != nil || ack.Type != "connection_ack" {
			t.Fatalf("subscriber %d of A beside the idle sockets: %+v %v", i+1, ack, err)
		}
	}
	_, m, err := dialGraphQL(t, h, map[string]any{"Authorization": "Bearer " + a.Token})
	if ce := (*websocket.CloseError)(nil); !errors.As(err, &ce) || ce.Code != 1013 {
		t.Errorf("A over its share: %+v %v, want close 1013", m, err)
	}
	if _, ack, err := dialGraphQL(t, h, map[string]any{"Authorization": "Bearer " + b.Token}); err != nil || ack.Type != "connection_ack" {
		t.Fatalf("B has its share: %+v %v", ack, err)
	}
	start := time.Now()
	if code := closeCode(t, idle[0]); code != server.CloseInitTimeout {
		t.Errorf("no connection_init: close %d, want 4408", code)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("the init timeout took %v", waited)
	}
}

// Behind a trusted proxy every client shares the proxy's address: the per-address pending cap
// counts the client X-Forwarded-For names instead, and from any other peer the header is ignored.
func TestWebSocketPendingCapBehindAProxy(t *testing.T) {
	st := testdb.Open(t, "sqlite")
	h := apitest.NewWithOptions(t, st, apitest.Options{Limits: server.Limits{
		MaxWebSockets: 400, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.4/32")},
	}})
	forwarded := func(client string) http.Header { return http.Header{"X-Forwarded-For": {client}} }
	for i := range 12 {
		if _, status := dialFromWith(t, h, "127.0.0.4", forwarded(fmt.Sprintf("203.0.113.%d", i+1))); status != http.StatusSwitchingProtocols {
			t.Fatalf("pending socket of client %d through the proxy: %d", i+1, status)
		}
	}
	for i := range 8 {
		if _, status := dialFromWith(t, h, "127.0.0.4", forwarded("198.51.100.1")); status != http.StatusSwitchingProtocols {
			t.Fatalf("pending socket %d of one client through the proxy: %d", i+1, status)
		}
	}
	if _, status := dialFromWith(t, h, "127.0.0.4", forwarded("198.51.100.1")); status != http.StatusServiceUnavailable {
		t.Errorf("a ninth pending socket of one client through the proxy: %d, want 503", status)
	}
	// An untrusted peer cannot spread itself over made-up clients.
	for i := range 8 {
		if _, status := dialFromWith(t, h, "127.0.0.5", forwarded(fmt.Sprintf("192.0.2.%d", i+1))); status != http.StatusSwitchingProtocols {
			t.Fatalf("pending socket %d of an untrusted peer: %d", i+1, status)
		}
	}
	if _, status := dialFromWith(t, h, "127.0.0.5", forwarded("192.0.2.99")); status != http.StatusServiceUnavailable {
		t.Errorf("a ninth pending socket of an untrusted peer naming another client: %d, want 503", status)
	}
}
