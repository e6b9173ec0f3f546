package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/notify"
)

var _ domain.APIKeyStore = (*Store)(nil)

// CreateAPIKey stores a key by the hash of its secret; the organisation must exist.
func (s *Store) CreateAPIKey(ctx context.Context, orgID string, in domain.NewAPIKey, prefix string, secretHash []byte) (*domain.APIKey, error) {
	now := s.now()
	if err := in.Validate(now); err != nil {
		return nil, err
	}
	scopes := make([]string, len(in.Scopes))
	for i, sc := range in.Scopes {
		scopes[i] = string(sc)
	}
	row := apiKeyRow{
		ID: newID(), OrganisationID: orgID, Name: in.Name, Prefix: prefix, SecretHash: secretHash,
		Scopes: strings.Join(scopes, " "), CreatedAt: now, ExpiresAt: truncatedPtr(in.ExpiresAt),
	}
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		if _, err := findOrganisationTx(tx, orgID); err != nil {
			return err
		}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		return s.audit(tx, orgID, "apiKey.create", "apiKey", row.ID, []string{"name", "scopes", "expiresAt"})
	})
	if err != nil {
		return nil, fmt.Errorf("create api key: %w", err)
	}
	return row.domain(), nil
}

func findOrganisationTx(tx *gorm.DB, id string) (*organisationRow, error) {
	var row organisationRow
	err := tx.Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, domain.NotFound("organisation", id)
	}
	return &row, err
}

// FindAPIKeyByHash looks a key up by the hash of its secret.
func (s *Store) FindAPIKeyByHash(ctx context.Context, secretHash []byte) (*domain.APIKey, error) {
	var row apiKeyRow
	err := s.db.WithContext(ctx).Where("secret_hash = ?", secretHash).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, domain.NotFound("api key", "")
	}
	if err != nil {
		return nil, fmt.Errorf("find api key: %w", err)
	}
	return row.domain(), nil
}

// ListAPIKeys returns an organisation's keys, newest first.
func (s *Store) ListAPIKeys(ctx context.Context, orgID string) ([]domain.APIKey, error) {
	var rows []apiKeyRow
	if err := s.db.WithContext(ctx).Where("organisation_id = ?", orgID).Order("created_at DESC, id DESC").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	keys := make([]domain.APIKey, len(rows))
	for i := range rows {
		keys[i] = *rows[i].domain()
	}
	return keys, nil
}

// RevokeAPIKey marks a key revoked. An empty orgID is the platform operator (the command
// line), who may revoke any key.
func (s *Store) RevokeAPIKey(ctx context.Context, orgID, id string) (*domain.APIKey, error) {
	var row apiKeyRow
	revoked := false
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		q := s.forUpdate(tx).Where("id = ?", id)
		if orgID != "" {
			q = q.Where("organisation_id = ?", orgID)
		}
		err := q.Take(&row).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return domain.NotFound("api key", id)
		}
		if err != nil || row.RevokedAt != nil {
			return err
		}
		now := s.now()
		row.RevokedAt = &now
		if err := tx.Model(&apiKeyRow{}).Where("id = ?", id).Update("revoked_at", now).Error; err != nil {
			return err
		}
		revoked = true
		return s.audit(tx, row.OrganisationID, "apiKey.revoke", "apiKey", id, []string{"revokedAt"})
	})
	if err != nil {
		return nil, fmt.Errorf("revoke api key %s: %w", id, err)
	}
	if revoked {
		s.changed(notify.Event{Topic: notify.TopicAPIKeys, Op: "UPDATE", ID: id, OrganisationID: row.OrganisationID})
	}
	return row.domain(), nil
}

// TouchAPIKey records a use. The condition makes the write a no-op when another replica
// recorded a use recently, so keys in heavy use cost one write a minute.
func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time, minInterval time.Duration) error {
	at = at.UTC().Truncate(time.Microsecond)
	err := s.db.WithContext(ctx).Model(&apiKeyRow{}).
		Where("id = ? AND (last_used_at IS NULL OR last_used_at <= ?)", id, at.Add(-minInterval)).
		Update("last_used_at", at).Error
	if err != nil {
		return fmt.Errorf("record api key use: %w", err)
	}
	return nil
}

func truncatedPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC().Truncate(time.Microsecond)
	return &u
}
