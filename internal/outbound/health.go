package outbound

import (
	"context"
	"errors"
	"net/http"

	"github.com/plugboard/plugboard/internal/domain"
)

// refuseNeedsReauth stops a call of a connection whose refresh token the provider refused:
// sending it would only fail again, and the provider may count the failures.
func refuseNeedsReauth(ac *domain.ActionContext) error {
	if ac.Connection.Status == domain.StatusNeedsReauth {
		return domain.Errorf(domain.CodeConflict, "connection %q must be reconnected: the provider refused its refresh token (invalid_grant); reconnect the account (startOAuthConnect or createConnectSession) and try again; nothing was sent", ac.Connection.Name)
	}
	return nil
}

// observation says what an attempt proved about the connection's credentials; ok is false
// when it proved nothing (a network error, a 5xx, a failure unrelated to credentials).
func observation(out outcome) (domain.ConnectionStatus, bool) {
	if out.prepareFailed {
		var te *TokenError
		if !errors.As(out.cause, &te) {
			return "", false
		}
		switch {
		case te.Code == "invalid_grant":
			return domain.StatusNeedsReauth, true
		case te.Status >= 500:
			return "", false
		}
		return domain.StatusError, true
	}
	switch {
	case out.status == 0 || out.status >= 500:
		return "", false
	case out.status == http.StatusUnauthorized || out.status == http.StatusForbidden:
		// A 401 was already retried once with a fresh token (attempt): these credentials are refused.
		return domain.StatusError, true
	}
	return domain.StatusOK, true
}

// recordHealth writes the connection's new status, or that it was checked, as the rulings
// say: only a change of status, or lastCheckedAt at most once a minute. A failure to record
// is logged: the call itself has happened and its answer stands.
func (e *Executor) recordHealth(ctx context.Context, orgID string, ac *domain.ActionContext, out outcome, message *string) {
	status, ok := observation(out)
	if !ok || e.Health == nil {
		return
	}
	if status == domain.StatusOK {
		message = nil
	}
	c := ac.Connection
	err := e.Health.RecordObservation(context.WithoutCancel(ctx), orgID, c.ID, c.Status, c.LastCheckedAt, domain.Observation{Status: status, Message: message, At: e.now()})
	if err != nil {
		e.Logger.WarnContext(ctx, "record connection status", "connection_id", c.ID, "error", err.Error())
	}
}
