package domain

import (
	"context"
	"time"
)

// ConnectionStatus says whether a connection's credentials work, as far as Plugboard last saw.
type ConnectionStatus string

// The connection statuses.
const (
	// StatusPending: nothing has proved the credentials yet (new, or just set).
	StatusPending ConnectionStatus = "PENDING"
	// StatusOK: an account was connected, or a call's credentials were accepted.
	StatusOK ConnectionStatus = "OK"
	// StatusNeedsReauth: the provider refused the refresh token (invalid_grant): only
	// connecting the account again helps, so calls are refused without being sent.
	StatusNeedsReauth ConnectionStatus = "NEEDS_REAUTH"
	// StatusError: a token request failed otherwise, or the API refused fresh credentials.
	StatusError ConnectionStatus = "ERROR"
)

// Valid tells whether s is one of the statuses.
func (s ConnectionStatus) Valid() bool {
	switch s {
	case StatusPending, StatusOK, StatusNeedsReauth, StatusError:
		return true
	}
	return false
}

// HealthCheckInterval is how often a call that changes no status records lastCheckedAt: a
// write per call would double the writes of a busy connection for a time nobody needs exact.
const HealthCheckInterval = time.Minute

// Observation is what one call or connect learned about a connection's credentials.
type Observation struct {
	Status  ConnectionStatus
	Message *string
	At      time.Time
}

// HealthStore records what calls observe.
type HealthStore interface {
	// RecordObservation writes a change of status (audited as connection.status, with the
	// actor of ctx) or, without one, lastCheckedAt when the stored one is older than
	// HealthCheckInterval; otherwise nothing. current is the status the caller read.
	RecordObservation(ctx context.Context, orgID, connectionID string, current ConnectionStatus, lastChecked *time.Time, o Observation) error
}
