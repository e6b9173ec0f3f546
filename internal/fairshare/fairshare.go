// Package fairshare holds a capacity shared by every tenant, of which one tenant may hold at
// most a part: executing GraphQL requests, bytes of request bodies being read, open
// subscriptions, webhook deliveries being handled. A tenant over its part waits for (or is
// refused) its own, and the rest stays free for the others.
package fairshare

import (
	"context"
	"errors"
	"sync"

	"golang.org/x/sync/semaphore"
)

// Share is a capacity of total units of which one tenant holds at most perTenant.
type Share struct {
	total     *semaphore.Weighted
	perTenant int64

	mu      sync.Mutex
	tenants map[string]*tenantShare
}

type tenantShare struct {
	sem     *semaphore.Weighted
	holders int // acquiring or holding; the entry goes when it drops to zero
}

// New returns a Share of total units, at most perTenant of them (at least 1) for one tenant.
func New(total, perTenant int64) *Share {
	return &Share{total: semaphore.NewWeighted(total), perTenant: max(1, min(perTenant, total)), tenants: map[string]*tenantShare{}}
}

// ErrOverShare is the answer to a tenant over its part (or, for TryAcquire, the whole taken)
// when it may not wait.
var ErrOverShare = errors.New("over its share")

// Acquire takes n of the capacity for tenant (at most its part), waiting until ctx is done;
// with waitForOwn false, a tenant whose own part is taken gets ErrOverShare at once. The
// release function gives it back.
func (f *Share) Acquire(ctx context.Context, tenant string, n int64, waitForOwn bool) (release func(), err error) {
	n = min(n, f.perTenant)
	u, done := f.join(tenant)
	if !waitForOwn && !u.sem.TryAcquire(n) {
		done()
		return nil, ErrOverShare
	}
	if waitForOwn {
		if err := u.sem.Acquire(ctx, n); err != nil {
			done()
			return nil, err
		}
	}
	if err := f.total.Acquire(ctx, n); err != nil {
		u.sem.Release(n)
		done()
		return nil, err
	}
	return f.releaser(u, n, done), nil
}

// TryAcquire takes one unit for tenant without waiting: ErrOverShare when the tenant's part or
// the whole is taken.
func (f *Share) TryAcquire(tenant string) (release func(), err error) {
	u, done := f.join(tenant)
	if !u.sem.TryAcquire(1) {
		done()
		return nil, ErrOverShare
	}
	if !f.total.TryAcquire(1) {
		u.sem.Release(1)
		done()
		return nil, ErrOverShare
	}
	return f.releaser(u, 1, done), nil
}

func (f *Share) releaser(u *tenantShare, n int64, done func()) func() {
	return func() {
		f.total.Release(n)
		u.sem.Release(n)
		done()
	}
}

// join registers a holder of tenant's share (made on first use) and returns it with the
// function that drops the holder, and the share with its last holder.
func (f *Share) join(tenant string) (*tenantShare, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.tenants[tenant]
	if u == nil {
		u = &tenantShare{sem: semaphore.NewWeighted(f.perTenant)}
		f.tenants[tenant] = u
	}
	u.holders++
	return u, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if u.holders--; u.holders == 0 {
			delete(f.tenants, tenant)
		}
	}
}
