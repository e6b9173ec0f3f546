package domain

import (
	"context"
	"time"
)

// OrganisationService manages tenants.
type OrganisationService interface {
	// CreateOrganisation returns BAD_USER_INPUT for an invalid or already used name.
	CreateOrganisation(ctx context.Context, name string) (*Organisation, error)
	// FindOrganisation returns NOT_FOUND when the id is unknown.
	FindOrganisation(ctx context.Context, id string) (*Organisation, error)
}

// ConnectorService manages the connectors of one organisation at a time: every method takes
// the caller's organisation, and a connector of another one answers NOT_FOUND like a missing one.
type ConnectorService interface {
	FindConnector(ctx context.Context, orgID, id string) (*Connector, error)
	// FindConnectors returns BAD_USER_INPUT for a cursor it did not issue for this order.
	FindConnectors(ctx context.Context, orgID string, filter ConnectorFilter, order ConnectorOrder, page PageRequest) (*ConnectorPage, error)
	CountConnectors(ctx context.Context, orgID string, filter ConnectorFilter) (int, error)
	// CreateConnector returns BAD_USER_INPUT for invalid input or a name already in use.
	CreateConnector(ctx context.Context, orgID string, in NewConnector) (*Connector, error)
	// UpdateConnector applies the update-and-unset rule; CONFLICT on a revision mismatch.
	UpdateConnector(ctx context.Context, orgID, id string, in ConnectorUpdate) (*Connector, error)
	DeleteConnector(ctx context.Context, orgID, id string) error

	// CreateAuthSchemeConfig appends a config; BAD_USER_INPUT when its id is taken.
	CreateAuthSchemeConfig(ctx context.Context, orgID, connectorID string, in AuthSchemeConfig) (*AuthSchemeConfig, error)
	// UpdateAuthSchemeConfig replaces config id in place (in.ID may rename it).
	UpdateAuthSchemeConfig(ctx context.Context, orgID, connectorID, id string, in AuthSchemeConfig) (*AuthSchemeConfig, error)
	DeleteAuthSchemeConfig(ctx context.Context, orgID, connectorID, id string) error

	// PatchConnectorVariables applies MergeProperties to the connector's variables.
	PatchConnectorVariables(ctx context.Context, orgID, connectorID string, properties []Property, dynamicProperties *string) (*Connector, error)
}

// APIKeyStore keeps API keys; secrets are generated and hashed by the caller.
type APIKeyStore interface {
	CreateAPIKey(ctx context.Context, orgID string, in NewAPIKey, prefix string, secretHash []byte) (*APIKey, error)
	// FindAPIKeyByHash returns NOT_FOUND for an unknown hash.
	FindAPIKeyByHash(ctx context.Context, secretHash []byte) (*APIKey, error)
	ListAPIKeys(ctx context.Context, orgID string) ([]APIKey, error)
	// RevokeAPIKey is idempotent: revoking a revoked key returns it unchanged.
	RevokeAPIKey(ctx context.Context, orgID, id string) (*APIKey, error)
	// TouchAPIKey records a use at time at, unless a use at most minInterval earlier is already recorded.
	TouchAPIKey(ctx context.Context, id string, at time.Time, minInterval time.Duration) error
}

// ConnectionService manages connections and their write-only credentials. Every method takes
// the caller's organisation; ids of other organisations answer NOT_FOUND.
type ConnectionService interface {
	FindConnection(ctx context.Context, orgID, id string) (*Connection, error)
	FindConnections(ctx context.Context, orgID, connectorID string, page PageRequest) (*ConnectionPage, error)
	CountConnections(ctx context.Context, orgID, connectorID string) (int, error)
	// FindConnectionsByStatus and CountConnectionsByStatus keep the connections with that
	// status (nil: all).
	FindConnectionsByStatus(ctx context.Context, orgID, connectorID string, status *ConnectionStatus, page PageRequest) (*ConnectionPage, error)
	CountConnectionsByStatus(ctx context.Context, orgID, connectorID string, status *ConnectionStatus) (int, error)
	// CreateConnection returns BAD_USER_INPUT for a taken name or a pin to a missing or
	// unpublished version.
	CreateConnection(ctx context.Context, orgID, connectorID string, in NewConnection) (*Connection, error)
	// UpdateConnection applies the update-and-unset rule; CONFLICT on a revision mismatch.
	UpdateConnection(ctx context.Context, orgID, id string, in ConnectionUpdate) (*Connection, error)
	DeleteConnection(ctx context.Context, orgID, id string) error
	PatchConnectionVariables(ctx context.Context, orgID, id string, properties []Property, dynamicProperties *string) (*Connection, error)

	ListCredentials(ctx context.Context, orgID, connectionID string, kind *CredentialKind) ([]Credential, error)
	// SetCredential returns BAD_USER_INPUT when the values do not fit the config's scheme type.
	SetCredential(ctx context.Context, orgID, connectionID string, in CredentialInput) (*Credential, error)
	PatchCredential(ctx context.Context, orgID, id string, properties []Property, dynamicProperties *string) (*Credential, error)
	DeleteCredential(ctx context.Context, orgID, id string) error
}

// VersionService manages connector versions: drafts, publishing, and the latest and default
// aliases.
type VersionService interface {
	FindVersion(ctx context.Context, orgID, id string) (*ConnectorVersion, error)
	// FindVersionByName resolves "latest" and "default"; NOT_FOUND when there is no such version.
	FindVersionByName(ctx context.Context, orgID, connectorID, name string) (*ConnectorVersion, error)
	FindVersions(ctx context.Context, orgID, connectorID string, page PageRequest) (*VersionPage, error)
	CountVersions(ctx context.Context, orgID, connectorID string) (int, error)
	CreateVersion(ctx context.Context, orgID, connectorID string, in VersionInput) (*ConnectorVersion, error)
	// UpdateVersion returns CONFLICT for a published version: published versions are immutable.
	UpdateVersion(ctx context.Context, orgID, id string, in VersionInput) (*ConnectorVersion, error)
	// PublishVersion returns CONFLICT when the version is already published.
	PublishVersion(ctx context.Context, orgID, id string) (*ConnectorVersion, error)
	// SetDefaultVersion returns CONFLICT for a draft, and, without force, when connections
	// follow the default and the change from the current default is breaking.
	SetDefaultVersion(ctx context.Context, orgID, id string, force bool) (*ConnectorVersion, error)
	// DeleteVersion returns CONFLICT for the default version and for a pinned one.
	DeleteVersion(ctx context.Context, orgID, id string) error
	// CompareVersions compares two versions named as FindVersionByName names them, with
	// their triggers (CompareVersions in diff.go).
	CompareVersions(ctx context.Context, orgID, connectorID, from, to string) (*VersionDiff, error)
}

// DocumentService writes imported descriptions and applied documents, each in one
// transaction.
type DocumentService interface {
	// ImportDocument merges an imported description into the draft versionName (created
	// when missing); CONFLICT when that version is published.
	ImportDocument(ctx context.Context, orgID, connectorID, versionName string, doc *ImportedDocument) (*ImportResult, error)
	// ApplyConnector makes the connector named in spec and its version say what spec says,
	// writing nothing when they already do.
	ApplyConnector(ctx context.Context, orgID string, spec ConnectorSpec) (*ApplyResult, error)
}
