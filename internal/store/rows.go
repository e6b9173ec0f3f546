package store

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/plugboard/plugboard/internal/domain"
)

type organisationRow struct {
	ID        string
	Name      string
	NameKey   string
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (organisationRow) TableName() string { return "organisations" }

func (r *organisationRow) domain() *domain.Organisation {
	return &domain.Organisation{ID: r.ID, Name: r.Name, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

type connectorRow struct {
	ID                  string
	OrganisationID      string
	Name                string
	NameKey             string
	Description         *string
	ProtocolType        string
	DocumentationURL    *string `gorm:"column:documentation_url"`
	IconURL             *string `gorm:"column:icon_url"`
	BaseURL             *string `gorm:"column:base_url"`
	Categories          string
	AuthSchemeConfigs   string
	ConnectionVariables string
	Revision            int
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

func (connectorRow) TableName() string { return "connectors" }

func (r *connectorRow) domain() (*domain.Connector, error) {
	c := &domain.Connector{
		ID:             r.ID,
		OrganisationID: r.OrganisationID,
		ConnectorFields: domain.ConnectorFields{
			Name:             r.Name,
			Description:      r.Description,
			ProtocolType:     domain.ProtocolType(r.ProtocolType),
			DocumentationURL: r.DocumentationURL,
			IconURL:          r.IconURL,
			BaseURL:          r.BaseURL,
		},
		Revision:  r.Revision,
		CreatedAt: r.CreatedAt.UTC(),
		UpdatedAt: r.UpdatedAt.UTC(),
	}
	if err := decodeList(r.Categories, &c.Categories); err != nil {
		return nil, fmt.Errorf("connector %s categories: %w", r.ID, err)
	}
	if err := decodeList(r.AuthSchemeConfigs, &c.AuthSchemeConfigs); err != nil {
		return nil, fmt.Errorf("connector %s auth scheme configs: %w", r.ID, err)
	}
	if err := decodeList(r.ConnectionVariables, &c.ConnectionVariables); err != nil {
		return nil, fmt.Errorf("connector %s connection variables: %w", r.ID, err)
	}
	return c, nil
}

func connectorToRow(c *domain.Connector) connectorRow {
	return connectorRow{
		ID:                  c.ID,
		OrganisationID:      c.OrganisationID,
		Name:                c.Name,
		NameKey:             domain.NameKey(c.Name),
		Description:         c.Description,
		ProtocolType:        string(c.ProtocolType),
		DocumentationURL:    c.DocumentationURL,
		IconURL:             c.IconURL,
		BaseURL:             c.BaseURL,
		Categories:          encodeList(c.Categories),
		AuthSchemeConfigs:   encodeList(c.AuthSchemeConfigs),
		ConnectionVariables: encodeList(c.ConnectionVariables),
		Revision:            c.Revision,
		CreatedAt:           c.CreatedAt,
		UpdatedAt:           c.UpdatedAt,
	}
}

// encodeList stores an ordered list as a JSON array; nil is stored as [] so that reads never
// see null.
func encodeList[T any](list []T) string {
	if len(list) == 0 {
		return "[]"
	}
	b, err := json.Marshal(list)
	if err != nil {
		// The lists hold strings and plain structs: Marshal cannot fail on them.
		panic(fmt.Sprintf("encode list: %v", err))
	}
	return string(b)
}

func decodeList[T any](s string, out *[]T) error {
	*out = []T{}
	if s == "" {
		return nil
	}
	return json.Unmarshal([]byte(s), out)
}

type apiKeyRow struct {
	ID             string
	OrganisationID string
	Name           string
	Prefix         string
	SecretHash     []byte
	Scopes         string
	CreatedAt      time.Time
	ExpiresAt      *time.Time
	RevokedAt      *time.Time
	LastUsedAt     *time.Time
}

func (apiKeyRow) TableName() string { return "api_keys" }

func (r *apiKeyRow) domain() *domain.APIKey {
	k := &domain.APIKey{
		ID:             r.ID,
		OrganisationID: r.OrganisationID,
		Name:           r.Name,
		Prefix:         r.Prefix,
		CreatedAt:      r.CreatedAt.UTC(),
		ExpiresAt:      utcPtr(r.ExpiresAt),
		RevokedAt:      utcPtr(r.RevokedAt),
		LastUsedAt:     utcPtr(r.LastUsedAt),
	}
	for _, s := range strings.Fields(r.Scopes) {
		k.Scopes = append(k.Scopes, domain.Scope(s))
	}
	return k
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
