package domain

import (
	"context"
	"sync/atomic"
	"time"
)

// IdempotencyRequest is a mutation sent with an Idempotency-Key header: the key is scoped to
// the organisation and the caller, so that two callers never see each other's answers.
type IdempotencyRequest struct {
	OrganisationID string
	// Caller is the principal's subject: "key:<API key id>" or "jwt:<subject>".
	Caller string
	Key    string
	// Hash identifies the body (query, operationName and canonical variables): the same key
	// with another hash is a CONFLICT.
	Hash string
	// Secret says the answer holds a shown-once secret (createApiKey's), sealed at rest.
	Secret bool
	// Lease is how long a running claim holds the key: a server that dies mid-request must
	// not hold it for the 24 hours an answer is kept.
	Lease time.Duration
}

// IdempotencyClaim is a running request's hold on its key. The store marks it applied in the
// transaction that commits the mutation, so that a retry never runs a committed change again,
// even when the answer could not be recorded afterwards.
type IdempotencyClaim struct {
	ID     string
	Secret bool
	// applied is set once the mutation's transaction has committed.
	applied atomic.Bool
}

// MarkApplied records that the mutation's transaction committed.
func (c *IdempotencyClaim) MarkApplied() { c.applied.Store(true) }

// Applied tells whether the mutation's transaction committed.
func (c *IdempotencyClaim) Applied() bool { return c.applied.Load() }

type idempotencyKey struct{}

// WithIdempotencyClaim returns ctx carrying the claim that store transactions mark applied.
func WithIdempotencyClaim(ctx context.Context, c *IdempotencyClaim) context.Context {
	return context.WithValue(ctx, idempotencyKey{}, c)
}

// IdempotencyClaimOf returns the request's claim, or nil.
func IdempotencyClaimOf(ctx context.Context) *IdempotencyClaim {
	c, _ := ctx.Value(idempotencyKey{}).(*IdempotencyClaim)
	return c
}
