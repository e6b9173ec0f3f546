package notify_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/notify"
	"github.com/plugboard/plugboard/internal/store"
	"github.com/plugboard/plugboard/internal/testdb"
)

func TestLocalBusDeliversInOrder(t *testing.T) {
	bus := notify.NewLocal()
	var got []string
	stop := bus.Subscribe(func(ev notify.Event) { got = append(got, "first:"+ev.ID) })
	bus.Subscribe(func(ev notify.Event) { got = append(got, "second:"+ev.ID) })
	bus.Publish(notify.Event{Topic: notify.TopicAPIKeys, ID: "1"})
	stop()
	bus.Publish(notify.Event{Topic: notify.TopicAPIKeys, ID: "2"})
	want := []string{"first:1", "second:1", "second:2"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("delivered %v, want %v", got, want)
	}
	bus.Start(context.Background()) // nothing to listen to
	bus.Stop()
}

// The triggers of migration 9 announce changes of keys and organisations, and only those
// that matter to a cache: recording a key's use is not announced.
func TestTriggersAnnounceChanges(t *testing.T) {
	st := testdb.Open(t, store.Postgres)
	bus := notify.NewPostgres(testdb.PostgresURL(t), slog.New(slog.NewTextHandler(io.Discard, nil)))
	events := make(chan notify.Event, 100)
	bus.Subscribe(func(ev notify.Event) { events <- ev })
	bus.Start(context.Background())
	t.Cleanup(bus.Stop)
	next := func(what string) notify.Event {
		t.Helper()
		select {
		case ev := <-events:
			return ev
		case <-time.After(10 * time.Second):
			t.Fatalf("no event within 10 s: want %s", what)
		}
		return notify.Event{}
	}
	if ev := next("reset"); ev.Topic != notify.Reset {
		t.Fatalf("first event %+v, want a reset once listening", ev)
	}

	ctx := context.Background()
	org, err := st.CreateOrganisation(ctx, testdb.RandomName("org"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := st.CreateAPIKey(ctx, org.ID, domain.NewAPIKey{Name: "k", Scopes: []domain.Scope{domain.ScopeKeysManage}}, "pb_x", []byte(org.ID))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.TouchAPIKey(ctx, key.ID, time.Now(), time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RevokeAPIKey(ctx, org.ID, key.ID); err != nil {
		t.Fatal(err)
	}
	// Notifications arrive in commit order: had the use been announced, it would come first.
	want := notify.Event{Topic: notify.TopicAPIKeys, Op: "UPDATE", ID: key.ID, OrganisationID: org.ID}
	if ev := next("the revocation"); ev != want {
		t.Fatalf("got %+v, want %+v", ev, want)
	}

	db, _ := st.SQL()
	if _, err := db.Exec("UPDATE organisations SET updated_at = now() WHERE id = $1", org.ID); err != nil {
		t.Fatal(err)
	}
	want = notify.Event{Topic: notify.TopicOrganisations, Op: "UPDATE", ID: org.ID, OrganisationID: org.ID}
	if ev := next("the organisation's change"); ev != want {
		t.Fatalf("got %+v, want %+v", ev, want)
	}
	if _, err := db.Exec("DELETE FROM organisations WHERE id = $1", org.ID); err != nil {
		t.Fatal(err)
	}
	got := map[notify.Event]bool{next("a deletion"): true, next("a deletion"): true}
	for _, w := range []notify.Event{
		{Topic: notify.TopicOrganisations, Op: "DELETE", ID: org.ID, OrganisationID: org.ID},
		{Topic: notify.TopicAPIKeys, Op: "DELETE", ID: key.ID, OrganisationID: org.ID}, // by the cascade
	} {
		if !got[w] {
			t.Errorf("deleting the organisation announced %v, not %+v", got, w)
		}
	}
}

// A bus that cannot reach its database keeps trying, and listens once it can.
func TestBusRetriesUntilTheDatabaseAnswers(t *testing.T) {
	c := testdb.StartCluster(t)
	c.Kill(t)
	bus := notify.NewPostgres(c.URL, slog.New(slog.NewTextHandler(io.Discard, nil)))
	bus.MaxBackoff = 200 * time.Millisecond
	listening := make(chan struct{}, 1)
	bus.Subscribe(func(ev notify.Event) {
		if ev.Topic == notify.Reset {
			listening <- struct{}{}
		}
	})
	bus.Start(context.Background())
	t.Cleanup(bus.Stop)
	c.Start(t)
	select {
	case <-listening:
	case <-time.After(20 * time.Second):
		t.Fatal("the bus does not listen 20 s after the database came back")
	}
	if bus.ListenerPID() == 0 {
		t.Error("no listener backend")
	}
}
