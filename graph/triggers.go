package graph

import (
	"context"

	"github.com/plugboard/plugboard/internal/domain"
)

// EventStream hands out the events stored from now on for one connection.
type EventStream interface {
	Subscribe(ctx context.Context, orgID, connectionID string, trigger *string) <-chan *domain.Event
}

// subscribeEvents checks the connection as a read would (NOT_FOUND for a missing or foreign
// one) before streaming its events.
func (r *Resolver) subscribeEvents(ctx context.Context, connectionID string, trigger *string) (<-chan *domain.Event, error) {
	c, err := r.ConnectionService.FindConnection(ctx, orgID(ctx), connectionID)
	if err != nil {
		return nil, err
	}
	if r.Events == nil {
		return nil, domain.Errorf(domain.CodeInternal, "live events are not served here")
	}
	return r.Events.Subscribe(ctx, c.OrganisationID, c.ID, trigger), nil
}

// triggerConfig reads the HMAC config of a trigger: its global id names its connector.
func (r *Resolver) triggerConfig(ctx context.Context, t *domain.Trigger) (*domain.AuthSchemeConfig, error) {
	connectorID, ok := domain.ConnectorOfConfigGlobalID(t.AuthSchemeConfigID)
	if !ok {
		return nil, domain.NotFound("auth scheme config", t.AuthSchemeConfigID)
	}
	c, err := r.ConnectorService.FindConnector(ctx, orgID(ctx), connectorID)
	if err != nil {
		return nil, err
	}
	if i := domain.FindAuthSchemeConfig(c.AuthSchemeConfigs, t.AuthSchemeConfigID); i >= 0 {
		return &c.AuthSchemeConfigs[i], nil
	}
	return nil, domain.NotFound("auth scheme config", t.AuthSchemeConfigID)
}
