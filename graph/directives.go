package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/plugboard/plugboard/internal/auth"
	"github.com/plugboard/plugboard/internal/domain"
)

// HasScope is the @hasScope directive: the one place scopes are enforced.
func HasScope(ctx context.Context, _ any, next graphql.Resolver, scope domain.Scope) (any, error) {
	if err := requireScope(ctx, scope); err != nil {
		return nil, err
	}
	return next(ctx)
}

// requireScope is the directive's check, shared with the direct executor.
func requireScope(ctx context.Context, scope domain.Scope) error {
	p, err := auth.RequirePrincipal(ctx)
	if err != nil {
		return err
	}
	if !p.Has(scope) {
		return domain.Errorf(domain.CodeForbidden, "this operation needs the %s scope", scope)
	}
	if p.OrganisationID == "" && scope != domain.ScopePlatformAdmin {
		return domain.Errorf(domain.CodeForbidden, "this operation works on an organisation's data and the token names no organisation")
	}
	return nil
}
