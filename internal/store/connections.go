package store

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/readmodel"
)

// connections selects connection rows with the name of their pinned version.
func connections(db *gorm.DB) *gorm.DB {
	return db.Table("connections").
		Select("connections.*, pv.name AS pinned_version_name").
		Joins("LEFT JOIN connector_versions pv ON pv.id = connections.pinned_version_id")
}

// FindConnection returns NOT_FOUND for a missing connection and for one of another organisation.
func (s *Store) FindConnection(ctx context.Context, orgID, id string) (*domain.Connection, error) {
	row, err := scanOne[connectionRow](connections(s.db.WithContext(ctx)).Select(connectionColumns.all).
		Where("connections.id = ? AND connections.organisation_id = ?", id, orgID))
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, domain.NotFound("connection", id)
	}
	if err != nil {
		return nil, fmt.Errorf("find connection %s: %w", id, err)
	}
	return row.domain()
}

const connectionsOrder domain.ConnectorOrder = "CONNECTIONS"

func connectionCursor(c *domain.Connection) cursor {
	return cursor{Order: connectionsOrder, Time: c.CreatedAt, ID: c.ID}
}

// newConnectionPage is newVersionPage for connections.
func newConnectionPage(connectorID string, first int) *domain.ConnectionPage {
	return &domain.ConnectionPage{Edges: make([]domain.ConnectionEdge, 0, min(first, 8)), ConnectorID: connectorID}
}

func connectionEdge(cur string, c *domain.Connection) domain.ConnectionEdge {
	return domain.ConnectionEdge{Cursor: cur, Node: c}
}

// FindConnections returns a page of a connector's connections, oldest first.
func (s *Store) FindConnections(ctx context.Context, orgID, connectorID string, page domain.PageRequest) (*domain.ConnectionPage, error) {
	return s.FindConnectionsByStatus(ctx, orgID, connectorID, nil, page)
}

// FindConnectionsByStatus is FindConnections keeping only the connections with that status
// (nil: all).
func (s *Store) FindConnectionsByStatus(ctx context.Context, orgID, connectorID string, status *domain.ConnectionStatus, page domain.PageRequest) (*domain.ConnectionPage, error) {
	w, err := openWindow(page, connectionsOrder)
	if err != nil {
		return nil, err
	}
	result := &domain.ConnectionPage{Edges: []domain.ConnectionEdge{}, ConnectorID: connectorID, Status: status}
	q := connections(s.db.WithContext(ctx)).Where("connections.connector_id = ? AND connections.organisation_id = ?", connectorID, orgID)
	if status != nil {
		q = q.Where("connections.status = ?", string(*status))
	}
	where, args, err := w.conditions(connectionKeyset, timeAndID)
	if err != nil {
		return nil, err
	}
	for i, cond := range where {
		q = q.Where(cond, args[2*i:2*i+2]...)
	}
	rows, err := scanAll[connectionRow](q.Select(connectionColumns.all).Order(connectionKeyset.orderBy(page.Backward)).Limit(page.First + 1))
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	result.Edges, result.PageInfo, err = pageOf(rows, page.First, readmodel.AllParts, (*connectionRow).domain,
		func(_ *connectionRow, c *domain.Connection) cursor { return connectionCursor(c) }, connectionEdge)
	if err != nil {
		return nil, err
	}
	finish(w, result.Edges, &result.PageInfo)
	return result, nil
}

// connectionKeyset is the order of a connector's connections: oldest first.
var connectionKeyset = keyset{[]string{"connections.created_at", "connections.id"}, false}

// CountConnections counts a connector's connections.
func (s *Store) CountConnections(ctx context.Context, orgID, connectorID string) (int, error) {
	return s.CountConnectionsByStatus(ctx, orgID, connectorID, nil)
}

// CountConnectionsByStatus counts a connector's connections with that status (nil: all).
func (s *Store) CountConnectionsByStatus(ctx context.Context, orgID, connectorID string, status *domain.ConnectionStatus) (int, error) {
	var n int64
	q := s.db.WithContext(ctx).Model(&connectionRow{}).Where("connector_id = ? AND organisation_id = ?", connectorID, orgID)
	if status != nil {
		q = q.Where("status = ?", string(*status))
	}
	err := q.Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("count connections: %w", err)
	}
	return int(n), nil
}

// CreateConnection creates a connection starting from a copy of the connector's variables.
func (s *Store) CreateConnection(ctx context.Context, orgID, connectorID string, in domain.NewConnection) (*domain.Connection, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var created *domain.Connection
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		// The connector is locked so that a concurrent overwrite of its variables either
		// happens before this copy or reaches the new connection.
		connector, err := s.lockConnector(tx, orgID, connectorID)
		if err != nil {
			return err
		}
		pinned, pinnedName, err := s.resolvePin(tx, connectorID, in.VersionName)
		if err != nil {
			return err
		}
		if err := connectionNames.check(tx, connectorID, "", in.Name); err != nil {
			return err
		}
		vars := domain.InitialVariables(connector.ConnectionVariables, in.Variables)
		if err := domain.ValidateVariables("variables", vars); err != nil {
			return err
		}
		now := s.now()
		row := connectionRow{
			ID: newID(), ConnectorID: connectorID, OrganisationID: orgID, Name: in.Name, NameKey: domain.NameKey(in.Name),
			Variables: encodeList(vars), PinnedVersionID: pinned, Revision: 1, CreatedAt: now, UpdatedAt: now,
			Status: string(domain.StatusPending),
		}
		if err := tx.Omit("PinnedVersionName").Create(&row).Error; err != nil {
			return connectionNames.translate(err, in.Name)
		}
		row.PinnedVersionName = pinnedName
		if created, err = row.domain(); err != nil {
			return err
		}
		fields := []string{"name", "variables"}
		if in.VersionName != nil {
			fields = append(fields, "versionName")
		}
		return s.audit(tx, orgID, "connection.create", "connection", row.ID, fields)
	})
	if err != nil {
		return nil, fmt.Errorf("create connection: %w", err)
	}
	return created, nil
}

func (s *Store) lockConnector(tx *gorm.DB, orgID, id string) (*domain.Connector, error) {
	var row connectorRow
	err := s.forUpdate(tx).Where("id = ? AND organisation_id = ?", id, orgID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, domain.NotFound("connector", id)
	}
	if err != nil {
		return nil, err
	}
	return row.domain()
}

// resolvePin turns a pinned version name into its id; the version must be published. It
// returns the name as the version spells it.
func (s *Store) resolvePin(tx *gorm.DB, connectorID string, name *string) (id, canonical *string, err error) {
	if name == nil {
		return nil, nil, nil
	}
	var row versionRow
	err = tx.Where("connector_id = ? AND name_key = ?", connectorID, domain.NameKey(*name)).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil, domain.Invalid("versionName", "the connector has no version named %q", *name)
	}
	if err != nil {
		return nil, nil, err
	}
	if row.PublishedAt == nil {
		return nil, nil, domain.Invalid("versionName", "version %q is a draft; only published versions can be pinned", row.Name)
	}
	return &row.ID, &row.Name, nil
}

// UpdateConnection replaces the connection's name, pin and variables (update-and-unset).
func (s *Store) UpdateConnection(ctx context.Context, orgID, id string, in domain.ConnectionUpdate) (*domain.Connection, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	c, err := s.mutateConnection(ctx, orgID, id, func(tx *gorm.DB, c *domain.Connection) error {
		if in.ExpectedRevision != nil && *in.ExpectedRevision != c.Revision {
			return domain.Errorf(domain.CodeConflict, "connection %q is at revision %d, not the expected %d; reload it and apply your change again", c.ID, c.Revision, *in.ExpectedRevision)
		}
		if domain.NameKey(in.Name) != domain.NameKey(c.Name) {
			if err := connectionNames.check(tx, c.ConnectorID, c.ID, in.Name); err != nil {
				return err
			}
		}
		fields := domain.ChangedFields(connectionView{c.Name, c.VersionName, c.Variables}, connectionView{in.Name, in.VersionName, in.Variables})
		removed := domain.RemovedVariables(c.Variables, in.Variables)
		c.Name, c.VersionName, c.Variables = in.Name, in.VersionName, in.Variables
		if err := s.audit(tx, orgID, "connection.update", "connection", c.ID, fields); err != nil {
			return err
		}
		if len(removed) == 0 {
			return nil
		}
		return s.audit(tx, orgID, domain.ActionConnectionVariablesRemoved, "connection", c.ID, removed)
	})
	if err != nil {
		return nil, fmt.Errorf("update connection %s: %w", id, err)
	}
	return c, nil
}

// mutateConnection loads a connection locked for update, lets change modify it, and stores it
// with the next revision, all in one transaction. change may also write other rows of the
// connection (its credentials) through tx.
func (s *Store) mutateConnection(ctx context.Context, orgID, id string, change func(tx *gorm.DB, c *domain.Connection) error) (*domain.Connection, error) {
	var result *domain.Connection
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		row, err := scanOne[connectionRow](connections(s.forUpdateOf(tx, "connections")).Select(connectionColumns.all).
			Where("connections.id = ? AND connections.organisation_id = ?", id, orgID))
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return domain.NotFound("connection", id)
		}
		if err != nil {
			return err
		}
		c, err := row.domain()
		if err != nil {
			return err
		}
		if err := change(tx, c); err != nil {
			return err
		}
		pinned, pinnedName, err := s.resolvePin(tx, c.ConnectorID, c.VersionName)
		if err != nil {
			return err
		}
		c.VersionName = pinnedName
		c.Revision = row.Revision + 1
		c.UpdatedAt = s.now()
		res := tx.Model(&connectionRow{}).Where("id = ?", id).Updates(map[string]any{
			"name":              c.Name,
			"name_key":          domain.NameKey(c.Name),
			"variables":         encodeList(c.Variables),
			"pinned_version_id": pinned,
			"revision":          c.Revision,
			"updated_at":        c.UpdatedAt,
		})
		if res.Error != nil {
			return connectionNames.translate(res.Error, c.Name)
		}
		if c.Variables == nil {
			c.Variables = []domain.Variable{}
		}
		result = c
		return nil
	})
	return result, err
}

// DeleteConnection removes a connection and its credentials.
func (s *Store) DeleteConnection(ctx context.Context, orgID, id string) error {
	return s.deleteOwned(ctx, &connectionRow{}, orgID, id, "connection")
}

// connectionView is what an update of a connection can change, for its audit record.
type connectionView struct {
	Name        string            `json:"name"`
	VersionName *string           `json:"versionName"`
	Variables   []domain.Variable `json:"variables"`
}

// PatchConnectionVariables merges properties into the connection's variables.
func (s *Store) PatchConnectionVariables(ctx context.Context, orgID, id string, properties []domain.Property, dynamicProperties *string) (*domain.Connection, error) {
	c, err := s.mutateConnection(ctx, orgID, id, func(tx *gorm.DB, c *domain.Connection) error {
		merged, err := domain.MergeProperties(c.Variables, properties, dynamicProperties, domain.ValidateVariableName)
		if err != nil {
			return err
		}
		if err := domain.ValidateVariables("variables", merged); err != nil {
			return err
		}
		fields := variableNames("variables", c.Variables, merged)
		c.Variables = merged
		return s.audit(tx, orgID, "connection.patchVariables", "connection", c.ID, fields)
	})
	if err != nil {
		return nil, fmt.Errorf("patch connection %s variables: %w", id, err)
	}
	return c, nil
}

// propagateVariables overwrites the variables of every connection of a connector: part of
// updateConnector's transaction.
func (s *Store) propagateVariables(tx *gorm.DB, connectorID string, vars []domain.Variable) error {
	err := tx.Model(&connectionRow{}).Where("connector_id = ?", connectorID).Updates(map[string]any{
		"variables":  encodeList(vars),
		"revision":   gorm.Expr("revision + 1"),
		"updated_at": s.now(),
	}).Error
	if err != nil {
		return fmt.Errorf("overwrite connection variables: %w", err)
	}
	return s.failPoint(tx.Statement.Context, "updateConnector.variablesPropagated")
}

// failPoint lets fault-injection tests fail a transaction at a named point.
func (s *Store) failPoint(ctx context.Context, name string) error {
	if s.FailPoint == nil {
		return nil
	}
	return s.FailPoint(ctx, name)
}

var _ domain.ConnectionService = (*Store)(nil)

// ConnectionsOfConnectors returns the first page (oldest first) of connections of each of
// many connectors in one query. Parts outside need may be left empty.
func (s *Store) ConnectionsOfConnectors(ctx context.Context, orgID string, connectorIDs []string, first int, need readmodel.Parts) (map[string]*domain.ConnectionPage, error) {
	pages := make(map[string]*domain.ConnectionPage, len(connectorIDs))
	for _, id := range connectorIDs {
		pages[id] = newConnectionPage(id, first)
	}
	if len(connectorIDs) == 0 {
		return pages, nil
	}
	var rn int
	q := s.reads.connectionsOfConnectors
	err := readRows(ctx, s, q[0]+connectionColumns.For(need)+q[1], []any{connectorIDs, orgID, lookahead(first, need)}, []any{&rn}, func(row *connectionRow) error {
		page := pages[row.ConnectorID]
		return addToPage(&page.Edges, &page.PageInfo, first, need, row.domain, connectionCursor, connectionEdge)
	})
	if err != nil {
		return nil, fmt.Errorf("list connections of connectors: %w", err)
	}
	return pages, nil
}
