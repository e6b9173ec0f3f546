package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/plugboard/plugboard/internal/domain"
)

var _ domain.ConnectStore = (*Store)(nil)

type oauthFlowRow struct {
	ID                  string
	OrganisationID      string
	StateHash           string
	ConnectionID        string
	AuthSchemeConfigKey string
	Actor               string
	SecretKeyID         string
	Secret              []byte
	CreatedAt           time.Time
	ExpiresAt           time.Time
	UsedAt              *time.Time
}

func (oauthFlowRow) TableName() string { return "oauth_flows" }

// flowSecret is the part of a flow sealed at rest: the verifier, and the return URL, which may
// be a connect page's address (its token is a secret).
type flowSecret struct {
	Verifier  string `json:"verifier"`
	ReturnURL string `json:"returnURL,omitempty"`
}

type connectSessionRow struct {
	ID             string
	OrganisationID string
	TokenHash      string
	ConnectionID   string
	RedirectURL    *string `gorm:"column:redirect_url"`
	Actor          string
	CreatedAt      time.Time
	ExpiresAt      time.Time
}

func (connectSessionRow) TableName() string { return "connect_sessions" }

// ConnectTarget reads a connection, its connector, one of its configs and the ACTION
// credential's values for that config.
func (s *Store) ConnectTarget(ctx context.Context, orgID, connectionID, configID string) (*domain.ConnectTarget, error) {
	conn, err := s.FindConnection(ctx, orgID, connectionID)
	if err != nil {
		return nil, err
	}
	connector, err := s.FindConnector(ctx, orgID, conn.ConnectorID)
	if err != nil {
		return nil, err
	}
	i := domain.FindAuthSchemeConfig(connector.AuthSchemeConfigs, configID)
	if i < 0 {
		// As setCredential answers for a config the connector does not have.
		return nil, domain.Invalid("authSchemeConfigId", "the connector has no auth scheme config %q", configID)
	}
	t := &domain.ConnectTarget{Connection: conn, Connector: connector, Config: connector.AuthSchemeConfigs[i]}
	var row credentialRow
	err = s.db.WithContext(ctx).Where("connection_id = ? AND kind = ? AND auth_scheme_config_id = ?", conn.ID, string(domain.CredentialAction), t.Config.Key).Take(&row).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return t, nil
	case err != nil:
		return nil, fmt.Errorf("connect target: %w", err)
	}
	if t.Values, err = s.open(&row); err != nil {
		return nil, err
	}
	return t, nil
}

// CreateOAuthFlow stores a flow, its verifier and return URL sealed.
func (s *Store) CreateOAuthFlow(ctx context.Context, flow *domain.OAuthFlow, stateHash string) error {
	if s.Secrets == nil {
		return errNoKeyring
	}
	row := oauthFlowRow{
		ID: newID(), OrganisationID: flow.OrganisationID, StateHash: stateHash, ConnectionID: flow.ConnectionID,
		AuthSchemeConfigKey: flow.ConfigKey, Actor: flow.Actor, CreatedAt: s.now(), ExpiresAt: flow.ExpiresAt.UTC().Truncate(time.Microsecond),
	}
	plain, err := json.Marshal(flowSecret{Verifier: flow.Verifier, ReturnURL: flow.ReturnURL})
	if err != nil {
		return err
	}
	if row.SecretKeyID, row.Secret, err = s.Secrets.Encrypt(plain, []byte(row.ID)); err != nil {
		return err
	}
	return s.transaction(ctx, func(tx *gorm.DB) error {
		// Flows no longer of use go as new ones come: a day past their expiry.
		if err := tx.Where("expires_at < ?", row.CreatedAt.Add(-24*time.Hour)).Delete(&oauthFlowRow{}).Error; err != nil {
			return err
		}
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("create oauth flow: %w", err)
		}
		flow.ID, flow.CreatedAt = row.ID, row.CreatedAt
		return nil
	})
}

// TakeOAuthFlow claims the flow of stateHash: the first caller to mark it used gets it, so a
// state completes once even when two servers receive it at the same time.
func (s *Store) TakeOAuthFlow(ctx context.Context, stateHash string, now time.Time) (*domain.OAuthFlow, error) {
	now = now.UTC().Truncate(time.Microsecond)
	var row oauthFlowRow
	if err := s.db.WithContext(ctx).Where("state_hash = ?", stateHash).Take(&row).Error; err != nil {
		return nil, notFoundOr(err, "connect flow", "state")
	}
	flow, err := s.openFlow(&row)
	if err != nil {
		return nil, err
	}
	if row.UsedAt != nil {
		return flow, domain.ErrFlowUsed
	}
	if !now.Before(row.ExpiresAt) {
		return flow, domain.ErrFlowExpired
	}
	if ok, err := s.actorValid(ctx, row.OrganisationID, row.Actor, now); err != nil || !ok {
		if err != nil {
			return nil, err
		}
		return flow, domain.ErrFlowRevoked
	}
	res := s.db.WithContext(ctx).Model(&oauthFlowRow{}).Where("id = ? AND used_at IS NULL", row.ID).Update("used_at", now)
	if res.Error != nil {
		return nil, fmt.Errorf("take oauth flow: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return flow, domain.ErrFlowUsed
	}
	return flow, nil
}

func (s *Store) openFlow(row *oauthFlowRow) (*domain.OAuthFlow, error) {
	if s.Secrets == nil {
		return nil, errNoKeyring
	}
	plain, err := s.Secrets.Decrypt(row.SecretKeyID, row.Secret, []byte(row.ID))
	if err != nil {
		return nil, fmt.Errorf("oauth flow %s: %w", row.ID, err)
	}
	var secret flowSecret
	if err := json.Unmarshal(plain, &secret); err != nil {
		return nil, fmt.Errorf("oauth flow %s: %w", row.ID, err)
	}
	return &domain.OAuthFlow{
		ID: row.ID, OrganisationID: row.OrganisationID, ConnectionID: row.ConnectionID, ConfigKey: row.AuthSchemeConfigKey,
		Actor: row.Actor, Verifier: secret.Verifier, ReturnURL: secret.ReturnURL, CreatedAt: row.CreatedAt.UTC(), ExpiresAt: row.ExpiresAt.UTC(),
	}, nil
}

// StoreOAuthTokens seals the refresh and access tokens into the credential's values (so that
// fieldsSet shows them) and the whole token, with its expiry, where fetched tokens are kept;
// the connection becomes OK. One transaction, audited with the actor of ctx.
func (s *Store) StoreOAuthTokens(ctx context.Context, orgID, connectionID, configKey string, token *domain.OAuthToken) error {
	_, err := s.mutateConnection(ctx, orgID, connectionID, func(tx *gorm.DB, c *domain.Connection) error {
		var row credentialRow
		err := tx.Where("connection_id = ? AND kind = ? AND auth_scheme_config_id = ?", c.ID, string(domain.CredentialAction), configKey).Take(&row).Error
		if err != nil {
			return notFoundOr(err, "credential", configKey)
		}
		values, err := s.open(&row)
		if err != nil {
			return err
		}
		set := func(name, value string) {
			if value == "" {
				return
			}
			if i := slices.IndexFunc(values, func(v domain.Variable) bool { return v.Name == name }); i >= 0 {
				values[i].Value = value
				return
			}
			values = append(values, domain.Variable{Name: name, Value: value})
		}
		set(domain.FieldRefreshToken, token.RefreshToken)
		set(domain.FieldAccessToken, token.AccessToken)
		now := s.now()
		row.UpdatedAt = now
		if err := s.seal(&row, values); err != nil {
			return err
		}
		if err := tx.Save(&row).Error; err != nil {
			return err
		}
		if err := s.saveToken(tx, row.ID, token); err != nil {
			return err
		}
		fields := []string{"values." + domain.FieldAccessToken}
		if token.RefreshToken != "" {
			fields = append([]string{"values." + domain.FieldRefreshToken}, fields...)
		}
		if err := s.audit(tx, orgID, "credential.connect", "credential", row.ID, fields); err != nil {
			return err
		}
		return s.setStatus(tx, orgID, c.ID, nil, domain.StatusOK, nil, now)
	})
	if err != nil {
		return fmt.Errorf("store oauth tokens: %w", err)
	}
	return nil
}

// CreateConnectSession stores a session under the hash of its token.
func (s *Store) CreateConnectSession(ctx context.Context, cs *domain.ConnectSession, tokenHash string) error {
	row := connectSessionRow{
		ID: newID(), OrganisationID: cs.OrganisationID, TokenHash: tokenHash, ConnectionID: cs.ConnectionID,
		RedirectURL: cs.RedirectURL, Actor: cs.Actor, CreatedAt: s.now(), ExpiresAt: cs.ExpiresAt.UTC().Truncate(time.Microsecond),
	}
	return s.transaction(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("expires_at < ?", row.CreatedAt.Add(-24*time.Hour)).Delete(&connectSessionRow{}).Error; err != nil {
			return err
		}
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("create connect session: %w", err)
		}
		cs.ID, cs.CreatedAt = row.ID, row.CreatedAt
		return nil
	})
}

// FindConnectSession returns the session of a token hash while it is valid.
func (s *Store) FindConnectSession(ctx context.Context, tokenHash string, now time.Time) (*domain.ConnectSession, error) {
	var row connectSessionRow
	err := s.db.WithContext(ctx).Where("token_hash = ? AND expires_at > ?", tokenHash, now.UTC().Truncate(time.Microsecond)).Take(&row).Error
	if err != nil {
		return nil, notFoundOr(err, "connect session", "token")
	}
	if ok, err := s.actorValid(ctx, row.OrganisationID, row.Actor, now.UTC()); err != nil || !ok {
		if err != nil {
			return nil, err
		}
		return nil, domain.NotFound("connect session", "token")
	}
	return &domain.ConnectSession{
		ID: row.ID, OrganisationID: row.OrganisationID, ConnectionID: row.ConnectionID, RedirectURL: row.RedirectURL,
		Actor: row.Actor, CreatedAt: row.CreatedAt.UTC(), ExpiresAt: row.ExpiresAt.UTC(),
	}, nil
}

// actorValid tells whether the actor that started a flow or session may still act: an API key
// ("key:<id>") must be of orgID, unrevoked and unexpired, so that revoking a key also ends what
// it started. A JWT's subject is not known to the database: its flows live their TTL.
func (s *Store) actorValid(ctx context.Context, orgID, actor string, now time.Time) (bool, error) {
	id, ok := strings.CutPrefix(actor, "key:")
	if !ok {
		return true, nil
	}
	var n int64
	err := s.db.WithContext(ctx).Model(&apiKeyRow{}).
		Where("id = ? AND organisation_id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)", id, orgID, now.UTC()).
		Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("check the key of a connect flow: %w", err)
	}
	return n > 0, nil
}
