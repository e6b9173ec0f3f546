package domain

import (
	"context"
	"errors"
	"time"
)

// OAuthFlow is an authorization-code flow between startOAuthConnect and the callback. Its
// state is never stored, only a hash of it; Verifier and ReturnURL are sealed at rest.
type OAuthFlow struct {
	ID             string
	OrganisationID string
	ConnectionID   string
	// ConfigKey is the key of the OAuth2 config whose ACTION credential receives the tokens.
	ConfigKey string
	// Actor started the flow: the changes the callback makes are audited in its name.
	Actor string
	// Verifier is the PKCE code verifier.
	Verifier string
	// ReturnURL is where the callback sends the browser (empty: a result page).
	ReturnURL string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// ConnectSession is a hosted connect page's grant: filling one connection's ACTION
// credentials until ExpiresAt, and nothing else. Only a hash of its token is stored.
type ConnectSession struct {
	ID             string
	OrganisationID string
	ConnectionID   string
	RedirectURL    *string
	// Actor created the session: what the page changes is audited in its name.
	Actor     string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// ConnectTarget is what connecting one config of a connection needs: the connection, its
// connector, the config and the ACTION credential's values for it (nil when none is set).
type ConnectTarget struct {
	Connection *Connection
	Connector  *Connector
	Config     AuthSchemeConfig
	Values     []Variable
}

// The ways a state can fail to complete a flow, besides being unknown (NOT_FOUND).
var (
	ErrFlowExpired = errors.New("the connect flow has expired")
	ErrFlowUsed    = errors.New("the connect flow was already completed")
	// ErrFlowRevoked: the API key that started the flow (or its connect session) was revoked
	// or has expired since; the flow completes nothing.
	ErrFlowRevoked = errors.New("the key that started the connect flow is no longer valid")
)

// ConnectStore keeps connect flows and sessions.
type ConnectStore interface {
	// ConnectTarget returns NOT_FOUND for a missing or foreign connection and BAD_USER_INPUT
	// on authSchemeConfigId for a config the connector does not have (named by key or global
	// id), as setCredential does.
	ConnectTarget(ctx context.Context, orgID, connectionID, configID string) (*ConnectTarget, error)
	// CreateOAuthFlow stores a flow under the hash of its state.
	CreateOAuthFlow(ctx context.Context, flow *OAuthFlow, stateHash string) error
	// TakeOAuthFlow marks the flow of stateHash used and returns it: NOT_FOUND for an unknown
	// state; with ErrFlowExpired, ErrFlowUsed or ErrFlowRevoked (and the flow) when it can no
	// longer complete.
	TakeOAuthFlow(ctx context.Context, stateHash string, now time.Time) (*OAuthFlow, error)
	// StoreOAuthTokens seals the tokens into the connection's ACTION credential for the
	// config (which must exist) and makes the connection OK, audited with ctx's actor.
	StoreOAuthTokens(ctx context.Context, orgID, connectionID, configKey string, token *OAuthToken) error
	// CreateConnectSession stores a session under the hash of its token.
	CreateConnectSession(ctx context.Context, s *ConnectSession, tokenHash string) error
	// FindConnectSession returns NOT_FOUND for an unknown or expired token hash, and for a
	// session whose starting API key was revoked or has expired since.
	FindConnectSession(ctx context.Context, tokenHash string, now time.Time) (*ConnectSession, error)
}

// OAuthConnectStart is what startOAuthConnect answers: where to send the browser.
type OAuthConnectStart struct {
	AuthorizationURL string
	ExpiresAt        time.Time
}

// ConnectSessionURL is what createConnectSession answers: the page's address, shown once.
type ConnectSessionURL struct {
	URL       string
	ExpiresAt time.Time
}
