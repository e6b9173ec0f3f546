package store

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/jsonlist"
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
	ID             string
	OrganisationID string
	Name           string
	NameKey        string
	// SortKey orders names as people expect (domain.SortKey); lists read it only for cursors.
	SortKey             []byte
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
	var err error
	if c.Categories, err = jsonlist.Strings(r.Categories); err != nil {
		return nil, fmt.Errorf("connector %s categories: %w", r.ID, err)
	}
	if err := jsonlist.Decode(r.AuthSchemeConfigs, &c.AuthSchemeConfigs); err != nil {
		return nil, fmt.Errorf("connector %s auth scheme configs: %w", r.ID, err)
	}
	domain.FillConfigGlobalIDs(r.ID, c.AuthSchemeConfigs)
	if c.ConnectionVariables, err = jsonlist.Variables(r.ConnectionVariables); err != nil {
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
		SortKey:             domain.SortKey(c.Name),
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

type connectionRow struct {
	ID              string
	ConnectorID     string
	OrganisationID  string
	Name            string
	NameKey         string
	Variables       string
	PinnedVersionID *string
	// PinnedVersionName is read through a join; it is not a column.
	PinnedVersionName *string `gorm:"->"`
	Revision          int
	CreatedAt         time.Time
	UpdatedAt         time.Time
	Status            string
	StatusMessage     *string
	LastCheckedAt     *time.Time
}

func (connectionRow) TableName() string { return "connections" }

func (r *connectionRow) domain() (*domain.Connection, error) {
	c := &domain.Connection{
		ID: r.ID, ConnectorID: r.ConnectorID, OrganisationID: r.OrganisationID, Name: r.Name,
		VersionName: r.PinnedVersionName, Revision: r.Revision,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		Status: domain.ConnectionStatus(r.Status), StatusMessage: r.StatusMessage, LastCheckedAt: utcPtr(r.LastCheckedAt),
	}
	if c.Status == "" {
		c.Status = domain.StatusPending // the column is NOT NULL; an empty one is a select list that left it out
	}
	var err error
	if c.Variables, err = jsonlist.Variables(r.Variables); err != nil {
		return nil, fmt.Errorf("connection %s variables: %w", r.ID, err)
	}
	return c, nil
}

type versionRow struct {
	ID             string
	ConnectorID    string
	OrganisationID string
	Name           string
	NameKey        string
	Description    *string
	Actions        string
	IsLatest       bool
	IsDefault      bool
	CreatedAt      time.Time
	UpdatedAt      time.Time
	PublishedAt    *time.Time
	// OutboundPolicy is the policy as JSON; NULL when the version has none.
	OutboundPolicy *string
}

func (versionRow) TableName() string { return "connector_versions" }

func encodePolicy(p *domain.OutboundPolicy) *string {
	if p == nil {
		return nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		// Plain structs of ints: Marshal cannot fail on them.
		panic(fmt.Sprintf("encode outbound policy: %v", err))
	}
	s := string(b)
	return &s
}

func (r *versionRow) domain() (*domain.ConnectorVersion, error) {
	v := &domain.ConnectorVersion{
		ID: r.ID, ConnectorID: r.ConnectorID, Name: r.Name, Description: r.Description,
		IsLatest: r.IsLatest, IsDefault: r.IsDefault,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), PublishedAt: utcPtr(r.PublishedAt),
	}
	if err := jsonlist.Decode(r.Actions, &v.Actions); err != nil {
		return nil, fmt.Errorf("version %s actions: %w", r.ID, err)
	}
	if r.OutboundPolicy != nil {
		if err := json.Unmarshal([]byte(*r.OutboundPolicy), &v.OutboundPolicy); err != nil {
			return nil, fmt.Errorf("version %s outbound policy: %w", r.ID, err)
		}
	}
	for i := range v.Actions {
		if v.Actions[i].Headers == nil {
			v.Actions[i].Headers = []domain.HTTPHeader{}
		}
	}
	return v, nil
}

type credentialRow struct {
	ID                 string
	OrganisationID     string
	ConnectionID       string
	AuthSchemeConfigID string
	Kind               string
	Position           int
	FieldsSet          string
	Hints              string
	KeyID              string
	Ciphertext         []byte
	ExpiresAt          *time.Time
	CreatedAt          time.Time
	UpdatedAt          time.Time
	// The cached OAuth2 access token, sealed like the values.
	TokenKeyID      *string
	TokenCiphertext []byte
	TokenExpiresAt  *time.Time
}

func (credentialRow) TableName() string { return "credentials" }

// domain returns the read side of a credential: never its values. Until withConfig, its
// AuthSchemeConfigID is the key its row holds.
func (r *credentialRow) domain() (*domain.Credential, error) {
	c := &domain.Credential{
		ID: r.ID, ConnectionID: r.ConnectionID, AuthSchemeConfigID: r.AuthSchemeConfigID, AuthSchemeConfigKey: r.AuthSchemeConfigID,
		Kind: domain.CredentialKind(r.Kind), Position: r.Position, ExpiresAt: utcPtr(r.ExpiresAt),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	if err := jsonlist.Decode(r.FieldsSet, &c.FieldsSet); err != nil {
		return nil, fmt.Errorf("credential %s fields: %w", r.ID, err)
	}
	if err := jsonlist.Decode(r.Hints, &c.Hints); err != nil {
		return nil, fmt.Errorf("credential %s hints: %w", r.ID, err)
	}
	return c, nil
}

// withConfig completes a credential with the config it fills, found among its connector's
// configs by the key its row holds: AuthSchemeConfigID becomes the config's global id.
func withConfig(c *domain.Credential, configs []domain.AuthSchemeConfig) {
	if i := domain.FindAuthSchemeConfig(configs, c.AuthSchemeConfigKey); i >= 0 {
		config := configs[i]
		c.AuthSchemeConfig, c.AuthSchemeConfigID = &config, config.GlobalID
	}
}
