// Package graph is Plugboard's GraphQL layer: thin resolvers that map input, call a domain
// service and return, plus the scope directive and the error presenter.
package graph

import (
	"context"
	"log/slog"

	"github.com/plugboard/plugboard/internal/auth"
	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/readmodel"
)

//go:generate go run ../cmd/generate

// Resolver is the dependency root of the GraphQL layer.
type Resolver struct {
	OrganisationService domain.OrganisationService
	ConnectorService    domain.ConnectorService
	ConnectionService   domain.ConnectionService
	VersionService      domain.VersionService
	AuditService        domain.AuditService
	NodeService         domain.NodeService
	// Reader reads what a selection needs (the direct executor, nested lists in batches).
	Reader  readmodel.Reader
	Actions ActionRunner
	Keys    *auth.Keys
	Logger  *slog.Logger
}

// ActionRunner performs HTTP actions of connections.
type ActionRunner interface {
	Execute(ctx context.Context, orgID, connectionID, action string, version *string, input map[string]any) (*domain.ActionResult, error)
	Test(ctx context.Context, orgID, connectionID string) (*domain.ActionResult, error)
}

// Services is everything the resolvers read and write; the store implements all of it.
type Services interface {
	domain.OrganisationService
	domain.ConnectorService
	domain.ConnectionService
	domain.VersionService
	domain.AuditService
	domain.NodeService
	readmodel.Reader
}

// NewResolver wires the resolvers to one implementation of every service.
func NewResolver(s Services, actions ActionRunner, keys *auth.Keys, logger *slog.Logger) *Resolver {
	return &Resolver{
		OrganisationService: s, ConnectorService: s, ConnectionService: s, VersionService: s, AuditService: s, NodeService: s, Reader: s,
		Actions: actions, Keys: keys, Logger: logger,
	}
}
