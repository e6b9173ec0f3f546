// Package document writes a connector and one of its versions as a document (YAML or JSON)
// that a repository can keep and `plugboard connector apply` can read back: fixed field
// order, no ids but the keys clients choose, no timestamps, never a secret (secrets live in
// connections' credentials, which a document never holds).
package document

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	yaml "go.yaml.in/yaml/v4"

	"github.com/plugboard/plugboard/internal/domain"
)

// Format is how a document is written.
type Format string

// The formats.
const (
	YAML Format = "YAML"
	JSON Format = "JSON"
)

// APIVersion and Kind head every document, so that a later format can be told apart.
const (
	APIVersion = "plugboard/v1"
	Kind       = "Connector"
)

// Document is the written form. The order of the fields is the order they are written in.
type Document struct {
	APIVersion string    `json:"apiVersion"`
	Kind       string    `json:"kind"`
	Connector  Connector `json:"connector"`
	Version    Version   `json:"version"`
}

// Connector is what a document says about the connector.
type Connector struct {
	Name                string             `json:"name"`
	Description         *string            `json:"description,omitempty"`
	ProtocolType        string             `json:"protocolType"`
	DocumentationURL    *string            `json:"documentationURL,omitempty"`
	IconURL             *string            `json:"iconURL,omitempty"`
	BaseURL             *string            `json:"baseURL,omitempty"`
	Categories          []string           `json:"categories,omitempty"`
	AuthSchemeConfigs   []AuthSchemeConfig `json:"authSchemeConfigs,omitempty"`
	ConnectionVariables []domain.Variable  `json:"connectionVariables,omitempty"`
}

// AuthSchemeConfig is a config under its key.
type AuthSchemeConfig struct {
	Key         string                 `json:"key"`
	Description *string                `json:"description,omitempty"`
	SchemeType  string                 `json:"schemeType"`
	APIKey      *domain.APIKeySettings `json:"apiKey,omitempty"`
	OAuth2      *domain.OAuth2Settings `json:"oauth2,omitempty"`
	HMAC        *Hmac                  `json:"hmac,omitempty"`
	// VerifySSL is a pointer so that a document leaving it out gets the default (true),
	// as createAuthSchemeConfig does, instead of Go's zero value.
	VerifySSL *bool `json:"verifySSL,omitempty"`
}

// Hmac are an HMAC config's settings: the preset and, written out, every effective value (as
// the API reads them back). A field left out of a hand-written document keeps the preset's
// value; an empty timestampHeader or deliveryIdHeader clears the preset's.
type Hmac struct {
	Preset           domain.HmacPreset         `json:"preset"`
	Algorithm        *domain.HmacAlgorithm     `json:"algorithm,omitempty"`
	SignatureHeader  *string                   `json:"signatureHeader,omitempty"`
	Encoding         *domain.SignatureEncoding `json:"encoding,omitempty"`
	SignaturePrefix  *string                   `json:"signaturePrefix,omitempty"`
	SignedPayload    *string                   `json:"signedPayload,omitempty"`
	TimestampHeader  *string                   `json:"timestampHeader,omitempty"`
	ToleranceSeconds *int                      `json:"toleranceSeconds,omitempty"`
	DeliveryIDHeader *string                   `json:"deliveryIdHeader,omitempty"`
}

func hmacOf(s *domain.HmacSettings) *Hmac {
	if s == nil {
		return nil
	}
	o := s.Overrides()
	return &Hmac{Preset: o.Preset, Algorithm: o.Algorithm, SignatureHeader: o.SignatureHeader, Encoding: o.Encoding, SignaturePrefix: o.SignaturePrefix,
		SignedPayload: o.SignedPayload, TimestampHeader: o.TimestampHeader, ToleranceSeconds: o.ToleranceSeconds, DeliveryIDHeader: o.DeliveryIDHeader}
}

func (h *Hmac) overrides() *domain.HmacOverrides {
	if h == nil {
		return nil
	}
	return &domain.HmacOverrides{Preset: h.Preset, Algorithm: h.Algorithm, SignatureHeader: h.SignatureHeader, Encoding: h.Encoding, SignaturePrefix: h.SignaturePrefix,
		SignedPayload: h.SignedPayload, TimestampHeader: h.TimestampHeader, ToleranceSeconds: h.ToleranceSeconds, DeliveryIDHeader: h.DeliveryIDHeader}
}

// Trigger is a version's trigger, naming its HMAC config by key.
type Trigger struct {
	Name             string  `json:"name"`
	Description      *string `json:"description,omitempty"`
	AuthSchemeConfig string  `json:"authSchemeConfig"`
}

// Version is the version a document carries.
type Version struct {
	Name           string                 `json:"name"`
	Description    *string                `json:"description,omitempty"`
	Published      bool                   `json:"published"`
	OutboundPolicy *domain.OutboundPolicy `json:"outboundPolicy,omitempty"`
	Triggers       []Trigger              `json:"triggers,omitempty"`
	Actions        []domain.HTTPAction    `json:"actions"`
}

// Of is the document of a connector and one of its versions, whose triggers are triggers
// (read apart from the version: FindVersionTriggers).
func Of(c *domain.Connector, v *domain.ConnectorVersion, triggers []domain.Trigger) *Document {
	d := &Document{APIVersion: APIVersion, Kind: Kind}
	d.Connector = Connector{
		Name: c.Name, Description: c.Description, ProtocolType: string(c.ProtocolType),
		DocumentationURL: c.DocumentationURL, IconURL: c.IconURL, BaseURL: c.BaseURL,
		Categories: c.Categories, ConnectionVariables: c.ConnectionVariables,
	}
	for _, cfg := range c.AuthSchemeConfigs {
		d.Connector.AuthSchemeConfigs = append(d.Connector.AuthSchemeConfigs, AuthSchemeConfig{
			Key: cfg.Key, Description: cfg.Description, SchemeType: string(cfg.SchemeType),
			APIKey: cfg.APIKey, OAuth2: cfg.OAuth2, HMAC: hmacOf(cfg.HMAC), VerifySSL: &cfg.VerifySSL,
		})
	}
	d.Version = Version{Name: v.Name, Description: v.Description, Published: v.IsPublished(), OutboundPolicy: v.OutboundPolicy, Actions: v.Actions}
	for _, t := range triggers {
		// Triggers name their config by global id; the document by the key, which another
		// organisation's connector shares.
		key := t.AuthSchemeConfigID
		if i := domain.FindAuthSchemeConfig(c.AuthSchemeConfigs, key); i >= 0 {
			key = c.AuthSchemeConfigs[i].Key
		}
		d.Version.Triggers = append(d.Version.Triggers, Trigger{Name: t.Name, Description: t.Description, AuthSchemeConfig: key})
	}
	if d.Version.Actions == nil {
		d.Version.Actions = []domain.HTTPAction{}
	}
	return d
}

// Render writes d. The same connector and version always give the same bytes.
func Render(d *Document, format Format) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, fmt.Errorf("write document: %w", err)
	}
	if format == JSON {
		return buf.Bytes(), nil
	}
	// JSON is YAML: read it as a node tree (which keeps the field order) and write it back
	// in block style, letting the encoder quote only what needs quoting.
	var node yaml.Node
	if err := yaml.Unmarshal(buf.Bytes(), &node); err != nil {
		return nil, fmt.Errorf("write document: %w", err)
	}
	blockStyle(&node)
	var out bytes.Buffer
	ye := yaml.NewEncoder(&out)
	ye.SetIndent(2)
	if err := ye.Encode(&node); err != nil {
		return nil, fmt.Errorf("write document: %w", err)
	}
	if err := ye.Close(); err != nil {
		return nil, fmt.Errorf("write document: %w", err)
	}
	return out.Bytes(), nil
}

func blockStyle(n *yaml.Node) {
	switch n.Kind {
	case yaml.MappingNode, yaml.SequenceNode:
		n.Style = 0
	case yaml.ScalarNode:
		if n.Tag == "!!str" {
			n.Style = 0
			if strings.Contains(n.Value, "\n") {
				n.Style = yaml.LiteralStyle
			}
		}
	}
	for _, c := range n.Content {
		blockStyle(c)
	}
}

// Parse reads a document written by Render (YAML or JSON) or by hand. Unknown fields are
// refused, so that a typo is not silently ignored.
func Parse(data []byte) (*Document, error) {
	var generic any
	if err := yaml.Unmarshal(data, &generic); err != nil {
		return nil, domain.Invalid("document", "not a YAML or JSON document: %v", err)
	}
	j, err := json.Marshal(jsonCompatible(generic))
	if err != nil {
		return nil, domain.Invalid("document", "not a connector document: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	var d Document
	if err := dec.Decode(&d); err != nil {
		return nil, domain.Invalid("document", "not a connector document: %s", decodeMessage(err))
	}
	if d.APIVersion != APIVersion || d.Kind != Kind {
		return nil, domain.Invalid("document", "apiVersion must be %q and kind %q", APIVersion, Kind)
	}
	if err := domain.CheckTextIn("document", "", &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// decodeMessage words a decoding error for a document's author, who wrote YAML as often as
// JSON: "unknown field "x" in the document", not "json: unknown field "x"".
func decodeMessage(err error) string {
	msg := err.Error()
	if field, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return "unknown field " + field + " in the document"
	}
	return strings.TrimPrefix(msg, "json: ")
}

// jsonCompatible turns YAML's maps with any keys into JSON objects.
func jsonCompatible(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = jsonCompatible(x)
		}
		return v
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[fmt.Sprint(k)] = jsonCompatible(x)
		}
		return m
	case []any:
		for i, x := range v {
			v[i] = jsonCompatible(x)
		}
		return v
	}
	return v
}

// Spec is what applying d asks for.
func (d *Document) Spec() domain.ConnectorSpec {
	s := domain.ConnectorSpec{
		Fields: domain.ConnectorFields{
			Name: d.Connector.Name, Description: d.Connector.Description, ProtocolType: domain.ProtocolType(d.Connector.ProtocolType),
			DocumentationURL: d.Connector.DocumentationURL, IconURL: d.Connector.IconURL, BaseURL: d.Connector.BaseURL,
			Categories: d.Connector.Categories,
		},
		ConnectionVariables: d.Connector.ConnectionVariables,
		Version: domain.VersionInput{
			Name: d.Version.Name, Description: d.Version.Description, Actions: d.Version.Actions,
		},
		Published: d.Version.Published,
	}
	s.Version.OutboundPolicyInput = policyInput(d.Version.OutboundPolicy)
	for _, c := range d.Connector.AuthSchemeConfigs {
		s.AuthSchemeConfigs = append(s.AuthSchemeConfigs, domain.AuthSchemeConfig{
			Key: c.Key, Description: c.Description, SchemeType: domain.AuthSchemeType(c.SchemeType),
			APIKey: c.APIKey, OAuth2: c.OAuth2, HMACInput: c.HMAC.overrides(), VerifySSL: c.VerifySSL == nil || *c.VerifySSL,
		})
	}
	for _, t := range d.Version.Triggers {
		s.Version.Triggers = append(s.Version.Triggers, domain.TriggerInput{Name: t.Name, Description: t.Description, AuthSchemeConfigID: t.AuthSchemeConfig})
	}
	return s
}

// policyInput reads a written policy back as input, so that apply checks it like
// createVersion does; zero values are the defaults.
func policyInput(p *domain.OutboundPolicy) *domain.OutboundPolicyInput {
	if p == nil {
		return nil
	}
	nonZero := func(n int) *int {
		if n == 0 {
			return nil
		}
		return &n
	}
	in := &domain.OutboundPolicyInput{}
	if r := p.Retry; r != nil {
		in.Retry = &domain.RetryPolicyInput{MaxAttempts: nonZero(r.MaxAttempts), RetryOn: r.RetryOn, MaxElapsedSeconds: nonZero(r.MaxElapsedSeconds)}
	}
	if r := p.RateLimit; r != nil {
		in.RateLimit = &domain.RateLimitInput{Requests: r.Requests, PerSeconds: r.PerSeconds, Burst: nonZero(r.Burst), Concurrency: r.Concurrency}
	}
	return in
}
