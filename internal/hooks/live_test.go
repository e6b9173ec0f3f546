package hooks

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/notify"
)

type eventsByID map[string]*domain.Event

func (e eventsByID) FindEvent(_ context.Context, _, id string) (*domain.Event, error) {
	if ev, ok := e[id]; ok {
		return ev, nil
	}
	return nil, domain.NotFound("event", id)
}

// A subscriber that does not read is ended when its buffer is full; the others, and the
// publisher, go on.
func TestSlowSubscriberIsEnded(t *testing.T) {
	bus := notify.NewLocal()
	events := eventsByID{}
	live, stop := NewLive(bus, events, slog.New(slog.DiscardHandler))
	defer stop()
	live.Buffer = 2
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	slow := live.Subscribe(ctx, "org", "conn", nil)
	live.Buffer = 16
	watch := live.Subscribe(ctx, "org", "conn", nil)
	other := live.Subscribe(ctx, "org", "other", nil)
	foreign := live.Subscribe(ctx, "org2", "conn", nil)
	for _, id := range []string{"e1", "e2", "e3"} {
		events[id] = &domain.Event{ID: id, OrganisationID: "org", ConnectionID: "conn", Trigger: "push"}
	}
	// Published one at a time, as stores commit them; each reaches the reader before the next.
	for _, id := range []string{"e1", "e2", "e3"} {
		bus.Publish(notify.Event{Topic: notify.TopicEvents, ID: id, OrganisationID: "org"})
	}
	// Once the watcher has e3, every subscriber has been offered it (one delivery offers an
	// event to all), and the slow one, which read nothing, overflowed.
	timeout := time.After(10 * time.Second)
	for seen := 0; seen < 3; seen++ {
		select {
		case <-watch:
		case <-timeout:
			t.Fatal("events not delivered within 10 s")
		}
	}
	var got []string
	for done := false; !done; {
		select {
		case ev, ok := <-slow:
			if !ok {
				done = true
				break
			}
			got = append(got, ev.ID)
		case <-timeout:
			t.Fatalf("the slow subscription was not ended; got %v", got)
		}
	}
	if len(got) != 2 || got[0] != "e1" || got[1] != "e2" {
		t.Errorf("the buffered events are delivered before the end: %v", got)
	}
	if live.Subscribers() != 3 {
		t.Errorf("the others stay subscribed: %d", live.Subscribers())
	}
	select {
	case ev := <-other:
		t.Errorf("another connection's subscriber got %v", ev)
	case ev := <-foreign:
		t.Errorf("another organisation's subscriber got %v", ev)
	default:
	}
}

// Large events fill a buffer by bytes before its count: the subscription is ended (its
// channel closes after what it holds, so the client sees complete) and a line is logged.
func TestLargeEventsEndASlowSubscriber(t *testing.T) {
	bus := notify.NewLocal()
	events := eventsByID{}
	var logged strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logged.Write(p)
	}), nil))
	live, stop := NewLive(bus, events, logger)
	defer stop()
	live.BufferBytes = 3 << 20
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	slow := live.Subscribe(ctx, "org", "conn", nil)
	big := make([]byte, 1<<20)
	ids := []string{"e1", "e2", "e3", "e4", "e5"}
	for _, id := range ids {
		events[id] = &domain.Event{ID: id, OrganisationID: "org", ConnectionID: "conn", Trigger: "push", Body: big}
	}
	for _, id := range ids {
		bus.Publish(notify.Event{Topic: notify.TopicEvents, ID: id, OrganisationID: "org"})
	}
	for deadline := time.Now().Add(10 * time.Second); live.Subscribers() != 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("a subscriber holding 3 MiB was not ended")
		}
	}
	var got int
	for range slow {
		got++
	}
	if got != 2 {
		t.Errorf("the events that fit are sent before the end: %d", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logged.String(), "subscriber too slow") {
		t.Errorf("no log line: %q", logged.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
