package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/plugboard/plugboard/internal/domain"
)

// ImportDocument writes an imported description into the connector's draft versionName
// (created when missing) in one transaction: actions merged with what the draft holds (see
// domain.MergeImport), configs added only under keys the connector does not have, the base
// URL only when the connector has none, variables merged into the connector's defaults
// (never its connections'). Every other difference is a warning. A published versionName is
// CONFLICT.
func (s *Store) ImportDocument(ctx context.Context, orgID, connectorID, versionName string, doc *domain.ImportedDocument) (*domain.ImportResult, error) {
	if err := domain.ValidateVersionName("versionName", versionName); err != nil {
		return nil, err
	}
	result := &domain.ImportResult{Warnings: append([]string{}, doc.Warnings...)}
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		row, c, err := readConnector(s.forUpdate(tx), orgID, connectorID)
		if err != nil {
			return err
		}
		before := *c
		before.AuthSchemeConfigs = append([]domain.AuthSchemeConfig(nil), c.AuthSchemeConfigs...)
		result.Warnings = append(result.Warnings, importIntoConnector(c, doc)...)
		if fields := connectorChanges(&before, c); len(fields) > 0 {
			c.Revision, c.UpdatedAt = row.Revision+1, s.now()
			if err := tx.Exec(`UPDATE connectors `+connectorSet+` WHERE id = ?`, append(connectorSetArgs(c), c.ID)...).Error; err != nil {
				return err
			}
			if err := s.audit(tx, orgID, "connector.import", "connector", c.ID, fields); err != nil {
				return err
			}
		}
		v, warnings, err := s.importIntoDraft(tx, orgID, connectorID, versionName, doc.Actions)
		if err != nil {
			return err
		}
		result.Version = v
		result.Warnings = append(result.Warnings, warnings...)
		return s.failPoint(ctx, "importDocument.written")
	})
	if err != nil {
		return nil, fmt.Errorf("import into connector %s: %w", connectorID, err)
	}
	return result, nil
}

// importIntoConnector applies to c what an import may change on a connector.
func importIntoConnector(c *domain.Connector, doc *domain.ImportedDocument) []string {
	var warnings []string
	for _, cfg := range doc.Configs {
		i := -1
		for j := range c.AuthSchemeConfigs {
			if c.AuthSchemeConfigs[j].Key == cfg.Key {
				i = j
			}
		}
		switch {
		case i >= 0:
			have := c.AuthSchemeConfigs[i]
			have.GlobalID = ""
			if encodeList([]domain.AuthSchemeConfig{have}) != encodeList([]domain.AuthSchemeConfig{cfg}) {
				warnings = append(warnings, fmt.Sprintf("auth scheme config %q differs from the document's and was left as it is", cfg.Key))
			}
		case len(c.AuthSchemeConfigs) >= domain.MaxAuthSchemeConfigs:
			warnings = append(warnings, fmt.Sprintf("auth scheme config %q was not added: a connector has at most %d", cfg.Key, domain.MaxAuthSchemeConfigs))
		default:
			cfg.GlobalID = domain.ConfigGlobalID(c.ID, domain.NewConfigToken())
			c.AuthSchemeConfigs = append(c.AuthSchemeConfigs, cfg)
		}
	}
	if doc.BaseURL != nil {
		switch {
		case c.BaseURL == nil:
			c.BaseURL = doc.BaseURL
		case *c.BaseURL != *doc.BaseURL:
			warnings = append(warnings, fmt.Sprintf("the connector's baseURL %s was kept; the document says %s", *c.BaseURL, *doc.BaseURL))
		}
	}
	if len(doc.Variables) > 0 {
		props := make([]domain.Property, len(doc.Variables))
		for i, v := range doc.Variables {
			props[i] = domain.Property{Name: v.Name, Value: v.Value}
		}
		merged, err := domain.MergeProperties(c.ConnectionVariables, props, nil, domain.ValidateVariableName)
		if err == nil {
			err = domain.ValidateVariables("connectionVariables", merged)
		}
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("the document's variables were not merged into the connector's: %v", err))
		} else {
			c.ConnectionVariables = merged
		}
	}
	return warnings
}

// importIntoDraft merges actions into the draft name of the connector (locked), creating it
// when missing.
func (s *Store) importIntoDraft(tx *gorm.DB, orgID, connectorID, name string, actions []domain.ImportedAction) (*domain.ConnectorVersion, []string, error) {
	var row versionRow
	err := tx.Where("connector_id = ? AND organisation_id = ? AND name_key = ?", connectorID, orgID, domain.NameKey(name)).Take(&row).Error
	created := errors.Is(err, gorm.ErrRecordNotFound)
	if err != nil && !created {
		return nil, nil, err
	}
	if row.PublishedAt != nil {
		return nil, nil, domain.Errorf(domain.CodeConflict, "version %q is published and cannot change; import into a new version name", row.Name)
	}
	var (
		current  []domain.HTTPAction
		last     domain.ImportSnapshot
		oldState *string
	)
	if !created {
		v, err := row.domain()
		if err != nil {
			return nil, nil, err
		}
		current = v.Actions
		if err := tx.Raw(`SELECT import_state FROM connector_versions WHERE id = ?`, row.ID).Scan(&oldState).Error; err != nil {
			return nil, nil, err
		}
		if state := oldState; state != nil {
			if err := json.Unmarshal([]byte(*state), &last); err != nil {
				return nil, nil, fmt.Errorf("version %s import state: %w", row.ID, err)
			}
		}
	}
	merged, next, warnings := domain.MergeImport(current, last, actions)
	if len(merged) > domain.MaxActions {
		return nil, nil, domain.LimitExceeded("document", "the draft would hold %d actions; a version holds at most %d", len(merged), domain.MaxActions)
	}
	in := domain.VersionInput{Name: name, Actions: merged}
	if !created {
		in.Name, in.Description = row.Name, row.Description
	}
	if err := in.Validate(); err != nil {
		return nil, nil, domain.WithFieldPrefix("document", err)
	}
	state, err := json.Marshal(next)
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	if created {
		row = versionRow{
			ID: newID(), ConnectorID: connectorID, OrganisationID: orgID, Name: in.Name, NameKey: domain.NameKey(in.Name),
			Actions: encodeList(in.Actions), CreatedAt: now, UpdatedAt: now,
		}
		if err := tx.Create(&row).Error; err != nil {
			return nil, nil, versionNames.translate(err, in.Name)
		}
	} else if oldState != nil && encodeList(in.Actions) == encodeList(current) && sameJSON(last, state) {
		// Nothing changed: write nothing, so that updatedAt and the audit log stay as they are.
		// (Compared decoded: PostgreSQL's jsonb gives back other bytes than were written.)
		v, err := row.domain()
		return v, warnings, err
	} else {
		row.Actions, row.UpdatedAt = encodeList(in.Actions), now
		if err := tx.Model(&versionRow{}).Where("id = ?", row.ID).Updates(map[string]any{"actions": row.Actions, "updated_at": now}).Error; err != nil {
			return nil, nil, err
		}
	}
	if err := tx.Exec(`UPDATE connector_versions SET import_state = ? WHERE id = ?`, string(state), row.ID).Error; err != nil {
		return nil, nil, err
	}
	if err := s.audit(tx, orgID, "version.import", "version", row.ID, []string{"actions"}); err != nil {
		return nil, nil, err
	}
	v, err := row.domain()
	return v, warnings, err
}

// sameJSON tells whether v encodes to encoded.
func sameJSON(v any, encoded []byte) bool {
	b, err := json.Marshal(v)
	return err == nil && string(b) == string(encoded)
}

// ApplyConnector makes the organisation's connector named in spec (created when missing) and
// its version say what spec says, in one transaction, and writes nothing when they already
// do. Configs are upserted by key; a config the spec leaves out is removed unless credentials
// fill it (then kept, with a warning). Default variables are set; connections' are not
// touched. A draft is created or replaced; a published version that differs is CONFLICT. The
// version is published when spec says so.
func (s *Store) ApplyConnector(ctx context.Context, orgID string, spec domain.ConnectorSpec) (*domain.ApplyResult, error) {
	nc := domain.NewConnector{ConnectorFields: spec.Fields, AuthSchemeConfigs: spec.AuthSchemeConfigs, ConnectionVariables: spec.ConnectionVariables}
	// Errors name the document's path (connector.baseURL), as the version's do.
	if err := nc.Validate(); err != nil {
		return nil, domain.WithFieldPrefix("connector", err)
	}
	if err := spec.Version.Validate(); err != nil {
		return nil, domain.WithFieldPrefix("version", err)
	}
	result := &domain.ApplyResult{Warnings: []string{}}
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		var id string
		err := s.forUpdate(tx).Table("connectors").Select("id").
			Where("organisation_id = ? AND name_key = ?", orgID, domain.NameKey(nc.Name)).Take(&id).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			c := &domain.Connector{
				ID: newID(), OrganisationID: orgID, ConnectorFields: nc.ConnectorFields,
				AuthSchemeConfigs: nc.AuthSchemeConfigs, ConnectionVariables: nc.ConnectionVariables,
				Revision: 1, CreatedAt: s.now(), UpdatedAt: s.now(),
			}
			domain.NewConfigGlobalIDs(c.ID, c.AuthSchemeConfigs)
			row := connectorToRow(c)
			if err := connectorNames.translate(tx.Create(&row).Error, c.Name); err != nil {
				return err
			}
			result.Connector, result.Changed = normalizedConnector(c), true
			if err := s.audit(tx, orgID, "connector.apply", "connector", c.ID, nil); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			if err := s.applyToConnector(tx, orgID, id, nc, result); err != nil {
				return err
			}
		}
		return s.applyVersion(tx, orgID, result.Connector.ID, spec, result)
	})
	if err != nil {
		return nil, fmt.Errorf("apply connector %q: %w", nc.Name, err)
	}
	return result, nil
}

func (s *Store) applyToConnector(tx *gorm.DB, orgID, id string, nc domain.NewConnector, result *domain.ApplyResult) error {
	row, c, err := readConnector(s.forUpdate(tx), orgID, id)
	if err != nil {
		return err
	}
	updated := *c
	updated.ConnectorFields = nc.ConnectorFields
	updated.ConnectionVariables = nc.ConnectionVariables
	if updated.ConnectionVariables == nil {
		updated.ConnectionVariables = []domain.Variable{}
	}
	updated.AuthSchemeConfigs = nil
	for _, want := range nc.AuthSchemeConfigs {
		want.GlobalID = ""
		for _, have := range c.AuthSchemeConfigs {
			if have.Key == want.Key {
				if have.SchemeType != want.SchemeType {
					if err := refuseIfUsed(tx, orgID, id, have.Key, "change the scheme type of"); err != nil {
						return err
					}
					if err := refuseIfTriggered(tx, id, have, "change the scheme type of"); err != nil {
						return err
					}
				}
				want.GlobalID = have.GlobalID
			}
		}
		if want.GlobalID == "" {
			want.GlobalID = domain.ConfigGlobalID(id, domain.NewConfigToken())
		}
		updated.AuthSchemeConfigs = append(updated.AuthSchemeConfigs, want)
	}
	for _, have := range c.AuthSchemeConfigs {
		if domain.FindAuthSchemeConfig(nc.AuthSchemeConfigs, have.Key) >= 0 {
			continue
		}
		if err := refuseIfUsed(tx, orgID, id, have.Key, "remove"); err != nil {
			result.Warnings = append(result.Warnings, fmt.Sprintf("auth scheme config %q is not in the document but credentials fill it: kept", have.Key))
			updated.AuthSchemeConfigs = append(updated.AuthSchemeConfigs, have)
		} else if err := refuseIfTriggered(tx, id, have, "remove"); err != nil {
			result.Warnings = append(result.Warnings, fmt.Sprintf("auth scheme config %q is not in the document but a version's trigger names it: kept", have.Key))
			updated.AuthSchemeConfigs = append(updated.AuthSchemeConfigs, have)
		}
	}
	if updated.AuthSchemeConfigs == nil {
		updated.AuthSchemeConfigs = []domain.AuthSchemeConfig{}
	}
	result.Connector = normalizedConnector(c)
	fields := connectorChanges(c, &updated)
	if len(fields) == 0 {
		return nil
	}
	updated.Revision, updated.UpdatedAt = row.Revision+1, s.now()
	err = tx.Exec(`UPDATE connectors `+connectorSet+` WHERE id = ?`, append(connectorSetArgs(&updated), id)...).Error
	if err := connectorNames.translate(err, updated.Name); err != nil {
		return err
	}
	result.Connector, result.Changed = normalizedConnector(&updated), true
	return s.audit(tx, orgID, "connector.apply", "connector", id, fields)
}

func (s *Store) applyVersion(tx *gorm.DB, orgID, connectorID string, spec domain.ConnectorSpec, result *domain.ApplyResult) error {
	in := spec.Version
	// The connector's configs are already as the document says: its triggers are checked
	// against them, their keys turned into the configs' global ids.
	triggers, err := s.validateTriggers(tx, connectorID, in.Triggers)
	if err != nil {
		return domain.WithFieldPrefix("version", err)
	}
	var row versionRow
	err = tx.Where("connector_id = ? AND organisation_id = ? AND name_key = ?", connectorID, orgID, domain.NameKey(in.Name)).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		if row, err = s.insertVersion(tx, orgID, connectorID, in, triggers); err != nil {
			return err
		}
		result.Changed = true
		if err := s.audit(tx, orgID, "version.apply", "version", row.ID, nil); err != nil {
			return err
		}
	} else if err != nil {
		return err
	} else {
		have, err := row.domain()
		if err != nil {
			return err
		}
		haveTriggers, err := readTriggers(tx, row.ID)
		if err != nil {
			return err
		}
		before := versionView{have.Name, have.Description, have.Actions, have.OutboundPolicy, haveTriggers}
		after := versionView{in.Name, in.Description, in.Actions, in.OutboundPolicy, triggers}
		if after.Triggers == nil {
			after.Triggers = []domain.Trigger{}
		}
		changed := domain.ChangedFields(before, after)
		switch {
		case row.PublishedAt != nil && !spec.Published:
			// A published version is never unpublished: saying so is a difference, refused
			// like any other rather than reported as applied.
			return domain.Errorf(domain.CodeConflict, "version %q is published and the document says published: false; published versions never change: set published: true or give the document a new version name", row.Name)
		case len(changed) == 0:
		case row.PublishedAt != nil:
			return domain.Errorf(domain.CodeConflict, "version %q is published and differs from the document (%s); published versions never change: give the document a new version name",
				row.Name, strings.Join(changed, ", "))
		default:
			row.Name, row.NameKey, row.Description, row.Actions = in.Name, domain.NameKey(in.Name), in.Description, encodeList(in.Actions)
			row.OutboundPolicy, row.UpdatedAt = encodePolicy(in.OutboundPolicy), s.now()
			err := tx.Model(&versionRow{}).Where("id = ?", row.ID).Updates(map[string]any{
				"name": row.Name, "name_key": row.NameKey, "description": row.Description, "actions": row.Actions,
				"outbound_policy": row.OutboundPolicy, "updated_at": row.UpdatedAt,
			}).Error
			if err != nil {
				return err
			}
			if err := writeTriggers(tx, row.ID, triggers); err != nil {
				return err
			}
			result.Changed = true
			if err := s.audit(tx, orgID, "version.apply", "version", row.ID, changed); err != nil {
				return err
			}
		}
	}
	if spec.Published && row.PublishedAt == nil {
		if err := s.publish(tx, orgID, &row); err != nil {
			return err
		}
		result.Changed = true
	}
	v, err := row.domain()
	result.Version = v
	return err
}

func ptrText(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// OrganisationOfConnector returns the organisation a connector belongs to, for the command
// line, which names connectors by id alone; NOT_FOUND when there is none.
func (s *Store) OrganisationOfConnector(ctx context.Context, id string) (string, error) {
	var org string
	err := s.db.WithContext(ctx).Table("connectors").Select("organisation_id").Where("id = ?", id).Take(&org).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", domain.NotFound("connector", id)
	}
	return org, err
}
