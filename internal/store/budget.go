package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/plugboard/plugboard/internal/domain"
)

// Outbound rate budgets follow GCRA (the generic cell rate algorithm): each connection keeps
// one time, the theoretical arrival time (TAT) of its next request. A request at now is
// admitted when max(TAT, now) + interval − burst·interval ≤ now, and moves TAT on by one
// interval. One number per connection is what makes the budget exact across servers: on
// PostgreSQL admitting a call is one atomic statement on one row, with no read-then-write
// race and no per-request rows. Concurrency slots are leases (their expiry times) in the same
// row, so that a server that dies mid-call cannot hold a slot for longer than the outbound
// timeout.

// AcquireOutbound takes one request of the connection's budget (domain.OutboundBudget).
func (s *Store) AcquireOutbound(ctx context.Context, orgID, connectionID string, limit *domain.RateLimit, now time.Time, lease time.Duration) (func(), time.Duration, error) {
	leaseUntil := now.Add(lease)
	if s.dialect != Postgres {
		return s.budgets.acquire(connectionID, limit, now, leaseUntil)
	}
	concurrency := 0
	if limit.Concurrency != nil {
		concurrency = *limit.Concurrency
	}
	interval := limit.Interval().Microseconds()
	args := map[string]any{
		"id": connectionID, "org": orgID, "now": now.UnixMicro(), "t": interval,
		"tau": interval * int64(limit.Burst), "cap": concurrency, "lease": leaseUntil.UnixMicro(),
	}
	const live = `ARRAY(SELECT e FROM unnest(b.leases) e WHERE e > CAST(@now AS bigint))`
	const admit = `(GREATEST(b.tat_us, CAST(@now AS bigint)) + CAST(@t AS bigint) - CAST(@tau AS bigint) <= CAST(@now AS bigint)
		AND b.blocked_until_us <= CAST(@now AS bigint) AND (CAST(@cap AS int) = 0 OR cardinality(` + live + `) < CAST(@cap AS int)))`
	var (
		admitted          bool
		tat, blockedUntil int64
		firstLease        sql.NullInt64
		liveLeases        int
	)
	err := s.db.WithContext(ctx).Raw(`INSERT INTO connection_budgets AS b (connection_id, organisation_id, tat_us, leases)
		VALUES (@id, @org, CAST(@now AS bigint) + CAST(@t AS bigint), CASE WHEN CAST(@cap AS int) > 0 THEN ARRAY[CAST(@lease AS bigint)] ELSE '{}'::bigint[] END)
		ON CONFLICT (connection_id) DO UPDATE SET
			admitted = `+admit+`,
			tat_us = CASE WHEN `+admit+` THEN GREATEST(b.tat_us, CAST(@now AS bigint)) + CAST(@t AS bigint) ELSE b.tat_us END,
			leases = CASE WHEN `+admit+` AND CAST(@cap AS int) > 0 THEN `+live+` || CAST(@lease AS bigint) ELSE `+live+` END
		WHERE b.organisation_id = @org
		RETURNING admitted, tat_us, blocked_until_us, (SELECT min(e) FROM unnest(leases) e WHERE e > CAST(@now AS bigint)),
			(SELECT count(*) FROM unnest(leases) e WHERE e > CAST(@now AS bigint))`, args).
		Row().Scan(&admitted, &tat, &blockedUntil, &firstLease, &liveLeases)
	if err != nil {
		return nil, 0, fmt.Errorf("outbound budget of connection %s: %w", connectionID, err)
	}
	if admitted {
		release := func() {}
		if concurrency > 0 {
			release = func() { s.releaseLease(orgID, connectionID, leaseUntil.UnixMicro()) }
		}
		return release, 0, nil
	}
	state := budgetState{tat: time.UnixMicro(tat), blockedUntil: time.UnixMicro(blockedUntil)}
	if firstLease.Valid {
		// wait needs how many slots are held and when the first lease ends, not each lease.
		for range liveLeases {
			state.leases = append(state.leases, time.UnixMicro(firstLease.Int64))
		}
	}
	return nil, state.wait(limit, now), nil
}

// releaseLease frees one concurrency slot. It runs when the call is over, whatever became of
// the caller's context; a release that fails leaves the slot to expire.
func (s *Store) releaseLease(orgID, connectionID string, leaseUntil int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	const at = `array_position(leases, CAST(@lease AS bigint))`
	_ = s.db.WithContext(ctx).Exec(`UPDATE connection_budgets
		SET leases = CASE WHEN `+at+` IS NULL THEN leases ELSE leases[:`+at+` - 1] || leases[`+at+` + 1:] END
		WHERE connection_id = @id AND organisation_id = @org`,
		map[string]any{"id": connectionID, "org": orgID, "lease": leaseUntil}).Error
}

// BlockOutbound closes the connection's budget until until (domain.OutboundBudget).
func (s *Store) BlockOutbound(ctx context.Context, orgID, connectionID string, until time.Time) error {
	if s.dialect != Postgres {
		s.budgets.block(connectionID, until)
		return nil
	}
	err := s.db.WithContext(ctx).Exec(`INSERT INTO connection_budgets AS b (connection_id, organisation_id, tat_us, blocked_until_us)
		VALUES (@id, @org, 0, CAST(@until AS bigint))
		ON CONFLICT (connection_id) DO UPDATE SET blocked_until_us = GREATEST(b.blocked_until_us, EXCLUDED.blocked_until_us)
		WHERE b.organisation_id = @org`, map[string]any{"id": connectionID, "org": orgID, "until": until.UnixMicro()}).Error
	if err != nil {
		return fmt.Errorf("close outbound budget of connection %s: %w", connectionID, err)
	}
	return nil
}

// budgetState is one connection's budget: the same rules as the PostgreSQL statement.
type budgetState struct {
	tat, blockedUntil time.Time
	// leases are the expiry times of the slots held.
	leases []time.Time
}

// wait is how long a request at now must wait to be admitted: for the rate, for an upstream's
// Retry-After and for a free slot, whichever is longest; 0 when it may go now.
func (b *budgetState) wait(l *domain.RateLimit, now time.Time) time.Duration {
	interval := l.Interval()
	tat := b.tat
	if tat.Before(now) {
		tat = now
	}
	wait := tat.Add(interval - time.Duration(l.Burst)*interval).Sub(now)
	wait = max(wait, b.blockedUntil.Sub(now))
	if l.Concurrency != nil {
		live := 0
		var first time.Time
		for _, t := range b.leases {
			if t.After(now) {
				live++
				if first.IsZero() || t.Before(first) {
					first = t
				}
			}
		}
		if live >= *l.Concurrency {
			// A slot frees when a call ends, which nobody knows in advance; the lease's end
			// (the outbound timeout) is only the worst case, so the hint is a second.
			wait = max(wait, min(first.Sub(now), time.Second))
		}
	}
	return max(wait, 0)
}

// memoryBudgets keep the budgets in the process on SQLite, where one server owns the file.
type memoryBudgets struct {
	mu    sync.Mutex
	state map[string]*budgetState
}

// maxIdleBudgets bounds the memory of budgets: beyond it, budgets back to full are dropped
// (a full budget and a missing one admit alike).
const maxIdleBudgets = 10_000

func (m *memoryBudgets) get(connectionID string, now time.Time) *budgetState {
	if m.state == nil {
		m.state = map[string]*budgetState{}
	}
	if len(m.state) > maxIdleBudgets {
		for id, b := range m.state {
			if b.tat.Before(now) && b.blockedUntil.Before(now) && !slices.ContainsFunc(b.leases, now.Before) {
				delete(m.state, id)
			}
		}
	}
	b := m.state[connectionID]
	if b == nil {
		b = &budgetState{}
		m.state[connectionID] = b
	}
	return b
}

func (m *memoryBudgets) acquire(connectionID string, l *domain.RateLimit, now, leaseUntil time.Time) (func(), time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b := m.get(connectionID, now)
	if w := b.wait(l, now); w > 0 {
		return nil, w, nil
	}
	if b.tat.Before(now) {
		b.tat = now
	}
	b.tat = b.tat.Add(l.Interval())
	b.leases = slices.DeleteFunc(b.leases, func(t time.Time) bool { return !t.After(now) })
	if l.Concurrency == nil {
		return func() {}, 0, nil
	}
	b.leases = append(b.leases, leaseUntil)
	return func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if i := slices.IndexFunc(b.leases, leaseUntil.Equal); i >= 0 {
			b.leases = slices.Delete(b.leases, i, i+1)
		}
	}, 0, nil
}

func (m *memoryBudgets) block(connectionID string, until time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b := m.get(connectionID, time.Now())
	if until.After(b.blockedUntil) {
		b.blockedUntil = until
	}
}
