package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/jsonlist"
	"github.com/plugboard/plugboard/internal/readmodel"
)

var _ domain.AuditService = (*Store)(nil)

type auditRow struct {
	ID             string
	OrganisationID string
	Actor          string
	Action         string
	ResourceType   string
	ResourceID     string
	ChangedFields  string
	CreatedAt      time.Time
}

func (auditRow) TableName() string { return "audit_events" }

func (r *auditRow) domain() (*domain.AuditEvent, error) {
	e := &domain.AuditEvent{ID: r.ID, OrganisationID: r.OrganisationID, Actor: r.Actor, Action: r.Action,
		ResourceType: r.ResourceType, ResourceID: r.ResourceID, CreatedAt: r.CreatedAt.UTC()}
	if err := jsonlist.Decode(r.ChangedFields, &e.ChangedFields); err != nil {
		return nil, fmt.Errorf("audit event %s: %w", r.ID, err)
	}
	return e, nil
}

const auditColumns = "id, organisation_id, actor, action, resource_type, resource_id, changed_fields, created_at"

// nonNil keeps an empty list of changed fields a JSON [] rather than null.
func nonNil(fields []string) []string {
	if fields == nil {
		return []string{}
	}
	return fields
}

// audit records a change in the transaction that makes it, so that the trail and the data
// never disagree. The actor comes from the context; fields are names, never values.
func (s *Store) audit(tx *gorm.DB, orgID, action, resourceType, resourceID string, fields []string) error {
	err := tx.Exec(`INSERT INTO audit_events (`+auditColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		newID(), orgID, domain.ActorFrom(tx.Statement.Context), action, resourceType, resourceID,
		encodeList(nonNil(fields)), s.now()).Error
	if err != nil {
		return fmt.Errorf("write audit event: %w", err)
	}
	return nil
}

const auditOrder domain.ConnectorOrder = "AUDIT"

// FindAuditEvents returns a page of an organisation's audit trail, newest first.
func (s *Store) FindAuditEvents(ctx context.Context, orgID string, filter domain.AuditFilter, page domain.PageRequest) (*domain.AuditPage, error) {
	w, err := openWindow(page, auditOrder)
	if err != nil {
		return nil, err
	}
	result := &domain.AuditPage{Edges: []domain.AuditEdge{}, OrganisationID: orgID, Filter: filter}
	q := filterAudit(s.db.WithContext(ctx), orgID, filter)
	where, args, err := w.conditions(auditKeyset, timeAndID)
	if err != nil {
		return nil, err
	}
	for i, cond := range where {
		q = q.Where(cond, args[2*i:2*i+2]...)
	}
	var rows []auditRow
	if err := q.Order(auditKeyset.orderBy(page.Backward)).Limit(page.First + 1).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list audit events: %w", err)
	}
	result.Edges, result.PageInfo, err = pageOf(rows, page.First, readmodel.AllParts, (*auditRow).domain,
		func(_ *auditRow, e *domain.AuditEvent) cursor {
			return cursor{Order: auditOrder, Time: e.CreatedAt, ID: e.ID}
		},
		func(cur string, e *domain.AuditEvent) domain.AuditEdge { return domain.AuditEdge{Cursor: cur, Node: e} })
	if err != nil {
		return nil, err
	}
	finish(w, result.Edges, &result.PageInfo)
	return result, nil
}

// auditKeyset is the order of the audit trail: newest first.
var auditKeyset = keyset{[]string{"created_at", "id"}, true}

// CountAuditEvents counts the events a filter keeps.
func (s *Store) CountAuditEvents(ctx context.Context, orgID string, filter domain.AuditFilter) (int, error) {
	var n int64
	if err := filterAudit(s.db.WithContext(ctx).Model(&auditRow{}), orgID, filter).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count audit events: %w", err)
	}
	return int(n), nil
}

func filterAudit(q *gorm.DB, orgID string, f domain.AuditFilter) *gorm.DB {
	q = q.Where("organisation_id = ?", orgID)
	for col, v := range map[string]string{"resource_type": f.ResourceType, "resource_id": f.ResourceID, "action": f.Action, "actor": f.Actor} {
		if v != "" {
			q = q.Where(col+" = ?", v)
		}
	}
	return q
}

// variableNames lists the names a patch touched, as audit fields ("connectionVariables.Region").
func variableNames(prefix string, before, after []domain.Variable) []string {
	old := map[string]string{}
	for _, v := range before {
		old[v.Name] = v.Value
	}
	var names []string
	for _, v := range after {
		if prev, ok := old[v.Name]; !ok || prev != v.Value {
			names = append(names, prefix+"."+v.Name)
		}
	}
	return names
}
