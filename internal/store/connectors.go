package store

import (
	"context"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/readmodel"
)

var _ domain.ConnectorService = (*Store)(nil)

// FindConnector returns NOT_FOUND for a missing connector and for one of another organisation.
func (s *Store) FindConnector(ctx context.Context, orgID, id string) (*domain.Connector, error) {
	_, c, err := s.readConnectorRow(ctx, orgID, id)
	if err != nil && !errors.As(err, new(*domain.Error)) {
		return nil, fmt.Errorf("find connector %s: %w", id, err)
	}
	return c, err
}

// readConnector reads one connector of the organisation through q (which may lock it), with
// its row for the revision; NOT_FOUND when there is none.
func readConnector(q *gorm.DB, orgID, id string) (*connectorRow, *domain.Connector, error) {
	row, err := scanOne[connectorRow](q.Table("connectors").Select(connectorColumns.all).Where("id = ? AND organisation_id = ?", id, orgID))
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil, domain.NotFound("connector", id)
	}
	if err != nil {
		return nil, nil, err
	}
	c, err := row.domain()
	return row, c, err
}

// readConnectorRow is readConnector outside a transaction, through readEach (pgx on
// PostgreSQL).
func (s *Store) readConnectorRow(ctx context.Context, orgID, id string) (*connectorRow, *domain.Connector, error) {
	found, err := oneConnectorRow(ctx, s, `SELECT `+connectorColumns.all+` FROM connectors WHERE id = ? AND organisation_id = ?`, id, orgID)
	if err != nil {
		return nil, nil, err
	}
	if found == nil {
		return nil, nil, domain.NotFound("connector", id)
	}
	c, err := found.domain()
	return found, c, err
}

// oneConnectorRow runs a statement that gives at most one connector row (connectorColumns),
// through readEach; nil when it gives none.
func oneConnectorRow(ctx context.Context, s *Store, query string, args ...any) (*connectorRow, error) {
	var found *connectorRow
	err := readRows(ctx, s, query, args, nil, func(r *connectorRow) error {
		row := *r
		found = &row
		return nil
	})
	return found, err
}

// connectorSet writes every mutable column of a connector; connectorSetArgs are its values.
const connectorSet = `SET name = ?, name_key = ?, sort_key = ?, description = ?, protocol_type = ?, documentation_url = ?,
	icon_url = ?, base_url = ?, categories = ?, auth_scheme_configs = ?, connection_variables = ?, revision = ?, updated_at = ?`

func connectorSetArgs(c *domain.Connector) []any {
	r := connectorToRow(c)
	return []any{r.Name, r.NameKey, r.SortKey, r.Description, r.ProtocolType, r.DocumentationURL, r.IconURL,
		r.BaseURL, r.Categories, r.AuthSchemeConfigs, r.ConnectionVariables, r.Revision, r.UpdatedAt}
}

// connectorFieldColumns are the columns of domain.ConnectorFields' fields, by the names
// ChangedFields gives them, with their values in a row. name_key and sort_key are derived from
// name: written with it.
var connectorFieldColumns = []struct {
	field, column string
	derived       bool
	value         func(*connectorRow) any
}{
	{"name", "name", false, func(r *connectorRow) any { return r.Name }},
	{"name", "name_key", true, func(r *connectorRow) any { return r.NameKey }},
	{"name", "sort_key", true, func(r *connectorRow) any { return r.SortKey }},
	{"description", "description", false, func(r *connectorRow) any { return r.Description }},
	{"protocolType", "protocol_type", false, func(r *connectorRow) any { return r.ProtocolType }},
	{"documentationURL", "documentation_url", false, func(r *connectorRow) any { return r.DocumentationURL }},
	{"iconURL", "icon_url", false, func(r *connectorRow) any { return r.IconURL }},
	{"baseURL", "base_url", false, func(r *connectorRow) any { return r.BaseURL }},
	{"categories", "categories", false, func(r *connectorRow) any { return r.Categories }},
}

// connectorSetOf writes only the columns of the changed fields (as connectorChanges names
// them), then the revision and updatedAt: PostgreSQL then neither parses the JSON columns
// nor logs what did not change. A field it does not know writes every column.
func connectorSetOf(c *domain.Connector, changed []string) (string, []any) {
	// The row's name and sort keys and JSON lists are computed only when some field changed:
	// an update that changes nothing writes the revision and updatedAt alone.
	r := connectorRow{Revision: c.Revision, UpdatedAt: c.UpdatedAt}
	if len(changed) > 0 {
		r = connectorToRow(c)
	}
	var set strings.Builder
	args := make([]any, 0, len(changed)+3)
	add := func(column string, v any) {
		set.WriteString(column)
		set.WriteString(" = ?, ")
		args = append(args, v)
	}
	set.WriteString("SET ")
	for _, field := range changed {
		switch field {
		case "authSchemeConfigIDs":
			add("auth_scheme_configs", r.AuthSchemeConfigs)
		case "connectionVariables":
			add("connection_variables", r.ConnectionVariables)
		default:
			known := false
			for _, f := range connectorFieldColumns {
				if f.field == field {
					add(f.column, f.value(&r))
					known = true
				}
			}
			if !known {
				return connectorSet, connectorSetArgs(c)
			}
		}
	}
	add("revision", r.Revision)
	set.WriteString("updated_at = ?")
	return set.String(), append(args, r.UpdatedAt)
}

// orderKeysets gives, per order, the keyset that ORDER BY and the cursor conditions follow.
// Names order by their collation key (domain.SortKey: "Émile" between "Eagle" and "Zulu", the
// same bytes on both databases), which two names may share, so the id breaks ties; the index
// (organisation_id, sort_key, id) serves both directions. The columns are qualified: a page
// without cursors selects NULL AS sort_key, and an unqualified ORDER BY would sort by that
// output column.
var orderKeysets = map[domain.ConnectorOrder]keyset{
	domain.OrderNameAsc:       {[]string{"connectors.sort_key", "connectors.id"}, false},
	domain.OrderNameDesc:      {[]string{"connectors.sort_key", "connectors.id"}, true},
	domain.OrderUpdatedAtDesc: {[]string{"updated_at", "id"}, true},
	domain.OrderCreatedAtAsc:  {[]string{"created_at", "id"}, false},
}

// FindConnectors returns one page in keyset order: pages stay consistent while rows are added.
func (s *Store) FindConnectors(ctx context.Context, orgID string, filter domain.ConnectorFilter, order domain.ConnectorOrder, page domain.PageRequest) (*domain.ConnectorPage, error) {
	result, _, err := s.ConnectorsWithLists(ctx, orgID, filter, order, page, readmodel.AllParts, readmodel.NoNested)
	return result, err
}

// ConnectorsWithLists is FindConnectors with the first pages of nested lists: on PostgreSQL
// in the page's own statement (nested.go), elsewhere batched after it. Parts outside need may
// be left empty.
func (s *Store) ConnectorsWithLists(ctx context.Context, orgID string, filter domain.ConnectorFilter, order domain.ConnectorOrder, page domain.PageRequest, need readmodel.Parts, nested readmodel.NestedFirst) (*domain.ConnectorPage, readmodel.Lists, error) {
	var lists readmodel.Lists
	result, err := s.connectorsWithLists(ctx, orgID, filter, order, page, need, nested, &lists)
	return result, lists, err
}

func (s *Store) connectorsWithLists(ctx context.Context, orgID string, filter domain.ConnectorFilter, order domain.ConnectorOrder, page domain.PageRequest, need readmodel.Parts, nested readmodel.NestedFirst, lists *readmodel.Lists) (*domain.ConnectorPage, error) {
	if order == "" {
		order = domain.OrderNameAsc
	}
	keys, ok := orderKeysets[order]
	if !ok {
		return nil, domain.Invalid("orderBy", "unknown order %q", order)
	}
	if err := filter.Validate(); err != nil {
		return nil, err
	}
	w, err := openWindow(page, order)
	if err != nil {
		return nil, err
	}
	result := &domain.ConnectorPage{Edges: []domain.ConnectorEdge{}, OrganisationID: orgID, Filter: filter}
	where, args := s.connectorFilter(orgID, filter)
	bounds, boundArgs, err := w.conditions(keys, func(c *cursor) ([]any, error) {
		if order != domain.OrderNameAsc && order != domain.OrderNameDesc {
			return timeAndID(c)
		}
		key, err := hex.DecodeString(c.Key)
		if err != nil {
			return nil, domain.Invalid("after", "is not a cursor of this list; use a cursor, startCursor or endCursor returned with the same orderBy")
		}
		return []any{bytesValue(key), c.ID}, nil
	})
	if err != nil {
		return nil, err
	}
	for _, b := range bounds {
		where += " AND " + b
	}
	args = append(args, boundArgs...)
	rows := make([]connectorRow, 0, page.First+1)
	inline := s.nestedIn(orgID, nested, need)
	// The limit is written into the statement: with a LIMIT parameter PostgreSQL planned the
	// query again on every execution (its generic plan cannot know the limit).
	err = readRows(ctx, s, `SELECT `+connectorColumns.For(need)+inline.columns()+` FROM connectors WHERE `+where+` ORDER BY `+keys.orderBy(page.Backward)+` LIMIT `+strconv.Itoa(w.lookahead(need)),
		args, inline.dest(), func(r *connectorRow) error {
			rows = append(rows, *r)
			return inline.add(r.ID)
		})
	if err != nil {
		return nil, fmt.Errorf("list connectors: %w", err)
	}
	result.Edges, result.PageInfo, err = pageOf(rows, page.First, need, (*connectorRow).domain, func(r *connectorRow, c *domain.Connector) cursor {
		cur := cursor{Order: order, ID: c.ID}
		switch order {
		case domain.OrderNameAsc, domain.OrderNameDesc:
			// Hex: collation keys hold the NUL bytes that separate a cursor's parts.
			cur.Key = hex.EncodeToString(r.SortKey)
		case domain.OrderUpdatedAtDesc:
			cur.Time = c.UpdatedAt
		case domain.OrderCreatedAtAsc:
			cur.Time = c.CreatedAt
		}
		return cur
	}, func(cur string, c *domain.Connector) domain.ConnectorEdge {
		return domain.ConnectorEdge{Cursor: cur, Node: c}
	})
	if err != nil {
		return nil, err
	}
	finish(w, result.Edges, &result.PageInfo)
	if len(rows) > page.First {
		inline.drop(rows[page.First].ID)
	}
	lists.Versions, lists.Connections = inline.pages()
	if err := s.batchNested(ctx, result, lists, need, nested); err != nil {
		return nil, err
	}
	return result, nil
}

// batchNested reads the nested lists a page read did not include.
func (s *Store) batchNested(ctx context.Context, result *domain.ConnectorPage, lists *readmodel.Lists, need readmodel.Parts, nested readmodel.NestedFirst) error {
	if (nested.Versions < 0 || lists.Versions != nil) && (nested.Connections < 0 || lists.Connections != nil) {
		return nil
	}
	ids := make([]string, len(result.Edges))
	for i, e := range result.Edges {
		ids[i] = e.Node.ID
	}
	var err error
	if nested.Versions >= 0 && lists.Versions == nil {
		if lists.Versions, err = s.VersionsOfConnectors(ctx, result.OrganisationID, ids, nested.Versions, need); err != nil {
			return err
		}
	}
	if nested.Connections >= 0 && lists.Connections == nil {
		lists.Connections, err = s.ConnectionsOfConnectors(ctx, result.OrganisationID, ids, nested.Connections, need)
	}
	return err
}

// CountConnectors counts the connectors a filter keeps.
func (s *Store) CountConnectors(ctx context.Context, orgID string, filter domain.ConnectorFilter) (int, error) {
	if err := filter.Validate(); err != nil {
		return 0, err
	}
	var n int64
	where, args := s.connectorFilter(orgID, filter)
	if err := s.readEach(ctx, `SELECT count(*) FROM connectors WHERE `+where, args, []any{&n}, func() error { return nil }); err != nil {
		return 0, fmt.Errorf("count connectors: %w", err)
	}
	return int(n), nil
}

// connectorFilter is the WHERE clause (for readEach) and arguments of an organisation's
// connectors a filter keeps.
func (s *Store) connectorFilter(orgID string, f domain.ConnectorFilter) (string, []any) {
	where, args := "organisation_id = ?", []any{orgID}
	if f.NameContains != "" {
		where += ` AND name_key LIKE ? ESCAPE '\'`
		args = append(args, "%"+escapeLike(domain.NameKey(f.NameContains))+"%")
	}
	if f.ProtocolType != "" {
		where += " AND protocol_type = ?"
		args = append(args, string(f.ProtocolType))
	}
	if len(f.Categories) > 0 {
		wanted := make([]string, len(f.Categories))
		for i, c := range f.Categories {
			wanted[i] = strings.ToLower(strings.TrimSpace(c))
		}
		where += s.reads.categoryMatch
		args = append(args, wanted)
	}
	return where, args
}

// bytesValue passes bytes as one value: GORM spreads a []byte right after "(" into a list of
// its bytes, as it does for an IN list, which the row comparison "(sort_key, id) > (?, ?)"
// would get.
type bytesValue []byte

// Value hands the bytes to the driver as they are.
func (b bytesValue) Value() (driver.Value, error) { return []byte(b), nil }

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// CreateConnector validates and stores a new connector at revision 1.
func (s *Store) CreateConnector(ctx context.Context, orgID string, in domain.NewConnector) (*domain.Connector, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	now := s.now()
	c := &domain.Connector{
		ID:                  newID(),
		OrganisationID:      orgID,
		ConnectorFields:     in.ConnectorFields,
		AuthSchemeConfigs:   in.AuthSchemeConfigs,
		ConnectionVariables: in.ConnectionVariables,
		Revision:            1,
		CreatedAt:           now,
		UpdatedAt:           now,
	}
	domain.NewConfigGlobalIDs(c.ID, c.AuthSchemeConfigs)
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		if err := connectorNames.check(tx, orgID, c.ID, c.Name); err != nil {
			return err
		}
		row := connectorToRow(c)
		if err := connectorNames.translate(tx.Create(&row).Error, c.Name); err != nil {
			return err
		}
		fields := domain.ChangedFields(domain.ConnectorFields{}, c.ConnectorFields)
		if len(c.AuthSchemeConfigs) > 0 {
			fields = append(fields, "authSchemeConfigs")
		}
		if len(c.ConnectionVariables) > 0 {
			fields = append(fields, "connectionVariables")
		}
		return s.audit(tx, orgID, "connector.create", "connector", c.ID, fields)
	})
	if err != nil {
		return nil, fmt.Errorf("create connector: %w", err)
	}
	return normalizedConnector(c), nil
}

// normalizedConnector returns c as a read would show it: lists are empty, never nil.
func normalizedConnector(c *domain.Connector) *domain.Connector {
	if c.Categories == nil {
		c.Categories = []string{}
	}
	if c.AuthSchemeConfigs == nil {
		c.AuthSchemeConfigs = []domain.AuthSchemeConfig{}
	}
	if c.ConnectionVariables == nil {
		c.ConnectionVariables = []domain.Variable{}
	}
	return c
}

// UpdateConnector applies the update-and-unset rule. Each database has one write path: on
// PostgreSQL a compare-and-set of the row on its revision (updateConnectorRow), on SQLite a
// transaction (its transactions are immediate: writers run one at a time). The fields the
// audit event names come from connectorChanges alone.
func (s *Store) UpdateConnector(ctx context.Context, orgID, id string, in domain.ConnectorUpdate) (*domain.Connector, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var c *domain.Connector
	var err error
	if s.dialect == Postgres {
		c, err = s.updateConnectorPostgres(ctx, orgID, id, in)
	} else {
		c, err = s.mutateConnector(ctx, orgID, id, func(tx *gorm.DB, c *domain.Connector) error {
			updated, err := applyConnectorUpdate(tx, orgID, in, c)
			if err != nil {
				return err
			}
			if in.ConnectionVariables != nil {
				if err := s.propagateVariables(tx, id, *in.ConnectionVariables); err != nil {
					return err
				}
			}
			fields := connectorChanges(c, &updated)
			*c = updated
			return s.audit(tx, orgID, "connector.update", "connector", id, fields)
		})
	}
	if err != nil {
		return nil, fmt.Errorf("update connector %s: %w", id, err)
	}
	return c, nil
}

// updateConnectorPostgres reads the row without a lock and writes the update only if no other
// writer changed it in between (updateConnectorRow), reading again when one did: two round
// trips where a transaction took five. An update that also writes the connector's connections
// (connectionVariables propagate), or must commit with an Idempotency-Key claim, and the
// fourth try of a contended row run the same steps in a transaction that holds the row.
func (s *Store) updateConnectorPostgres(ctx context.Context, orgID, id string, in domain.ConnectorUpdate) (*domain.Connector, error) {
	inTransaction := in.ConnectionVariables != nil || domain.IdempotencyClaimOf(ctx) != nil
	for try := 0; !inTransaction && try < 3; try++ {
		row, current, err := s.readConnectorRow(ctx, orgID, id)
		if err != nil {
			return nil, err
		}
		c, done, err := s.updateConnectorRow(ctx, nil, orgID, in, row, current)
		if err != nil || done {
			return c, err
		}
	}
	var c *domain.Connector
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		row, current, err := readConnector(s.forUpdate(tx), orgID, id)
		if err != nil {
			return err
		}
		c, _, err = s.updateConnectorRow(ctx, tx, orgID, in, row, current)
		if err == nil && c == nil {
			err = fmt.Errorf("connector %s changed while locked", id)
		}
		if err == nil && in.ConnectionVariables != nil {
			err = s.propagateVariables(tx, id, *in.ConnectionVariables)
		}
		return err
	})
	return c, err
}

// applyConnectorUpdate applies the update-and-unset rule to current and checks a new name
// against the organisation's other connectors.
func applyConnectorUpdate(db *gorm.DB, orgID string, in domain.ConnectorUpdate, current *domain.Connector) (domain.Connector, error) {
	updated, err := in.Apply(*current)
	if err != nil {
		return updated, err
	}
	if updated.Name != current.Name && domain.NameKey(updated.Name) != domain.NameKey(current.Name) {
		err = connectorNames.check(db, orgID, current.ID, updated.Name)
	}
	return updated, err
}

// connectorChanges names the fields an update changed, for the audit trail.
func connectorChanges(before, after *domain.Connector) []string {
	fields := domain.ChangedFields(before.ConnectorFields, after.ConnectorFields)
	if encodeList(before.AuthSchemeConfigs) != encodeList(after.AuthSchemeConfigs) {
		fields = append(fields, "authSchemeConfigIDs")
	}
	if encodeList(before.ConnectionVariables) != encodeList(after.ConnectionVariables) {
		fields = append(fields, "connectionVariables")
	}
	return fields
}

// updateConnectorRow applies in to current, read at row's revision, and writes the result in
// one statement that changes the row only if its revision is still row's and inserts the
// audit event with it. done is false when another writer changed the row in between. tx is
// the transaction it runs in, or nil.
func (s *Store) updateConnectorRow(ctx context.Context, tx *gorm.DB, orgID string, in domain.ConnectorUpdate, row *connectorRow, current *domain.Connector) (c *domain.Connector, done bool, err error) {
	db := tx
	if db == nil {
		db = s.db.WithContext(ctx)
	}
	updated, err := applyConnectorUpdate(db, orgID, in, current)
	if err != nil {
		return nil, true, err
	}
	updated.Revision = row.Revision + 1
	updated.UpdatedAt = s.now()
	changed := nonNil(connectorChanges(current, &updated))
	set, args := connectorSetOf(&updated, changed)
	args = append(args, current.ID, orgID, row.Revision,
		newID(), orgID, domain.ActorFrom(ctx), "connector.update", "connector", encodeList(changed), updated.UpdatedAt)
	statement := `WITH changed AS (UPDATE connectors ` + set + ` WHERE id = ? AND organisation_id = ? AND revision = ? RETURNING id)
		INSERT INTO audit_events (` + auditColumns + `) SELECT ?, ?, ?, ?, ?, id, ?, ? FROM changed`
	var written int64
	if tx != nil {
		res := tx.Exec(statement, args...)
		written, err = res.RowsAffected, res.Error
	} else {
		written, err = s.exec(ctx, statement, args...)
	}
	if err := connectorNames.translate(err, updated.Name); err != nil {
		return nil, true, err
	}
	if written == 0 {
		return nil, false, nil
	}
	return normalizedConnector(&updated), true, nil
}

// mutateConnector loads the connector locked for update, lets change modify it, then stores
// it with the next revision and updatedAt = now, all in one transaction. An error from change
// rolls everything back.
func (s *Store) mutateConnector(ctx context.Context, orgID, id string, change func(tx *gorm.DB, c *domain.Connector) error) (*domain.Connector, error) {
	var result *domain.Connector
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		row, c, err := readConnector(s.forUpdate(tx), orgID, id)
		if err != nil {
			return err
		}
		if err := change(tx, c); err != nil {
			return err
		}
		c.Revision = row.Revision + 1
		c.UpdatedAt = s.now()
		// One fixed statement: GORM's map-based Updates reflected over every column per call.
		err = tx.Exec(`UPDATE connectors `+connectorSet+` WHERE id = ?`, append(connectorSetArgs(c), id)...).Error
		if err := connectorNames.translate(err, c.Name); err != nil {
			return err
		}
		result = normalizedConnector(c)
		return nil
	})
	return result, err
}

// DeleteConnector removes a connector and, by cascade, everything it owns.
func (s *Store) DeleteConnector(ctx context.Context, orgID, id string) error {
	return s.deleteOwned(ctx, &connectorRow{}, orgID, id, "connector")
}

// deleteOwned deletes one row of an organisation (its children go by cascade) and audits it;
// NOT_FOUND when the organisation has no such row.
func (s *Store) deleteOwned(ctx context.Context, model any, orgID, id, kind string) error {
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		res := tx.Where("id = ? AND organisation_id = ?", id, orgID).Delete(model)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return domain.NotFound(kind, id)
		}
		return s.audit(tx, orgID, kind+".delete", kind, id, nil)
	})
	if err != nil {
		return fmt.Errorf("delete %s %s: %w", kind, id, err)
	}
	return nil
}

// CreateAuthSchemeConfig appends a config to the connector, with a fresh global id.
func (s *Store) CreateAuthSchemeConfig(ctx context.Context, orgID, connectorID string, in domain.AuthSchemeConfig) (*domain.AuthSchemeConfig, error) {
	if err := in.Normalize(); err != nil {
		return nil, err
	}
	in.GlobalID = ""
	_, err := s.mutateConnector(ctx, orgID, connectorID, func(tx *gorm.DB, c *domain.Connector) error {
		if err := domain.ConfigIDTaken(c.AuthSchemeConfigs, -1, in.Key); err != nil {
			return err
		}
		if len(c.AuthSchemeConfigs) >= domain.MaxAuthSchemeConfigs {
			return domain.Invalid("id", "a connector has at most %d auth scheme configs", domain.MaxAuthSchemeConfigs)
		}
		fields := configChanges(domain.AuthSchemeConfig{}, in)
		in.GlobalID = domain.ConfigGlobalID(connectorID, domain.NewConfigToken())
		c.AuthSchemeConfigs = append(c.AuthSchemeConfigs, in)
		return s.audit(tx, orgID, "authSchemeConfig.create", "authSchemeConfig", connectorID+"/"+in.Key, fields)
	})
	if err != nil {
		return nil, fmt.Errorf("create auth scheme config: %w", err)
	}
	return &in, nil
}

// configChanges names the fields of a config a change touched, for the audit trail; the
// global id is never changed by a client.
func configChanges(before, after domain.AuthSchemeConfig) []string {
	before.GlobalID, after.GlobalID = "", ""
	return domain.ChangedFields(before, after)
}

// UpdateAuthSchemeConfig replaces one config (named by its key or global id) in place,
// keeping its position and global id. in.Key equal to the config's global id keeps its key;
// any other value is its (new) key.
func (s *Store) UpdateAuthSchemeConfig(ctx context.Context, orgID, connectorID, id string, in domain.AuthSchemeConfig) (*domain.AuthSchemeConfig, error) {
	if err := in.Normalize(); err != nil {
		return nil, err
	}
	_, err := s.mutateConnector(ctx, orgID, connectorID, func(tx *gorm.DB, c *domain.Connector) error {
		i := domain.FindAuthSchemeConfig(c.AuthSchemeConfigs, id)
		if i < 0 {
			return domain.NotFound("auth scheme config", id)
		}
		current := c.AuthSchemeConfigs[i]
		if in.Key == current.GlobalID {
			in.Key = current.Key
		}
		in.GlobalID = current.GlobalID
		if err := domain.ConfigIDTaken(c.AuthSchemeConfigs, i, in.Key); err != nil {
			return err
		}
		if in.SchemeType != current.SchemeType {
			if err := refuseIfUsed(tx, orgID, connectorID, current.Key, "change the scheme type of"); err != nil {
				return err
			}
			if err := refuseIfTriggered(tx, connectorID, current, "change the scheme type of"); err != nil {
				return err
			}
		}
		if in.Key != current.Key {
			// Credentials follow their config to its new key.
			err := tx.Model(&credentialRow{}).
				Where("organisation_id = ? AND auth_scheme_config_id = ? AND connection_id IN (SELECT id FROM connections WHERE connector_id = ?)", orgID, current.Key, connectorID).
				Update("auth_scheme_config_id", in.Key).Error
			if err != nil {
				return err
			}
		}
		fields := configChanges(current, in)
		c.AuthSchemeConfigs[i] = in
		return s.audit(tx, orgID, "authSchemeConfig.update", "authSchemeConfig", connectorID+"/"+current.Key, fields)
	})
	if err != nil {
		return nil, fmt.Errorf("update auth scheme config %s: %w", id, err)
	}
	return &in, nil
}

// DeleteAuthSchemeConfig removes one config, named by its key or global id.
func (s *Store) DeleteAuthSchemeConfig(ctx context.Context, orgID, connectorID, id string) error {
	_, err := s.mutateConnector(ctx, orgID, connectorID, func(tx *gorm.DB, c *domain.Connector) error {
		i := domain.FindAuthSchemeConfig(c.AuthSchemeConfigs, id)
		if i < 0 {
			return domain.NotFound("auth scheme config", id)
		}
		key := c.AuthSchemeConfigs[i].Key
		if err := refuseIfUsed(tx, orgID, connectorID, key, "delete"); err != nil {
			return err
		}
		if err := refuseIfTriggered(tx, connectorID, c.AuthSchemeConfigs[i], "delete"); err != nil {
			return err
		}
		c.AuthSchemeConfigs = append(c.AuthSchemeConfigs[:i], c.AuthSchemeConfigs[i+1:]...)
		return s.audit(tx, orgID, "authSchemeConfig.delete", "authSchemeConfig", connectorID+"/"+key, nil)
	})
	if err != nil {
		return fmt.Errorf("delete auth scheme config %s: %w", id, err)
	}
	return nil
}

// refuseIfUsed answers CONFLICT when credentials fill the config: they hold values for its
// scheme type and would be left meaningless.
func refuseIfUsed(tx *gorm.DB, orgID, connectorID, configID, action string) error {
	var n int64
	err := tx.Model(&credentialRow{}).
		Where("organisation_id = ? AND auth_scheme_config_id = ? AND connection_id IN (SELECT id FROM connections WHERE connector_id = ?)", orgID, configID, connectorID).
		Count(&n).Error
	if err != nil {
		return err
	}
	if n > 0 {
		return domain.Errorf(domain.CodeConflict, "cannot %s auth scheme config %q: %d credential(s) of this connector's connections fill it; delete them first", action, configID, n)
	}
	return nil
}

// PatchConnectorVariables merges properties into the connector's default variables.
func (s *Store) PatchConnectorVariables(ctx context.Context, orgID, connectorID string, properties []domain.Property, dynamicProperties *string) (*domain.Connector, error) {
	c, err := s.mutateConnector(ctx, orgID, connectorID, func(tx *gorm.DB, c *domain.Connector) error {
		merged, err := domain.MergeProperties(c.ConnectionVariables, properties, dynamicProperties, domain.ValidateVariableName)
		if err != nil {
			return err
		}
		if err := domain.ValidateVariables("connectionVariables", merged); err != nil {
			return err
		}
		fields := variableNames("connectionVariables", c.ConnectionVariables, merged)
		c.ConnectionVariables = merged
		return s.audit(tx, orgID, "connector.patchVariables", "connector", connectorID, fields)
	})
	if err != nil {
		return nil, fmt.Errorf("patch connector %s variables: %w", connectorID, err)
	}
	return c, nil
}
