package fairshare

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestTryAcquireKeepsEachTenantToItsPart(t *testing.T) {
	s := New(4, 2)
	var held []func()
	for _, tc := range []struct {
		tenant string
		ok     bool
	}{{"a", true}, {"a", true}, {"a", false}, {"b", true}, {"b", true}, {"c", false}} {
		release, err := s.TryAcquire(tc.tenant)
		if (err == nil) != tc.ok {
			t.Fatalf("tenant %s: err %v, want ok=%v", tc.tenant, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrOverShare) {
			t.Fatalf("tenant %s: %v, want ErrOverShare", tc.tenant, err)
		}
		if release != nil {
			held = append(held, release)
		}
	}
	held[0]()
	if _, err := s.TryAcquire("c"); err != nil {
		t.Fatalf("a released one unit, c still refused: %v", err)
	}
	if len(s.tenants) != 3 {
		t.Fatalf("tenants tracked: %d, want 3 (a, b, c hold units)", len(s.tenants))
	}
	for _, r := range held[1:] {
		r()
	}
	if _, ok := s.tenants["a"]; ok {
		t.Fatal("a holds nothing but is still tracked")
	}
}

func TestAcquireWaitsForItsOwnOrRefuses(t *testing.T) {
	s := New(10, 2)
	release, err := s.Acquire(context.Background(), "a", 5, true) // capped at the part
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Acquire(context.Background(), "a", 1, false); !errors.Is(err, ErrOverShare) {
		t.Fatalf("over its part without waiting: %v, want ErrOverShare", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := s.Acquire(ctx, "a", 1, true); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting for its own: %v, want the context's deadline", err)
	}
	if r, err := s.Acquire(context.Background(), "b", 2, false); err != nil {
		t.Fatalf("another tenant refused while a is over its part: %v", err)
	} else {
		r()
	}
	release()
	if r, err := s.Acquire(context.Background(), "a", 2, false); err != nil {
		t.Fatalf("a after releasing: %v", err)
	} else {
		r()
	}
	if len(s.tenants) != 0 {
		t.Fatalf("%d tenants tracked with nothing held", len(s.tenants))
	}
}
