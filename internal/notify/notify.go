// Package notify is the cross-server bus: it tells every Plugboard server that rows changed,
// so that per-process caches (the verified API keys today) stay coherent across replicas.
//
// On PostgreSQL the database publishes: triggers (migration 9) call pg_notify on Channel when
// api_keys or organisations rows change, in the writing transaction, so a change is announced
// exactly when it commits, whichever server, command or SQL session made it. Each server
// LISTENs on one dedicated connection (PLUGBOARD_DATABASE_DIRECT_URL: LISTEN needs a session,
// which a pooler in transaction mode does not give), reconnecting with backoff when it drops.
// On SQLite one server owns the file, so the bus is in process: the store publishes after its
// transactions commit.
//
// The bus is best effort: notifications sent while a listener is disconnected are lost.
// Subscribers therefore receive a Reset event whenever the listener (re)connects and must drop
// everything they cache then, and caches keep their own lifetime as the fallback while the
// bus is down.
package notify

import (
	"context"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Channel is the PostgreSQL notification channel of the bus.
const Channel = "plugboard"

// Topics of events: the changed table, as the triggers name it (TG_TABLE_NAME), or Reset.
const (
	TopicAPIKeys       = "api_keys"
	TopicOrganisations = "organisations"
	// TopicEvents announces a stored webhook event (ID) to every server's subscriptions.
	TopicEvents = "events"
	// Reset says that events may have been missed (the listener has just connected, for the
	// first time or again): subscribers drop all they cache.
	Reset = "reset"
)

// Event says that one row changed. It is also the JSON payload of a notification.
type Event struct {
	Topic string `json:"topic"`
	// Op is INSERT, UPDATE or DELETE.
	Op string `json:"op,omitempty"`
	// ID is the changed row's id; OrganisationID its organisation (the id itself for an
	// organisation).
	ID             string `json:"id,omitempty"`
	OrganisationID string `json:"organisation_id,omitempty"`
}

// Bus delivers events to the subscribers of this process.
type Bus struct {
	url    string // PostgreSQL URL to LISTEN on; empty: in process only
	logger *slog.Logger

	// MinBackoff and MaxBackoff bound the wait between reconnection attempts, which doubles
	// from the first to the second (with jitter, so that replicas do not all come back at
	// once after a database restart).
	MinBackoff, MaxBackoff time.Duration
	// PingInterval is how long the listener waits for a notification before checking that
	// its connection is alive: a connection lost without a word (a network partition) would
	// otherwise look like a quiet one for ever.
	PingInterval time.Duration

	mu     sync.Mutex
	subs   map[int]func(Event)
	order  []int // subscription ids in the order they subscribed
	nextID int

	pid    atomic.Uint32 // backend of the listening connection, 0 while not listening
	cancel context.CancelFunc
	done   chan struct{}
}

// NewLocal returns an in-process bus, for SQLite: events published here reach this process's
// subscribers only.
func NewLocal() *Bus { return &Bus{subs: map[int]func(Event){}} }

// NewPostgres returns a bus listening on the PostgreSQL database at url once started.
func NewPostgres(url string, logger *slog.Logger) *Bus {
	b := NewLocal()
	b.url, b.logger = url, logger
	b.MinBackoff, b.MaxBackoff, b.PingInterval = 100*time.Millisecond, 5*time.Second, 15*time.Second
	return b
}

// Subscribe calls fn with every event, until the returned function is called. Subscribers
// are called one after another, in the order they subscribed, on the goroutine that delivers
// (the listener's, or Publish's caller's): so fn must be quick, and when a later subscriber
// sees an event the earlier ones have handled it (tests wait on that).
func (b *Bus) Subscribe(fn func(Event)) (unsubscribe func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	id := b.nextID
	b.nextID++
	b.subs[id] = fn
	b.order = append(b.order, id)
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.subs, id)
		b.order = slices.DeleteFunc(b.order, func(i int) bool { return i == id })
	}
}

// Publish delivers ev to this process's subscribers. On SQLite that is the whole bus; on
// PostgreSQL events come from pg_notify in the writing transaction instead, so that other
// servers hear of them too.
func (b *Bus) Publish(ev Event) {
	b.mu.Lock()
	fns := make([]func(Event), 0, len(b.subs))
	for _, id := range b.order {
		if fn, ok := b.subs[id]; ok {
			fns = append(fns, fn)
		}
	}
	b.mu.Unlock()
	for _, fn := range fns {
		fn(ev)
	}
}

// ListenerPID is the PostgreSQL backend of the listening connection, 0 when not listening
// (or in process): for diagnostics, and for tests that cut the connection.
func (b *Bus) ListenerPID() uint32 { return b.pid.Load() }

// Start starts listening in the background until Stop or ctx ends; it does nothing for an
// in-process bus. It does not wait for the connection: the Reset delivered once listening
// covers what changed before.
func (b *Bus) Start(ctx context.Context) {
	if b.url == "" || b.done != nil {
		return
	}
	ctx, b.cancel = context.WithCancel(ctx)
	b.done = make(chan struct{})
	go b.run(ctx)
}

// Stop stops listening and waits for the listener to end.
func (b *Bus) Stop() {
	if b.done == nil {
		return
	}
	b.cancel()
	<-b.done
}

func (b *Bus) run(ctx context.Context) {
	defer close(b.done)
	backoff := b.MinBackoff
	for {
		listened, err := b.listen(ctx)
		if ctx.Err() != nil {
			return
		}
		if listened {
			backoff = b.MinBackoff
			b.logger.Warn("notify: listener connection lost; reconnecting (caches live PLUGBOARD_KEY_CACHE_TTL meanwhile)", "error", err.Error())
		} else {
			b.logger.Warn("notify: cannot listen; retrying", "error", err.Error(), "retry_in", backoff.String())
		}
		// Jitter in [backoff/2, backoff).
		wait := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		backoff = min(2*backoff, b.MaxBackoff)
	}
}

// listen connects, LISTENs and delivers notifications until the connection fails or ctx
// ends. listened tells whether it got as far as listening.
func (b *Bus) listen(ctx context.Context) (listened bool, err error) {
	cfg, err := pgx.ParseConfig(b.url)
	if err != nil {
		return false, err
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	// Named, so that operators see the listener in pg_stat_activity.
	cfg.RuntimeParams["application_name"] = "plugboard-notify"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, err
	}
	defer func() {
		b.pid.Store(0)
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		return false, err
	}
	b.pid.Store(conn.PgConn().PID())
	b.logger.Info("notify: listening", "channel", Channel)
	// Anything committed from now on is notified; anything before may have been missed.
	b.Publish(Event{Topic: Reset})
	for {
		waitCtx, cancel := context.WithTimeout(ctx, b.PingInterval)
		n, err := conn.WaitForNotification(waitCtx)
		cancel()
		switch {
		case err == nil:
			var ev Event
			if jerr := json.Unmarshal([]byte(n.Payload), &ev); jerr != nil || ev.Topic == "" {
				b.logger.Warn("notify: payload ignored", "payload", n.Payload)
				continue
			}
			b.Publish(ev)
		case ctx.Err() != nil:
			return true, ctx.Err()
		case waitCtx.Err() != nil && !conn.IsClosed():
			// Quiet for a while: prove the connection still answers. Notifications arriving
			// meanwhile are kept by pgx for the next wait.
			pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := conn.Ping(pingCtx)
			cancel()
			if err != nil {
				return true, err
			}
		default:
			return true, err
		}
	}
}
