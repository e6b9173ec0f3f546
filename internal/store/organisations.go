package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/plugboard/plugboard/internal/domain"
)

var _ domain.OrganisationService = (*Store)(nil)

// CreateOrganisation stores a new organisation; names are unique case-insensitively.
func (s *Store) CreateOrganisation(ctx context.Context, name string) (*domain.Organisation, error) {
	name = strings.TrimSpace(name)
	if err := domain.ValidateName("name", name); err != nil {
		return nil, err
	}
	now := s.now()
	row := organisationRow{ID: newID(), Name: name, NameKey: domain.NameKey(name), CreatedAt: now, UpdatedAt: now}
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		return s.audit(tx, row.ID, "organisation.create", "organisation", row.ID, []string{"name"})
	})
	if err != nil {
		if _, unique := isUniqueViolation(err); unique {
			return nil, domain.Invalid("name", "an organisation named %q already exists", name)
		}
		return nil, fmt.Errorf("create organisation: %w", err)
	}
	return row.domain(), nil
}

// FindOrganisation returns NOT_FOUND for an unknown id.
func (s *Store) FindOrganisation(ctx context.Context, id string) (*domain.Organisation, error) {
	var row organisationRow
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, domain.NotFound("organisation", id)
	}
	if err != nil {
		return nil, fmt.Errorf("find organisation %s: %w", id, err)
	}
	return row.domain(), nil
}
