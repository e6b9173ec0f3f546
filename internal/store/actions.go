package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"gorm.io/gorm"

	"github.com/plugboard/plugboard/internal/domain"
)

var _ domain.ActionStore = (*Store)(nil)

// LoadActionContext gathers a connection, its connector, the version to use and its ACTION
// credentials, decrypted. Every executeAction reads them, so they come in one statement (four
// round trips were a third of a call's server CPU and most of its database CPU); when that
// finds nothing, the reads one by one say what is missing.
func (s *Store) LoadActionContext(ctx context.Context, orgID, connectionID string, versionName *string) (*domain.ActionContext, error) {
	ac, err := s.readActionContext(ctx, orgID, connectionID, versionName)
	if err != nil || ac != nil {
		return ac, err
	}
	return s.explainActionContext(ctx, orgID, connectionID, versionName)
}

// actionContextSelect reads a connection with its connector, one of the connector's versions
// (the condition %s picks it) and its ACTION credentials in position order: one row per
// credential, or one row with NULL credential columns when it has none.
var actionContextSelect = `SELECT ` + connectionColumns.all + `, ` + connectorColumns.all + `, ` + versionColumns.all + `,
	cr.id, cr.auth_scheme_config_id, cr.key_id, cr.ciphertext, cr.token_key_id, cr.token_ciphertext
FROM connections
LEFT JOIN connector_versions pv ON pv.id = connections.pinned_version_id
JOIN connectors ON connectors.id = connections.connector_id AND connectors.organisation_id = connections.organisation_id
JOIN connector_versions ON connector_versions.connector_id = connections.connector_id
	AND connector_versions.organisation_id = connections.organisation_id AND (%s)
LEFT JOIN credentials cr ON cr.connection_id = connections.id AND cr.kind = ?
WHERE connections.id = ? AND connections.organisation_id = ?
ORDER BY cr.position`

var (
	// actionContextByName: a version named in the call, by the condition versionNamed gives.
	actionContextByName = func() map[string]string {
		m := map[string]string{}
		for _, d := range []Dialect{Postgres, SQLite} {
			for _, n := range []string{domain.VersionLatest, domain.VersionDefault, "a name"} {
				cond, _ := versionNamed(d, n)
				m[cond] = fmt.Sprintf(actionContextSelect, cond)
			}
		}
		return m
	}()
	// actionContextPinned: the connection's pinned version, else the connector's default
	// (the version the connection's pin names is that row: pins are ids). Written as one id,
	// so that the version is found by its key and the default through the partial index of
	// defaults (whose condition the query must spell as a literal, per database), rather than
	// among all the connector's versions.
	actionContextPinned = map[Dialect]string{
		Postgres: fmt.Sprintf(actionContextSelect, pinnedOrDefault("d.is_default")),
		SQLite:   fmt.Sprintf(actionContextSelect, pinnedOrDefault("d.is_default = 1")),
	}
)

func pinnedOrDefault(isDefault string) string {
	return "connector_versions.id = COALESCE(connections.pinned_version_id, (SELECT d.id FROM connector_versions d " +
		"WHERE d.connector_id = connections.connector_id AND d.organisation_id = connections.organisation_id AND " + isDefault + "))"
}

// readActionContext is LoadActionContext in one statement; nil when it finds no row.
func (s *Store) readActionContext(ctx context.Context, orgID, connectionID string, versionName *string) (*domain.ActionContext, error) {
	query, args := actionContextPinned[s.dialect], []any{string(domain.CredentialAction), connectionID, orgID}
	if versionName != nil {
		cond, versionArgs := versionNamed(s.dialect, *versionName)
		query, args = actionContextByName[cond], append(versionArgs, args...)
	}
	var (
		conn      connectionRow
		connector connectorRow
		version   versionRow
		cred      struct {
			id, config, keyID, tokenKeyID *string
			ciphertext, tokenCiphertext   []byte
		}
		found bool
		creds []credentialRow
	)
	dest := conn.fields(nil)
	dest = connector.fields(dest)
	dest = version.fields(dest)
	dest = append(dest, &cred.id, &cred.config, &cred.keyID, &cred.ciphertext, &cred.tokenKeyID, &cred.tokenCiphertext)
	var (
		connOut      connectionRow
		connectorOut connectorRow
		versionOut   versionRow
	)
	err := s.readEach(ctx, query, args, dest, func() error {
		if !found {
			found, connOut, connectorOut, versionOut = true, conn, connector, version
		}
		if cred.id == nil || cred.config == nil || cred.keyID == nil {
			return nil
		}
		creds = append(creds, credentialRow{ID: *cred.id, ConnectionID: connOut.ID, AuthSchemeConfigID: *cred.config, Kind: string(domain.CredentialAction),
			KeyID: *cred.keyID, Ciphertext: bytes.Clone(cred.ciphertext), TokenKeyID: cred.tokenKeyID, TokenCiphertext: bytes.Clone(cred.tokenCiphertext)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load action context of connection %s: %w", connectionID, err)
	}
	if !found {
		return nil, nil
	}
	c, err := connOut.domain()
	if err != nil {
		return nil, err
	}
	connectorDomain, err := connectorOut.domain()
	if err != nil {
		return nil, err
	}
	v, err := versionOut.domain()
	if err != nil {
		return nil, err
	}
	return s.withCredentials(&domain.ActionContext{Connector: connectorDomain, Connection: c, Version: v}, creds)
}

// explainActionContext reads what LoadActionContext needs one by one, to tell which is
// missing.
func (s *Store) explainActionContext(ctx context.Context, orgID, connectionID string, versionName *string) (*domain.ActionContext, error) {
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
	return s.withCredentials(&domain.ActionContext{Connector: connector, Connection: conn, Version: version}, rows)
}

// withCredentials opens the credential rows into ac, in their order.
func (s *Store) withCredentials(ac *domain.ActionContext, rows []credentialRow) (*domain.ActionContext, error) {
	for i := range rows {
		values, err := s.open(&rows[i])
		if err != nil {
			return nil, err
		}
		c := domain.FindAuthSchemeConfig(ac.Connector.AuthSchemeConfigs, rows[i].AuthSchemeConfigID)
		if c < 0 {
			continue // credentials always fill an existing config; nothing to apply otherwise
		}
		token, err := s.openToken(&rows[i])
		if err != nil {
			return nil, err
		}
		ac.Credentials = append(ac.Credentials, domain.ActionCredential{ID: rows[i].ID, Config: ac.Connector.AuthSchemeConfigs[c], Values: values, Token: token})
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
