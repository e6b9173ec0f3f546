package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"gorm.io/gorm"

	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/jsonlist"
)

var errNoKeyring = errors.New("store: no secret keyring configured")

// ListCredentials returns a connection's credentials, ACTION then TRIGGER, each in order; kind
// narrows to one list.
func (s *Store) ListCredentials(ctx context.Context, orgID, connectionID string, kind *domain.CredentialKind) ([]domain.Credential, error) {
	q := s.db.WithContext(ctx).Model(&credentialRow{}).
		Where("credentials.organisation_id = ? AND credentials.connection_id = ?", orgID, connectionID)
	if kind != nil {
		q = q.Where("credentials.kind = ?", string(*kind))
	}
	var rows []credentialRow
	if err := q.Order("credentials.kind ASC, credentials.position ASC").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list credentials: %w", err)
	}
	out := make([]domain.Credential, 0, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	var connectorID string
	if err := s.db.WithContext(ctx).Model(&connectionRow{}).Select("connector_id").Where("id = ?", connectionID).Take(&connectorID).Error; err != nil {
		return nil, fmt.Errorf("list credentials: %w", err)
	}
	configs, err := configsOf(s.db.WithContext(ctx), connectorID)
	if err != nil {
		return nil, fmt.Errorf("list credentials: %w", err)
	}
	for i := range rows {
		c, err := rows[i].domain()
		if err != nil {
			return nil, err
		}
		withConfig(c, configs)
		out = append(out, *c)
	}
	return out, nil
}

// SetCredential creates the connection's credential for (kind, config) or replaces its values.
func (s *Store) SetCredential(ctx context.Context, orgID, connectionID string, in domain.CredentialInput) (*domain.Credential, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	values := make([]domain.Variable, len(in.Values))
	for i, p := range in.Values {
		values[i] = domain.Variable{Name: p.Name, Value: p.Value}
	}
	var result *domain.Credential
	_, err := s.mutateConnection(ctx, orgID, connectionID, func(tx *gorm.DB, c *domain.Connection) error {
		config, err := s.findConfigOf(tx, c.ConnectorID, in.AuthSchemeConfigID)
		if err != nil {
			return err
		}
		if err := domain.CheckCredentialKind(*config, in.Kind); err != nil {
			return err
		}
		if err := domain.ValidateCredentialValues("values", *config, values); err != nil {
			return err
		}
		list, err := credentialList(tx, orgID, connectionID, in.Kind)
		if err != nil {
			return err
		}
		now := s.now()
		// The row holds the config's key, whichever way the input named it.
		row := credentialRow{ID: newID(), OrganisationID: orgID, ConnectionID: connectionID, AuthSchemeConfigID: config.Key, Kind: string(in.Kind), CreatedAt: now}
		at, existing := len(list), false
		if i := slices.IndexFunc(list, func(r credentialRow) bool { return r.AuthSchemeConfigID == config.Key }); i >= 0 {
			row, at, existing = list[i], i, true
			list = slices.Delete(list, i, i+1)
		}
		if in.Position != nil {
			at = min(*in.Position, len(list))
		} else {
			at = min(at, len(list))
		}
		row.ExpiresAt = truncatedPtr(in.ExpiresAt)
		row.UpdatedAt = now
		row.Position = at
		if err := s.seal(&row, values); err != nil {
			return err
		}
		write := tx.Create
		if existing {
			write = tx.Save
		}
		if err := write(&row).Error; err != nil {
			return err
		}
		if err := renumber(tx, slices.Insert(list, at, row)); err != nil {
			return err
		}
		if result, err = row.domain(); err != nil {
			return err
		}
		withConfig(result, []domain.AuthSchemeConfig{*config})
		fields := []string{"position"}
		for _, v := range values {
			fields = append(fields, "values."+v.Name)
		}
		if in.ExpiresAt != nil {
			fields = append(fields, "expiresAt")
		}
		if err := s.audit(tx, orgID, "credential.set", "credential", row.ID, fields); err != nil {
			return err
		}
		return s.resetStatus(tx, orgID, connectionID)
	})
	if err != nil {
		return nil, fmt.Errorf("set credential: %w", err)
	}
	return result, nil
}

// PatchCredential merges properties into a credential's stored values.
func (s *Store) PatchCredential(ctx context.Context, orgID, id string, properties []domain.Property, dynamicProperties *string) (*domain.Credential, error) {
	connectionID, err := s.credentialConnection(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	var result *domain.Credential
	_, err = s.mutateConnection(ctx, orgID, connectionID, func(tx *gorm.DB, c *domain.Connection) error {
		var row credentialRow
		if err := tx.Where("organisation_id = ? AND id = ? AND connection_id = ?", orgID, id, connectionID).Take(&row).Error; err != nil {
			return notFoundOr(err, "credential", id)
		}
		config, err := s.findConfigOf(tx, c.ConnectorID, row.AuthSchemeConfigID)
		if err != nil {
			return err
		}
		stored, err := s.open(&row)
		if err != nil {
			return err
		}
		merged, err := domain.MergeProperties(stored, properties, dynamicProperties, domain.ValidateCredentialFieldName(*config))
		if err != nil {
			return err
		}
		if err := domain.ValidateCredentialValues("properties", *config, merged); err != nil {
			return err
		}
		row.UpdatedAt = s.now()
		if err := s.seal(&row, merged); err != nil {
			return err
		}
		if err := tx.Save(&row).Error; err != nil {
			return err
		}
		if result, err = row.domain(); err != nil {
			return err
		}
		withConfig(result, []domain.AuthSchemeConfig{*config})
		if err := s.audit(tx, orgID, "credential.patch", "credential", row.ID, variableNames("values", stored, merged)); err != nil {
			return err
		}
		return s.resetStatus(tx, orgID, connectionID)
	})
	if err != nil {
		return nil, fmt.Errorf("patch credential %s: %w", id, err)
	}
	return result, nil
}

// DeleteCredential removes a credential and closes the gap in its list.
func (s *Store) DeleteCredential(ctx context.Context, orgID, id string) error {
	connectionID, err := s.credentialConnection(ctx, orgID, id)
	if err != nil {
		return err
	}
	_, err = s.mutateConnection(ctx, orgID, connectionID, func(tx *gorm.DB, _ *domain.Connection) error {
		var row credentialRow
		if err := tx.Where("organisation_id = ? AND id = ? AND connection_id = ?", orgID, id, connectionID).Take(&row).Error; err != nil {
			return notFoundOr(err, "credential", id)
		}
		if err := tx.Delete(&credentialRow{}, "id = ?", id).Error; err != nil {
			return err
		}
		list, err := credentialList(tx, orgID, connectionID, domain.CredentialKind(row.Kind))
		if err != nil {
			return err
		}
		if err := renumber(tx, list); err != nil {
			return err
		}
		return s.audit(tx, orgID, "credential.delete", "credential", id, nil)
	})
	if err != nil {
		return fmt.Errorf("delete credential %s: %w", id, err)
	}
	return nil
}

// CredentialValues returns a credential's decrypted values, for the server's own outbound
// calls. They must never reach a response or a log.
func (s *Store) CredentialValues(ctx context.Context, orgID, id string) ([]domain.Variable, error) {
	row, err := s.credentialRowOf(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	return s.open(row)
}

// credentialRowOf reads one credential row of orgID.
func (s *Store) credentialRowOf(ctx context.Context, orgID, id string) (*credentialRow, error) {
	var row credentialRow
	err := s.db.WithContext(ctx).Model(&credentialRow{}).
		Where("organisation_id = ? AND id = ?", orgID, id).Take(&row).Error
	if err != nil {
		return nil, notFoundOr(err, "credential", id)
	}
	return &row, nil
}

// credentialConnection finds the connection of a credential of orgID.
func (s *Store) credentialConnection(ctx context.Context, orgID, id string) (string, error) {
	var connectionID string
	err := s.db.WithContext(ctx).Model(&credentialRow{}).Select("connection_id").
		Where("organisation_id = ? AND id = ?", orgID, id).Take(&connectionID).Error
	if err != nil {
		return "", notFoundOr(err, "credential", id)
	}
	return connectionID, nil
}

func notFoundOr(err error, kind, id string) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return domain.NotFound(kind, id)
	}
	return err
}

// findConfigOf returns the connector's config that configID names (its key or global id).
func (s *Store) findConfigOf(tx *gorm.DB, connectorID, configID string) (*domain.AuthSchemeConfig, error) {
	configs, err := configsOf(tx, connectorID)
	if err != nil {
		return nil, err
	}
	i := domain.FindAuthSchemeConfig(configs, configID)
	if i < 0 {
		return nil, domain.Invalid("authSchemeConfigId", "the connector has no auth scheme config %q", configID)
	}
	return &configs[i], nil
}

// configsOf reads a connector's configs, with their global ids.
func configsOf(tx *gorm.DB, connectorID string) ([]domain.AuthSchemeConfig, error) {
	var row connectorRow
	if err := tx.Select("id", "auth_scheme_configs").Where("id = ?", connectorID).Take(&row).Error; err != nil {
		return nil, err
	}
	var configs []domain.AuthSchemeConfig
	if err := jsonlist.Decode(row.AuthSchemeConfigs, &configs); err != nil {
		return nil, err
	}
	domain.FillConfigGlobalIDs(connectorID, configs)
	return configs, nil
}

func credentialList(tx *gorm.DB, orgID, connectionID string, kind domain.CredentialKind) ([]credentialRow, error) {
	var rows []credentialRow
	err := tx.Where("organisation_id = ? AND connection_id = ? AND kind = ?", orgID, connectionID, string(kind)).Order("position ASC, created_at ASC").Find(&rows).Error
	return rows, err
}

// renumber stores positions 0..n-1 in list order, writing only rows that moved.
func renumber(tx *gorm.DB, list []credentialRow) error {
	for i, r := range list {
		if r.Position == i {
			continue
		}
		if err := tx.Model(&credentialRow{}).Where("id = ?", r.ID).Update("position", i).Error; err != nil {
			return err
		}
	}
	return nil
}

// seal encrypts values into row, bound to the row's id, and records the read side.
func (s *Store) seal(row *credentialRow, values []domain.Variable) error {
	if s.Secrets == nil {
		return errNoKeyring
	}
	plain, err := json.Marshal(values)
	if err != nil {
		return err
	}
	keyID, ct, err := s.Secrets.Encrypt(plain, []byte(row.ID))
	if err != nil {
		return err
	}
	fields, hints := domain.CredentialSummary(values)
	row.KeyID, row.Ciphertext = keyID, ct
	// New values may be another identity: a token fetched with the old ones is dropped.
	row.TokenKeyID, row.TokenCiphertext, row.TokenExpiresAt = nil, nil, nil
	row.FieldsSet, row.Hints = encodeList(fields), encodeList(hints)
	return nil
}

func (s *Store) open(row *credentialRow) ([]domain.Variable, error) {
	if s.Secrets == nil {
		return nil, errNoKeyring
	}
	plain, err := s.Secrets.Decrypt(row.KeyID, row.Ciphertext, []byte(row.ID))
	if err != nil {
		return nil, fmt.Errorf("credential %s: %w", row.ID, err)
	}
	var values []domain.Variable
	if err := json.Unmarshal(plain, &values); err != nil {
		return nil, fmt.Errorf("credential %s: stored values are not a list", row.ID)
	}
	return values, nil
}

// RotateSecrets re-encrypts every credential sealed by a key other than the primary one, in
// batches of one transaction each, and returns how many it re-encrypted.
func (s *Store) RotateSecrets(ctx context.Context) (int, error) {
	if s.Secrets == nil {
		return 0, errNoKeyring
	}
	total := 0
	for {
		n := 0
		err := s.transaction(ctx, func(tx *gorm.DB) error {
			var rows []credentialRow
			if err := s.forUpdate(tx).Where("key_id <> ?", s.Secrets.PrimaryKeyID()).Order("id").Limit(200).Find(&rows).Error; err != nil {
				return err
			}
			for i := range rows {
				values, err := s.open(&rows[i])
				if err != nil {
					return err
				}
				if err := s.seal(&rows[i], values); err != nil {
					return err
				}
				if err := tx.Model(&credentialRow{}).Where("id = ?", rows[i].ID).
					Updates(map[string]any{"key_id": rows[i].KeyID, "ciphertext": rows[i].Ciphertext}).Error; err != nil {
					return err
				}
			}
			n = len(rows)
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("rotate secrets: %w", err)
		}
		total += n
		if n == 0 {
			return total, nil
		}
	}
}
