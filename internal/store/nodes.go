package store

import (
	"context"
	"fmt"

	"github.com/plugboard/plugboard/internal/domain"
)

var _ domain.NodeService = (*Store)(nil)

// nodeTypes finds which table holds a row id of an organisation: ids are UUIDv7s, unique
// across tables, and those issued before global ids existed stay valid as they are, so one
// statement asks every table instead of the id carrying its type. Each branch is a primary
// key lookup.
const nodeTypes = `SELECT 'connector' FROM connectors WHERE id = ? AND organisation_id = ?
	UNION ALL SELECT 'connection' FROM connections WHERE id = ? AND organisation_id = ?
	UNION ALL SELECT 'version' FROM connector_versions WHERE id = ? AND organisation_id = ?
	UNION ALL SELECT 'credential' FROM credentials WHERE id = ? AND organisation_id = ?
	UNION ALL SELECT 'apiKey' FROM api_keys WHERE id = ? AND organisation_id = ?
	UNION ALL SELECT 'auditEvent' FROM audit_events WHERE id = ? AND organisation_id = ?
	UNION ALL SELECT 'event' FROM events WHERE id = ? AND organisation_id = ?
	UNION ALL SELECT 'organisation' FROM organisations WHERE id = ? AND id = ?`

// FindNode returns the object of the organisation with global id id: an auth scheme config
// (its id names its connector, ConfigGlobalID) or a row of one of the tables of nodeTypes.
// A missing or foreign id, or one of no known form, is NOT_FOUND.
func (s *Store) FindNode(ctx context.Context, orgID, id string) (domain.Node, error) {
	notFound := domain.NotFound("node", id)
	if orgID == "" || id == "" {
		return nil, notFound
	}
	if connectorID, ok := domain.ConnectorOfConfigGlobalID(id); ok {
		c, err := s.FindConnector(ctx, orgID, connectorID)
		if err != nil {
			if domain.ErrorCode(err) == domain.CodeNotFound {
				return nil, notFound
			}
			return nil, err
		}
		for _, config := range c.AuthSchemeConfigs {
			if config.GlobalID == id {
				return &config, nil
			}
		}
		return nil, notFound
	}
	args := make([]any, 0, 16)
	for range 8 {
		args = append(args, id, orgID)
	}
	kind := ""
	if err := s.readEach(ctx, nodeTypes, args, []any{&kind}, func() error { return nil }); err != nil {
		return nil, fmt.Errorf("find node %s: %w", id, err)
	}
	var (
		node domain.Node
		err  error
	)
	switch kind {
	case "connector":
		node, err = nodeOf(s.FindConnector(ctx, orgID, id))
	case "connection":
		node, err = nodeOf(s.FindConnection(ctx, orgID, id))
	case "version":
		node, err = nodeOf(s.FindVersion(ctx, orgID, id))
	case "credential":
		node, err = nodeOf(s.findCredential(ctx, orgID, id))
	case "apiKey":
		node, err = nodeOf(s.findAPIKey(ctx, orgID, id))
	case "auditEvent":
		node, err = nodeOf(s.findAuditEvent(ctx, orgID, id))
	case "event":
		node, err = nodeOf(s.FindEvent(ctx, orgID, id))
	case "organisation":
		node, err = nodeOf(s.FindOrganisation(ctx, id))
	default:
		return nil, notFound
	}
	if domain.ErrorCode(err) == domain.CodeNotFound {
		// Deleted between the two reads: as missing as an id never issued.
		return nil, notFound
	}
	return node, err
}

// nodeOf turns a finder's answer into a Node (a nil pointer would be a non-nil interface).
func nodeOf[T any, P interface {
	*T
	domain.Node
}](v P, err error) (domain.Node, error) {
	if err != nil || v == nil {
		return nil, err
	}
	return v, nil
}

// findCredential reads one credential of the organisation with the config it fills.
func (s *Store) findCredential(ctx context.Context, orgID, id string) (*domain.Credential, error) {
	row, err := s.credentialRowOf(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	c, err := row.domain()
	if err != nil {
		return nil, err
	}
	var connectorID string
	if err := s.db.WithContext(ctx).Model(&connectionRow{}).Select("connector_id").Where("id = ?", row.ConnectionID).Take(&connectorID).Error; err != nil {
		return nil, notFoundOr(err, "credential", id)
	}
	configs, err := configsOf(s.db.WithContext(ctx), connectorID)
	if err != nil {
		return nil, notFoundOr(err, "credential", id)
	}
	withConfig(c, configs)
	return c, nil
}

// findAPIKey reads one API key of the organisation.
func (s *Store) findAPIKey(ctx context.Context, orgID, id string) (*domain.APIKey, error) {
	var row apiKeyRow
	if err := s.db.WithContext(ctx).Where("id = ? AND organisation_id = ?", id, orgID).Take(&row).Error; err != nil {
		return nil, notFoundOr(err, "api key", id)
	}
	return row.domain(), nil
}

// findAuditEvent reads one audit event of the organisation.
func (s *Store) findAuditEvent(ctx context.Context, orgID, id string) (*domain.AuditEvent, error) {
	var row auditRow
	if err := s.db.WithContext(ctx).Where("id = ? AND organisation_id = ?", id, orgID).Take(&row).Error; err != nil {
		return nil, notFoundOr(err, "audit event", id)
	}
	return row.domain()
}
