// Package graph is Plugboard's GraphQL layer: thin resolvers that map input, call a domain
// service and return, plus the scope directive and the error presenter.
package graph

import (
	"context"
	"log/slog"

	"github.com/plugboard/plugboard/internal/auth"
	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/importer"
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
	DocumentService     domain.DocumentService
	TriggerService      domain.TriggerService
	Imports             *importer.Service
	Actions             ActionRunner
	// Connect connects customers' accounts (startOAuthConnect, createConnectSession); set by
	// whoever wires the server, after NewResolver.
	Connect AccountConnector
	Keys    *auth.Keys
	Logger  *slog.Logger
	// Reader reads what a selection needs (the direct executor, nested lists in batches).
	Reader readmodel.Reader
	// Events streams stored events to subscriptions (nil: subscriptions fail).
	Events EventStream
	// PublicURL starts the URLs handed out (webhook URLs).
	PublicURL string
}

// ActionRunner performs HTTP actions of connections.
type ActionRunner interface {
	Execute(ctx context.Context, orgID, connectionID, action string, version *string, input map[string]any) (*domain.ActionResult, error)
	Test(ctx context.Context, orgID, connectionID string) (*domain.ActionResult, error)
}

// AccountConnector starts OAuth2 flows and hosted connect pages (internal/connect).
type AccountConnector interface {
	StartOAuth(ctx context.Context, orgID, connectionID, configID string, redirectURL *string) (*domain.OAuthConnectStart, error)
	CreateSession(ctx context.Context, orgID, connectionID string, redirectURL *string) (*domain.ConnectSessionURL, error)
}

// Services is everything the resolvers read and write; the store implements all of it.
type Services interface {
	domain.OrganisationService
	domain.ConnectorService
	domain.ConnectionService
	domain.VersionService
	domain.AuditService
	domain.NodeService
	domain.DocumentService
	domain.TriggerService
	readmodel.Reader
}

// NewResolver wires the resolvers to one implementation of every service.
func NewResolver(s Services, actions ActionRunner, keys *auth.Keys, logger *slog.Logger) *Resolver {
	return &Resolver{
		OrganisationService: s, ConnectorService: s, ConnectionService: s, VersionService: s, AuditService: s, NodeService: s, Reader: s,
		TriggerService: s, DocumentService: s, Imports: importer.NewService(s),
		Actions: actions, Keys: keys, Logger: logger,
	}
}
