package graph_test

import (
	"context"
	"testing"
	"time"

	"github.com/plugboard/plugboard/internal/apitest"
	"github.com/plugboard/plugboard/internal/notify"
	"github.com/plugboard/plugboard/internal/store"
	"github.com/plugboard/plugboard/internal/testdb"
)

// keyCacheTTL is far longer than any test: what a server refuses, it refuses because the bus
// told it, never because its cached key aged out.
const keyCacheTTL = time.Hour

const viewerQuery = `{ viewer { subject } }`

// busEvents records what bus delivers from now on. It subscribes after the servers' key
// caches, so when an event arrives here the caches have handled it (Bus.Subscribe's order).
func busEvents(t *testing.T, bus *notify.Bus) <-chan notify.Event {
	events := make(chan notify.Event, 256)
	t.Cleanup(bus.Subscribe(func(ev notify.Event) {
		select {
		case events <- ev:
		default: // the test is not waiting for so many
		}
	}))
	return events
}

// waitEvent waits, with a bound no healthy bus comes near, for an event that match accepts.
func waitEvent(t *testing.T, events <-chan notify.Event, what string, match func(notify.Event) bool) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-events:
			if match(ev) {
				return
			}
		case <-timeout:
			t.Fatalf("no %s on the bus within 10 s", what)
		}
	}
}

// twoServers starts servers A and B with the key cache of these tests (apitest.TwoServers).
func twoServers(t *testing.T, d store.Dialect) (a, b *apitest.Harness) {
	return apitest.TwoServers(t, d, apitest.Options{KeyCacheTTL: keyCacheTTL})
}

// A key revoked through server A is refused by server B, which had it cached, as soon as B
// has handled the notification: not after B's key cache lifetime.
func TestKeyRevocationAcrossServers(t *testing.T) {
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			a, b := twoServers(t, d)
			admin := a.NewOrg(t)
			user := a.NewKey(t, admin.OrgID)
			user.On(b).Do(t, viewerQuery, nil).OK(t) // cached on B from here on
			events := busEvents(t, b.Bus)

			admin.Do(t, revokeKey, map[string]any{"id": user.KeyID}).OK(t)
			waitEvent(t, events, "revocation of "+user.KeyID, func(ev notify.Event) bool {
				return ev.Topic == notify.TopicAPIKeys && ev.ID == user.KeyID
			})
			user.On(b).Do(t, viewerQuery, nil).ExpectError(t, "UNAUTHENTICATED", "")
			user.Do(t, viewerQuery, nil).ExpectError(t, "UNAUTHENTICATED", "")
			admin.On(b).Do(t, viewerQuery, nil).OK(t) // only that key
		})
	}
}

// revokeUnannounced revokes a key behind the bus's back: in replica mode PostgreSQL fires no
// ordinary trigger, so no notification is sent, as if the listeners had been away.
func revokeUnannounced(t *testing.T, h *apitest.Harness, keyID string) {
	t.Helper()
	db, err := h.Store.SQL()
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, q := range []string{"SET LOCAL session_replication_role = replica", "UPDATE api_keys SET revoked_at = now() WHERE id = '" + keyID + "'"} {
		if _, err := tx.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// A server whose listener connection drops may have missed notifications: once it listens
// again it drops every cached key, so a revocation it never heard of takes effect then.
func TestKeyCacheFlushedWhenTheBusReconnects(t *testing.T) {
	a, b := twoServers(t, store.Postgres)
	admin := a.NewOrg(t)
	user := a.NewKey(t, admin.OrgID)
	user.On(b).Do(t, viewerQuery, nil).OK(t)
	revokeUnannounced(t, a, user.KeyID)
	// The premise: unannounced, the revocation is not seen by B, which trusts its cache.
	user.On(b).Do(t, viewerQuery, nil).OK(t)

	events := busEvents(t, b.Bus)
	pid := b.Bus.ListenerPID()
	db, _ := a.Store.SQL()
	var terminated bool
	if err := db.QueryRow("SELECT pg_terminate_backend($1)", int64(pid)).Scan(&terminated); err != nil || !terminated {
		t.Fatalf("terminate the listener %d: %v %v", pid, terminated, err)
	}
	waitEvent(t, events, "reset after the reconnection", func(ev notify.Event) bool { return ev.Topic == notify.Reset })
	if now := b.Bus.ListenerPID(); now == 0 || now == pid {
		t.Fatalf("listener backend %d after the reconnection, %d before", now, pid)
	}
	user.On(b).Do(t, viewerQuery, nil).ExpectError(t, "UNAUTHENTICATED", "")

	// And the bus works again.
	other := a.NewKey(t, admin.OrgID)
	other.On(b).Do(t, viewerQuery, nil).OK(t)
	admin.Do(t, revokeKey, map[string]any{"id": other.KeyID}).OK(t)
	waitEvent(t, events, "revocation after the reconnection", func(ev notify.Event) bool { return ev.ID == other.KeyID })
	other.On(b).Do(t, viewerQuery, nil).ExpectError(t, "UNAUTHENTICATED", "")
}

// A change of an organisation drops all its keys from every server's cache.
func TestOrganisationChangeAcrossServers(t *testing.T) {
	a, b := twoServers(t, store.Postgres)
	admin := a.NewOrg(t)
	user := a.NewKey(t, admin.OrgID)
	user.On(b).Do(t, viewerQuery, nil).OK(t)
	revokeUnannounced(t, a, user.KeyID) // seen only when B reads the key again
	user.On(b).Do(t, viewerQuery, nil).OK(t)

	events := busEvents(t, b.Bus)
	db, _ := a.Store.SQL()
	if _, err := db.Exec("UPDATE organisations SET updated_at = now() WHERE id = $1", admin.OrgID); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, events, "change of "+admin.OrgID, func(ev notify.Event) bool {
		return ev.Topic == notify.TopicOrganisations && ev.ID == admin.OrgID
	})
	user.On(b).Do(t, viewerQuery, nil).ExpectError(t, "UNAUTHENTICATED", "")
}
