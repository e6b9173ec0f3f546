package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/readmodel"
)

// FindVersion returns NOT_FOUND for a missing version and for one of another organisation.
func (s *Store) FindVersion(ctx context.Context, orgID, id string) (*domain.ConnectorVersion, error) {
	row, err := scanOne[versionRow](s.db.WithContext(ctx).Table("connector_versions").Select(versionColumns.all).
		Where("id = ? AND organisation_id = ?", id, orgID))
	if err != nil {
		return nil, notFoundOr(err, "version", id)
	}
	return row.domain()
}

// FindVersionByName resolves a version name of a connector; "latest" and "default" (in any
// case) resolve the aliases. NOT_FOUND when there is no such version.
func (s *Store) FindVersionByName(ctx context.Context, orgID, connectorID, name string) (*domain.ConnectorVersion, error) {
	row, err := s.versionByName(s.db.WithContext(ctx), orgID, connectorID, name)
	if err != nil {
		return nil, err
	}
	return row.domain()
}

func (s *Store) versionByName(tx *gorm.DB, orgID, connectorID, name string) (*versionRow, error) {
	cond, args := versionNamed(s.dialect, name)
	q := tx.Table("connector_versions").Select(versionColumns.all).Where("connector_id = ? AND organisation_id = ?", connectorID, orgID).
		Where(cond, args...)
	row, err := scanOne[versionRow](q)
	if err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) && domain.IsReservedVersionName(name) {
			return nil, domain.Errorf(domain.CodeNotFound, "the connector has no %s version: none is published", strings.ToLower(strings.TrimSpace(name)))
		}
		return nil, notFoundOr(err, "version", name)
	}
	return row, nil
}

// versionNamed is the condition on connector_versions that picks the version called name, and
// its arguments: "latest" and "default" (in any case) are the aliases, other names match
// name_key. The aliases are literals, spelt as each database's partial index of them is, so
// that a prepared statement's generic plan still finds the one row through that index.
func versionNamed(d Dialect, name string) (cond string, args []any) {
	flag := ""
	switch strings.ToLower(strings.TrimSpace(name)) {
	case domain.VersionLatest:
		flag = "connector_versions.is_latest"
	case domain.VersionDefault:
		flag = "connector_versions.is_default"
	default:
		return "connector_versions.name_key = ?", []any{domain.NameKey(name)}
	}
	if d == SQLite {
		return flag + " = 1", nil
	}
	return flag, nil
}

const versionsOrder domain.ConnectorOrder = "VERSIONS"

func versionCursor(v *domain.ConnectorVersion) cursor {
	return cursor{Order: versionsOrder, Time: v.CreatedAt, ID: v.ID}
}

// newVersionPage is the empty first page of a connector's versions that batched reads fill.
func newVersionPage(connectorID string, first int) *domain.VersionPage {
	return &domain.VersionPage{Edges: make([]domain.VersionEdge, 0, min(first, 8)), ConnectorID: connectorID}
}

func versionEdge(cur string, v *domain.ConnectorVersion) domain.VersionEdge {
	return domain.VersionEdge{Cursor: cur, Node: v}
}

// FindVersions returns a page of a connector's versions, newest first.
func (s *Store) FindVersions(ctx context.Context, orgID, connectorID string, page domain.PageRequest) (*domain.VersionPage, error) {
	w, err := openWindow(page, versionsOrder)
	if err != nil {
		return nil, err
	}
	result := &domain.VersionPage{Edges: []domain.VersionEdge{}, ConnectorID: connectorID}
	q := s.db.WithContext(ctx).Table("connector_versions").Select(versionColumns.all).Where("connector_id = ? AND organisation_id = ?", connectorID, orgID)
	where, args, err := w.conditions(versionKeyset, timeAndID)
	if err != nil {
		return nil, err
	}
	for i, cond := range where {
		q = q.Where(cond, args[2*i:2*i+2]...)
	}
	rows, err := scanAll[versionRow](q.Order(versionKeyset.orderBy(page.Backward)).Limit(page.First + 1))
	if err != nil {
		return nil, fmt.Errorf("list versions: %w", err)
	}
	result.Edges, result.PageInfo, err = pageOf(rows, page.First, readmodel.AllParts, (*versionRow).domain,
		func(_ *versionRow, v *domain.ConnectorVersion) cursor { return versionCursor(v) }, versionEdge)
	if err != nil {
		return nil, err
	}
	finish(w, result.Edges, &result.PageInfo)
	return result, nil
}

// versionKeyset is the order of a connector's versions: newest first.
var versionKeyset = keyset{[]string{"created_at", "id"}, true}

// ConnectorWithVersions is FindConnector and the first page of its versions; on
// PostgreSQL in one statement (nested.go), which was a third of reading one connector.
// Parts outside need may be left empty.
func (s *Store) ConnectorWithVersions(ctx context.Context, orgID, id string, first int, need readmodel.Parts) (*domain.Connector, *domain.VersionPage, error) {
	nested := s.nestedIn(orgID, readmodel.NestedFirst{Versions: first, Connections: -1}, need)
	if nested == nil {
		c, err := s.FindConnector(ctx, orgID, id)
		if err != nil {
			return nil, nil, err
		}
		page, err := s.FindVersions(ctx, orgID, id, domain.PageRequest{First: first})
		return c, page, err
	}
	var c *domain.Connector
	err := readRows(ctx, s, `SELECT `+connectorColumns.For(need)+nested.columns()+` FROM connectors
		WHERE connectors.id = ? AND connectors.organisation_id = ?`, []any{id, orgID}, nested.dest(), func(r *connectorRow) error {
		var err error
		if c, err = r.domain(); err != nil {
			return err
		}
		return nested.add(r.ID)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("find connector %s: %w", id, err)
	}
	if c == nil {
		return nil, nil, domain.NotFound("connector", id)
	}
	return c, nested.versions[id], nil
}

// CountVersions counts a connector's versions.
func (s *Store) CountVersions(ctx context.Context, orgID, connectorID string) (int, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&versionRow{}).Where("connector_id = ? AND organisation_id = ?", connectorID, orgID).Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("count versions: %w", err)
	}
	return int(n), nil
}

// insertVersion stores a new draft with its triggers (validated by the caller): the one insert
// of createVersion and of a document's apply.
func (s *Store) insertVersion(tx *gorm.DB, orgID, connectorID string, in domain.VersionInput, triggers []domain.Trigger) (versionRow, error) {
	now := s.now()
	row := versionRow{
		ID: newID(), ConnectorID: connectorID, OrganisationID: orgID, Name: in.Name, NameKey: domain.NameKey(in.Name),
		Description: in.Description, Actions: encodeList(in.Actions), CreatedAt: now, UpdatedAt: now,
		OutboundPolicy: encodePolicy(in.OutboundPolicy),
	}
	if err := tx.Create(&row).Error; err != nil {
		return row, versionNames.translate(err, in.Name)
	}
	return row, writeTriggers(tx, row.ID, triggers)
}

// CreateVersion creates a draft.
func (s *Store) CreateVersion(ctx context.Context, orgID, connectorID string, in domain.VersionInput) (*domain.ConnectorVersion, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var created *domain.ConnectorVersion
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		if _, err := s.lockConnector(tx, orgID, connectorID); err != nil {
			return err
		}
		if err := versionNames.check(tx, connectorID, "", in.Name); err != nil {
			return err
		}
		triggers, err := s.validateTriggers(tx, connectorID, in.Triggers)
		if err != nil {
			return err
		}
		row, err := s.insertVersion(tx, orgID, connectorID, in, triggers)
		if err != nil {
			return err
		}
		if created, err = row.domain(); err != nil {
			return err
		}
		return s.audit(tx, orgID, "version.create", "version", row.ID, domain.ChangedFields(versionView{}, versionView{in.Name, in.Description, in.Actions, in.OutboundPolicy, triggers}))
	})
	if err != nil {
		return nil, fmt.Errorf("create version: %w", err)
	}
	return created, nil
}

// mutateVersion runs change on a version with its connector locked, so that the aliases
// (latest, default) and pins of one connector change one transaction at a time.
func (s *Store) mutateVersion(ctx context.Context, orgID, id string, change func(tx *gorm.DB, v *versionRow) error) (*domain.ConnectorVersion, error) {
	var result *domain.ConnectorVersion
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		var row versionRow
		if err := tx.Where("id = ? AND organisation_id = ?", id, orgID).Take(&row).Error; err != nil {
			return notFoundOr(err, "version", id)
		}
		if _, err := s.lockConnector(tx, orgID, row.ConnectorID); err != nil {
			return err
		}
		// Read again under the lock: another transaction may have changed it meanwhile.
		if err := tx.Where("id = ?", id).Take(&row).Error; err != nil {
			return notFoundOr(err, "version", id)
		}
		if err := change(tx, &row); err != nil {
			return err
		}
		if row.ID == "" {
			return nil // deleted
		}
		var err error
		result, err = row.domain()
		return err
	})
	return result, err
}

// UpdateVersion replaces a draft's name, description and actions.
func (s *Store) UpdateVersion(ctx context.Context, orgID, id string, in domain.VersionInput) (*domain.ConnectorVersion, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	v, err := s.mutateVersion(ctx, orgID, id, func(tx *gorm.DB, row *versionRow) error {
		if row.PublishedAt != nil {
			return domain.Errorf(domain.CodeConflict, "version %q is published and cannot change; create a new version instead", row.Name)
		}
		if domain.NameKey(in.Name) != row.NameKey {
			if err := versionNames.check(tx, row.ConnectorID, row.ID, in.Name); err != nil {
				return err
			}
		}
		old, err := row.domain()
		if err != nil {
			return err
		}
		oldTriggers, err := readTriggers(tx, row.ID)
		if err != nil {
			return err
		}
		triggers, err := s.validateTriggers(tx, row.ConnectorID, in.Triggers)
		if err != nil {
			return err
		}
		if err := writeTriggers(tx, row.ID, triggers); err != nil {
			return err
		}
		fields := domain.ChangedFields(versionView{old.Name, old.Description, old.Actions, old.OutboundPolicy, oldTriggers},
			versionView{in.Name, in.Description, in.Actions, in.OutboundPolicy, triggers})
		row.Name, row.NameKey, row.Description, row.Actions = in.Name, domain.NameKey(in.Name), in.Description, encodeList(in.Actions)
		row.OutboundPolicy = encodePolicy(in.OutboundPolicy)
		row.UpdatedAt = s.now()
		err = tx.Model(&versionRow{}).Where("id = ?", row.ID).Updates(map[string]any{
			"name": row.Name, "name_key": row.NameKey, "description": row.Description, "actions": row.Actions,
			"outbound_policy": row.OutboundPolicy, "updated_at": row.UpdatedAt,
		}).Error
		if err := versionNames.translate(err, in.Name); err != nil {
			return err
		}
		return s.audit(tx, orgID, "version.update", "version", row.ID, fields)
	})
	if err != nil {
		return nil, fmt.Errorf("update version %s: %w", id, err)
	}
	return v, nil
}

// PublishVersion makes a draft immutable and the connector's one latest version; the first
// published version also becomes the default when there is none.
func (s *Store) PublishVersion(ctx context.Context, orgID, id string) (*domain.ConnectorVersion, error) {
	v, err := s.mutateVersion(ctx, orgID, id, func(tx *gorm.DB, row *versionRow) error {
		return s.publish(tx, orgID, row)
	})
	if err != nil {
		return nil, fmt.Errorf("publish version %s: %w", id, err)
	}
	return v, nil
}

// publish makes the draft row published and the connector's latest (and its default when it
// has none), with the connector locked.
func (s *Store) publish(tx *gorm.DB, orgID string, row *versionRow) error {
	if row.PublishedAt != nil {
		return domain.Errorf(domain.CodeConflict, "version %q is already published", row.Name)
	}
	now := s.now()
	if err := tx.Model(&versionRow{}).Where("connector_id = ? AND is_latest = ?", row.ConnectorID, true).Update("is_latest", false).Error; err != nil {
		return err
	}
	var defaults int64
	if err := tx.Model(&versionRow{}).Where("connector_id = ? AND is_default = ?", row.ConnectorID, true).Count(&defaults).Error; err != nil {
		return err
	}
	row.PublishedAt, row.UpdatedAt, row.IsLatest = &now, now, true
	row.IsDefault = defaults == 0
	err := tx.Model(&versionRow{}).Where("id = ?", row.ID).Updates(map[string]any{
		"published_at": now, "updated_at": now, "is_latest": true, "is_default": row.IsDefault,
	}).Error
	if err != nil {
		return err
	}
	fields := []string{"publishedAt", "isLatest"}
	if row.IsDefault {
		fields = append(fields, "isDefault")
	}
	return s.audit(tx, orgID, "version.publish", "version", row.ID, fields)
}

// SetDefaultVersion makes a published version the connector's default.
// Without force, it is CONFLICT when connections follow the default version and the change
// from the current default is breaking: they would switch without a word.
func (s *Store) SetDefaultVersion(ctx context.Context, orgID, id string, force bool) (*domain.ConnectorVersion, error) {
	v, err := s.mutateVersion(ctx, orgID, id, func(tx *gorm.DB, row *versionRow) error {
		if row.PublishedAt == nil {
			return domain.Errorf(domain.CodeConflict, "version %q is a draft; only a published version can be the default", row.Name)
		}
		if row.IsDefault {
			return nil
		}
		if !force {
			if err := refuseBreakingDefault(tx, row); err != nil {
				return err
			}
		}
		if err := tx.Model(&versionRow{}).Where("connector_id = ? AND is_default = ?", row.ConnectorID, true).Update("is_default", false).Error; err != nil {
			return err
		}
		row.IsDefault = true
		if err := tx.Model(&versionRow{}).Where("id = ?", row.ID).Update("is_default", true).Error; err != nil {
			return err
		}
		return s.audit(tx, orgID, "version.setDefault", "version", row.ID, []string{"isDefault"})
	})
	if err != nil {
		return nil, fmt.Errorf("set default version %s: %w", id, err)
	}
	return v, nil
}

// DeleteVersion deletes a version that is neither the default nor pinned by a connection. When
// it was the latest, the most recently published remaining version becomes the latest.
func (s *Store) DeleteVersion(ctx context.Context, orgID, id string) error {
	_, err := s.mutateVersion(ctx, orgID, id, func(tx *gorm.DB, row *versionRow) error {
		if row.IsDefault {
			return domain.Errorf(domain.CodeConflict, "version %q is the connector's default version; make another version the default first", row.Name)
		}
		var pinned []string
		if err := tx.Model(&connectionRow{}).Where("pinned_version_id = ?", row.ID).Order("name").Limit(6).Pluck("name", &pinned).Error; err != nil {
			return err
		}
		if len(pinned) > 0 {
			names := strings.Join(pinned[:min(len(pinned), 5)], ", ")
			if len(pinned) > 5 {
				names += ", …"
			}
			return domain.Errorf(domain.CodeConflict, "version %q is pinned by connections (%s); pin them to another version first", row.Name, names)
		}
		if err := tx.Delete(&versionRow{}, "id = ?", row.ID).Error; err != nil {
			return err
		}
		if row.IsLatest {
			var next versionRow
			err := tx.Where("connector_id = ? AND published_at IS NOT NULL", row.ConnectorID).Order("published_at DESC, id DESC").Take(&next).Error
			if err == nil {
				err = tx.Model(&versionRow{}).Where("id = ?", next.ID).Update("is_latest", true).Error
			}
			if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
				return err
			}
		}
		if err := s.audit(tx, orgID, "version.delete", "version", row.ID, nil); err != nil {
			return err
		}
		row.ID = ""
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete version %s: %w", id, err)
	}
	return nil
}

var _ domain.VersionService = (*Store)(nil)

// CompareVersions compares two versions of a connector, named as FindVersionByName names
// them, with their triggers; NOT_FOUND on from or to when there is no such version.
func (s *Store) CompareVersions(ctx context.Context, orgID, connectorID, from, to string) (*domain.VersionDiff, error) {
	var diff domain.VersionDiff
	// One transaction: both versions and the configs read at one point in time.
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var contents [2]domain.VersionContents
		for i, name := range []string{from, to} {
			row, err := s.versionByName(tx, orgID, connectorID, name)
			if err != nil {
				return domain.WithFieldPrefix([2]string{"from", "to"}[i], err)
			}
			if contents[i], err = versionContents(tx, row); err != nil {
				return err
			}
		}
		configs, err := configsOf(tx, connectorID)
		if err != nil {
			return err
		}
		diff = domain.CompareVersions(contents[0], contents[1], configs)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("compare versions: %w", err)
	}
	return &diff, nil
}

// versionContents is a version row with its triggers, as versions are compared.
func versionContents(tx *gorm.DB, row *versionRow) (domain.VersionContents, error) {
	v, err := row.domain()
	if err != nil {
		return domain.VersionContents{}, err
	}
	triggers, err := readTriggers(tx, row.ID)
	if err != nil {
		return domain.VersionContents{}, err
	}
	return domain.VersionContents{ConnectorVersion: v, Triggers: triggers}, nil
}

// refuseBreakingDefault is CONFLICT, naming the breaking changes, when connections follow the
// connector's default and making row the default would break them.
func refuseBreakingDefault(tx *gorm.DB, row *versionRow) error {
	var current versionRow
	err := tx.Where("connector_id = ? AND is_default = ?", row.ConnectorID, true).Take(&current).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var following int64
	if err := tx.Model(&connectionRow{}).Where("connector_id = ? AND pinned_version_id IS NULL", row.ConnectorID).Count(&following).Error; err != nil {
		return err
	}
	if following == 0 {
		return nil
	}
	from, err := versionContents(tx, &current)
	if err != nil {
		return err
	}
	to, err := versionContents(tx, row)
	if err != nil {
		return err
	}
	configs, err := configsOf(tx, row.ConnectorID)
	if err != nil {
		return err
	}
	diff := domain.CompareVersions(from, to, configs)
	if !diff.Breaking {
		return nil
	}
	return domain.Errorf(domain.CodeConflict, "%d connection(s) follow the default version, and %q breaks what %q offers: %s; pass force: true to make it the default anyway, or pin those connections first",
		following, row.Name, current.Name, diff.BreakingChanges())
}

// versionView is what an update of a version can change, for its audit record.
type versionView struct {
	Name        string              `json:"name"`
	Description *string             `json:"description"`
	Actions     []domain.HTTPAction `json:"actions"`
	// OutboundPolicy named in the audit event also when an update clears it.
	OutboundPolicy *domain.OutboundPolicy `json:"outboundPolicy"`
	// Triggers named also when an update clears them.
	Triggers []domain.Trigger `json:"triggers"`
}

// VersionsOfConnectors returns the first page (newest first) of versions of each of many
// connectors in one query: the nested versions of a connector list cost one round trip, not
// one per connector. Parts outside need may be left empty.
func (s *Store) VersionsOfConnectors(ctx context.Context, orgID string, connectorIDs []string, first int, need readmodel.Parts) (map[string]*domain.VersionPage, error) {
	pages := make(map[string]*domain.VersionPage, len(connectorIDs))
	for _, id := range connectorIDs {
		pages[id] = newVersionPage(id, first)
	}
	if len(connectorIDs) == 0 {
		return pages, nil
	}
	var rn int
	q := s.reads.versionsOfConnectors
	err := readRows(ctx, s, q[0]+versionColumns.For(need)+q[1], []any{connectorIDs, orgID, lookahead(first, need)}, []any{&rn}, func(row *versionRow) error {
		page := pages[row.ConnectorID]
		return addToPage(&page.Edges, &page.PageInfo, first, need, row.domain, versionCursor, versionEdge)
	})
	if err != nil {
		return nil, fmt.Errorf("list versions of connectors: %w", err)
	}
	return pages, nil
}
