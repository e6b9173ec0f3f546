// Package auth authenticates requests (API keys now, identity-provider JWTs beside them) and
// carries the resulting principal in the request context.
package auth

import (
	"context"
	"slices"

	"github.com/plugboard/plugboard/internal/domain"
)

// Principal is who makes a request: an organisation and the scopes granted to the caller.
type Principal struct {
	OrganisationID string
	Scopes         []domain.Scope
	// APIKeyID is set when the request carries an API key.
	APIKeyID string
	// Subject names the caller for audit: "key:<id>" or a JWT subject.
	Subject string
}

// Has tells whether the principal holds scope.
func (p *Principal) Has(scope domain.Scope) bool {
	return p != nil && slices.Contains(p.Scopes, scope)
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the request's principal, or nil when unauthenticated.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// RequirePrincipal returns the request's principal or an UNAUTHENTICATED error.
func RequirePrincipal(ctx context.Context) (*Principal, error) {
	if p := PrincipalFrom(ctx); p != nil {
		return p, nil
	}
	return nil, domain.Errorf(domain.CodeUnauthenticated, "authentication required: send Authorization: Bearer <API key or token>")
}
