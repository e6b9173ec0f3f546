package domain

import (
	"strings"
	"time"
)

// APIKey is an organisation's key for external integrations. Only a hash of its secret is
// stored; the secret is shown once, when the key is created.
type APIKey struct {
	ID             string
	OrganisationID string
	Name           string
	// Prefix is the start of the secret, to recognise a key in a list.
	Prefix     string
	Scopes     []Scope
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	RevokedAt  *time.Time
	LastUsedAt *time.Time
}

// NewAPIKey is the input of CreateAPIKey.
type NewAPIKey struct {
	Name      string
	Scopes    []Scope
	ExpiresAt *time.Time
}

// Validate checks and normalizes a new key's input at time now.
func (k *NewAPIKey) Validate(now time.Time) error {
	k.Name = strings.TrimSpace(k.Name)
	if err := ValidateName("name", k.Name); err != nil {
		return err
	}
	if err := ValidateKeyScopes(k.Scopes); err != nil {
		return err
	}
	k.Scopes = NormalizeScopes(k.Scopes)
	if k.ExpiresAt != nil && !k.ExpiresAt.After(now) {
		return Invalid("expiresAt", "must be in the future")
	}
	return nil
}

// Usable tells whether the key can authenticate a request at time now.
func (k *APIKey) Usable(now time.Time) bool {
	return k.RevokedAt == nil && (k.ExpiresAt == nil || now.Before(*k.ExpiresAt))
}
