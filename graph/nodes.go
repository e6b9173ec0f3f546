package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/plugboard/plugboard/internal/domain"
)

// node finds an object by global id. An API key is only shown to a caller who manages keys,
// as Query.apiKeys is.
func (r *Resolver) node(ctx context.Context, id string) (domain.Node, error) {
	n, err := r.NodeService.FindNode(ctx, orgID(ctx), id)
	if err != nil {
		return nil, err
	}
	if _, isKey := n.(*domain.APIKey); isKey {
		if err := requireScope(ctx, domain.ScopeKeysManage); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// nodes finds each id like node; an id that fails is null with its error at its index, so one
// missing id does not hide the others.
func (r *Resolver) nodes(ctx context.Context, ids []string) ([]domain.Node, error) {
	if len(ids) > domain.MaxNodeIDs {
		return nil, domain.LimitExceeded("ids", "at most %d ids", domain.MaxNodeIDs)
	}
	out := make([]domain.Node, len(ids))
	for i, id := range ids {
		n, err := r.node(ctx, id)
		if err != nil {
			path := append(append(ast.Path{}, graphql.GetPath(ctx)...), ast.PathIndex(i))
			graphql.AddError(ctx, &gqlerror.Error{Err: err, Message: err.Error(), Path: path})
			continue
		}
		out[i] = n
	}
	return out, nil
}
