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
// drops it, logged), and each subscription has a buffer bounded in events (Buffer) and in
// bytes (BufferBytes: events are up to 1 MiB each). A subscription whose buffer would go over
// either when an event arrives is ended, logged: what it holds is still sent, then its channel
// closes and the client sees the subscription complete, rather than skipping events silently;
// every event stays readable in Connection.events, from which a client resumes.
type Live struct {
	reader EventReader
	logger *slog.Logger
	// Buffer is each subscription's buffer of events not yet sent (default 256).
	Buffer int
	// BufferBytes bounds the bytes (bodies and headers) of that buffer (default 8 MiB).
	BufferBytes int

	mu     sync.Mutex
	subs   map[*subscription]struct{}
	orgs   map[string]int // subscriptions per organisation: a quick "anyone?"
	queue  chan notify.Event
	closed bool
}

type subscription struct {
	orgID, connectionID string
	trigger             *string
	out                 chan *domain.Event // unbuffered, read by the transport
	maxEvents, maxBytes int

	// Guarded by Live.mu.
	queue []*domain.Event
	bytes int
	ended bool
	wake  chan struct{} // a token when queue or ended changed
	gone  chan struct{} // closed when the subscriber's context ends
}

// eventBytes is what an event weighs in a buffer.
func eventBytes(ev *domain.Event) int {
	n := len(ev.Body) + 256
	for _, h := range ev.Headers {
		n += len(h.Name) + len(h.Value)
	}
	return n
}

// forward hands the queued events to the transport one at a time, then closes out once the
// subscription has ended (or at once when its subscriber has gone).
func (l *Live) forward(s *subscription) {
	defer close(s.out)
	for {
		l.mu.Lock()
		if len(s.queue) == 0 {
			ended := s.ended
			l.mu.Unlock()
			if ended {
				return
			}
			select {
			case <-s.wake:
				continue
			case <-s.gone:
				return
			}
		}
		// The event stays counted in the buffer until the transport has taken it.
		ev := s.queue[0]
		l.mu.Unlock()
		select {
		case s.out <- ev:
		case <-s.gone:
			return
		}
		l.mu.Lock()
		s.queue[0] = nil
		s.queue = s.queue[1:]
		s.bytes -= eventBytes(ev)
		l.mu.Unlock()
	}
}

// NewLive starts fanning events of bus out; stop ends it.
func NewLive(bus *notify.Bus, reader EventReader, logger *slog.Logger) (l *Live, stop func()) {
	l = &Live{reader: reader, logger: logger, Buffer: 256, BufferBytes: 8 << 20, subs: map[*subscription]struct{}{}, orgs: map[string]int{}, queue: make(chan notify.Event, 4096)}
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
		if n := eventBytes(ev); len(s.queue) < s.maxEvents && s.bytes+n <= s.maxBytes {
			s.queue = append(s.queue, ev)
			s.bytes += n
		} else {
			l.logger.Warn("live events: subscriber too slow; subscription completed (it resumes from Connection.events)",
				"connection_id", s.connectionID, "unsent_events", len(s.queue), "unsent_bytes", s.bytes)
			l.removeLocked(s)
		}
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// Subscribe streams the events of one connection (of one trigger when trigger is set) stored
// from now on, until ctx ends. The caller has checked that the connection is orgID's.
func (l *Live) Subscribe(ctx context.Context, orgID, connectionID string, trigger *string) <-chan *domain.Event {
	s := &subscription{orgID: orgID, connectionID: connectionID, trigger: trigger, out: make(chan *domain.Event),
		maxEvents: l.Buffer, maxBytes: l.BufferBytes, wake: make(chan struct{}, 1), gone: make(chan struct{})}
	l.mu.Lock()
	l.subs[s] = struct{}{}
	l.orgs[orgID]++
	l.mu.Unlock()
	go l.forward(s)
	go func() {
		<-ctx.Done()
		close(s.gone)
		l.mu.Lock()
		l.removeLocked(s)
		l.mu.Unlock()
	}()
	return s.out
}

func (l *Live) removeLocked(s *subscription) {
	if _, ok := l.subs[s]; !ok {
		return
	}
	delete(l.subs, s)
	if l.orgs[s.orgID]--; l.orgs[s.orgID] == 0 {
		delete(l.orgs, s.orgID)
	}
	s.ended = true
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Subscribers counts this server's subscriptions (for tests and metrics).
func (l *Live) Subscribers() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.subs)
}
