package graph

import (
	"context"

	"github.com/plugboard/plugboard/internal/auth"
	"github.com/plugboard/plugboard/internal/domain"
)

// orgID is the caller's organisation. The scope directive runs before every resolver that
// calls this and rejects unauthenticated requests, so a principal is always there.
func orgID(ctx context.Context) string {
	if p := auth.PrincipalFrom(ctx); p != nil {
		return p.OrganisationID
	}
	return ""
}

// grantable rejects a key that would hold scopes its creator does not: keys:manage must not
// be a way to obtain connectors:write.
func grantable(ctx context.Context, scopes []domain.Scope) error {
	p := auth.PrincipalFrom(ctx)
	for _, s := range scopes {
		if !p.Has(s) {
			return domain.Errorf(domain.CodeForbidden, "cannot grant scope %s: the caller does not hold it", s)
		}
	}
	return nil
}

func deref[T any](s *T) T {
	var zero T
	if s == nil {
		return zero
	}
	return *s
}

// firstActions is a version's actions, or the first n of them.
func firstActions(actions []domain.HTTPAction, first *int) ([]domain.HTTPAction, error) {
	if first == nil {
		return actions, nil
	}
	if *first < 0 {
		return nil, domain.Invalid("first", "must not be negative")
	}
	return actions[:min(*first, len(actions))], nil
}
