package store

import (
	"context"
	"encoding/json"
	"fmt"

	"gorm.io/gorm"

	"github.com/plugboard/plugboard/internal/domain"
)

var _ domain.ActionStore = (*Store)(nil)

// LoadActionContext gathers a connection, its connector, the version to use and its ACTION
// credentials, decrypted.
func (s *Store) LoadActionContext(ctx context.Context, orgID, connectionID string, versionName *string) (*domain.ActionContext, error) {
	conn, err := s.FindConnection(ctx, orgID, connectionID)
	if err != nil {
		return nil, err
	}
	connector, err := s.FindConnector(ctx, orgID, conn.ConnectorID)
	if err != nil {
		return nil, err
	}
	name, explicit := domain.VersionDefault, false
	switch {
	case versionName != nil:
		name, explicit = *versionName, true
	case conn.VersionName != nil:
		name = *conn.VersionName
	}
	version, err := s.FindVersionByName(ctx, orgID, conn.ConnectorID, name)
	if domain.ErrorCode(err) == domain.CodeNotFound {
		if explicit {
			return nil, domain.Invalid("version", "the connector has no version %q", name)
		}
		return nil, domain.Errorf(domain.CodeConflict, "the connector has no published version to use: publish one, or name a version")
	}
	if err != nil {
		return nil, err
	}
	var rows []credentialRow
	if err := s.db.WithContext(ctx).Where("organisation_id = ? AND connection_id = ? AND kind = ?", orgID, conn.ID, string(domain.CredentialAction)).Order("position").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load credentials: %w", err)
	}
	ac := &domain.ActionContext{Connector: connector, Connection: conn, Version: version}
	for i := range rows {
		values, err := s.open(&rows[i])
		if err != nil {
			return nil, err
		}
		c := domain.FindAuthSchemeConfig(connector.AuthSchemeConfigs, rows[i].AuthSchemeConfigID)
		if c < 0 {
			continue // credentials always fill an existing config; nothing to apply otherwise
		}
		token, err := s.openToken(&rows[i])
		if err != nil {
			return nil, err
		}
		ac.Credentials = append(ac.Credentials, domain.ActionCredential{ID: rows[i].ID, Config: connector.AuthSchemeConfigs[c], Values: values, Token: token})
	}
	return ac, nil
}

func tokenAAD(id string) []byte { return []byte(id + "#token") }

func (s *Store) openToken(row *credentialRow) (*domain.OAuthToken, error) {
	if row.TokenKeyID == nil || len(row.TokenCiphertext) == 0 {
		return nil, nil
	}
	plain, err := s.Secrets.Decrypt(*row.TokenKeyID, row.TokenCiphertext, tokenAAD(row.ID))
	if err != nil {
		// A token that no longer opens (a retired key) is only a cache miss.
		return nil, nil
	}
	var t domain.OAuthToken
	if err := json.Unmarshal(plain, &t); err != nil {
		return nil, nil
	}
	return &t, nil
}

func (s *Store) saveToken(tx *gorm.DB, id string, t *domain.OAuthToken) error {
	plain, err := json.Marshal(t)
	if err != nil {
		return err
	}
	keyID, ct, err := s.Secrets.Encrypt(plain, tokenAAD(id))
	if err != nil {
		return err
	}
	expiry := t.Expiry.UTC()
	return tx.Model(&credentialRow{}).Where("id = ?", id).Updates(map[string]any{
		"token_key_id": keyID, "token_ciphertext": ct, "token_expires_at": expiry,
	}).Error
}

// LockCredentialToken runs fetch with the credential's row locked on PostgreSQL, so that
// replicas fetch one token at a time per credential and reuse each other's. SQLite serves one
// process, where the caller already lets one fetch run per credential; its write lock is not
// held across the network call.
func (s *Store) LockCredentialToken(ctx context.Context, orgID, credentialID string, fetch func(current *domain.OAuthToken) (*domain.OAuthToken, error)) (*domain.OAuthToken, error) {
	load := func(tx *gorm.DB) (*credentialRow, error) {
		var row credentialRow
		err := s.forUpdate(tx).Model(&credentialRow{}).
			Where("organisation_id = ? AND id = ?", orgID, credentialID).Take(&row).Error
		if err != nil {
			return nil, notFoundOr(err, "credential", credentialID)
		}
		return &row, nil
	}
	var result *domain.OAuthToken
	update := func(tx *gorm.DB, row *credentialRow) error {
		current, err := s.openToken(row)
		if err != nil {
			return err
		}
		next, err := fetch(current)
		if err != nil {
			return err
		}
		result = next
		if next == nil || next == current {
			return nil
		}
		return s.saveToken(tx, row.ID, next)
	}
	if s.dialect == Postgres {
		err := s.transaction(ctx, func(tx *gorm.DB) error {
			row, err := load(tx)
			if err != nil {
				return err
			}
			return update(tx, row)
		})
		return result, err
	}
	db := s.db.WithContext(ctx)
	row, err := load(db)
	if err != nil {
		return nil, err
	}
	err = update(db, row)
	return result, err
}
