package hooks

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/notify"
)

// EventReader loads a stored event for live delivery.
type EventReader interface {
	FindEvent(ctx context.Context, orgID, id string) (*domain.Event, error)
}

// Live fans stored events out to this server's subscriptions. Every server hears of every
// stored event on the bus (PostgreSQL's NOTIFY, carrying the event's id; in process on
// SQLite), reads it once if one of its subscriptions wants it, and hands it to each.
//
// Ingestion never waits for a subscriber: the bus callback only queues the id (a full queue
// drops it, logged), and each subscription has a bounded buffer. A subscription whose buffer
// is full when an event arrives is ended (its channel closed: the client sees the
// subscription complete) rather than skipping events silently; every event stays readable in
// Connection.events, from which a client resumes.
type Live struct {
	reader EventReader
	logger *slog.Logger
	// Buffer is each subscription's buffer of events not yet sent (default 256).
	Buffer int

	mu     sync.Mutex
	subs   map[*subscription]struct{}
	orgs   map[string]int // subscriptions per organisation: a quick "anyone?"
	queue  chan notify.Event
	closed bool
}

type subscription struct {
	orgID, connectionID string
	trigger             *string
	ch                  chan *domain.Event
}

// NewLive starts fanning events of bus out; stop ends it.
func NewLive(bus *notify.Bus, reader EventReader, logger *slog.Logger) (l *Live, stop func()) {
	l = &Live{reader: reader, logger: logger, Buffer: 256, subs: map[*subscription]struct{}{}, orgs: map[string]int{}, queue: make(chan notify.Event, 4096)}
	unsubscribe := bus.Subscribe(func(ev notify.Event) {
		if ev.Topic != notify.TopicEvents {
			return
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.closed || l.orgs[ev.OrganisationID] == 0 {
			return
		}
		select {
		case l.queue <- ev:
		default:
			logger.Warn("live events: queue full; event not streamed (it is stored)", "event_id", ev.ID)
		}
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range l.queue {
			l.deliver(ev)
		}
	}()
	return l, func() {
		unsubscribe()
		l.mu.Lock()
		if !l.closed {
			l.closed = true
			close(l.queue)
		}
		l.mu.Unlock()
		<-done
	}
}

func (l *Live) deliver(n notify.Event) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ev, err := l.reader.FindEvent(ctx, n.OrganisationID, n.ID)
	if err != nil {
		l.logger.Warn("live events: read event", "event_id", n.ID, "error", err.Error())
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for s := range l.subs {
		if s.orgID != ev.OrganisationID || s.connectionID != ev.ConnectionID || (s.trigger != nil && *s.trigger != ev.Trigger) {
			continue
		}
		select {
		case s.ch <- ev:
		default:
			l.logger.Warn("live events: subscriber too slow; subscription ended", "connection_id", s.connectionID)
			l.removeLocked(s)
		}
	}
}

// Subscribe streams the events of one connection (of one trigger when trigger is set) stored
// from now on, until ctx ends. The caller has checked that the connection is orgID's.
func (l *Live) Subscribe(ctx context.Context, orgID, connectionID string, trigger *string) <-chan *domain.Event {
	s := &subscription{orgID: orgID, connectionID: connectionID, trigger: trigger, ch: make(chan *domain.Event, l.Buffer)}
	l.mu.Lock()
	l.subs[s] = struct{}{}
	l.orgs[orgID]++
	l.mu.Unlock()
	go func() {
		<-ctx.Done()
		l.mu.Lock()
		l.removeLocked(s)
		l.mu.Unlock()
	}()
	return s.ch
}

func (l *Live) removeLocked(s *subscription) {
	if _, ok := l.subs[s]; !ok {
		return
	}
	delete(l.subs, s)
	if l.orgs[s.orgID]--; l.orgs[s.orgID] == 0 {
		delete(l.orgs, s.orgID)
	}
	close(s.ch)
}

// Subscribers counts this server's subscriptions (for tests and metrics).
func (l *Live) Subscribers() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.subs)
}
