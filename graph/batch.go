package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/readmodel"
)

// WithBatches gives each operation its own batching scope (readmodel's batch.go) and one
// budget for the bytes of the events it reads (domain.EventBudget).
func WithBatches(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	return next(domain.WithEventBudget(readmodel.WithBatches(ctx)))
}

// versionsPage loads a connector's versions, batched with its page's connectors when it was
// listed. Parts outside need may be left empty.
func (r *Resolver) versionsPage(ctx context.Context, c *domain.Connector, page domain.PageRequest, need readmodel.Parts) (*domain.VersionPage, error) {
	return readmodel.Versions(ctx, r.Reader, r.VersionService, c, page, need)
}

// connectionsPage is versionsPage for connections.
func (r *Resolver) connectionsPage(ctx context.Context, c *domain.Connector, page domain.PageRequest, need readmodel.Parts) (*domain.ConnectionPage, error) {
	return readmodel.Connections(ctx, r.Reader, r.ConnectionService, c, page, need)
}
