// Package parse maps the GraphQL input types gqlgen generates onto the domain's values: the
// parse step of the resolvers, kept apart from them (and from the store and the server) so that
// its fuzz target builds with few dependencies.
package parse

import (
	"github.com/plugboard/plugboard/graph/generated"
	"github.com/plugboard/plugboard/internal/domain"
)

func connectorFields(name *string, description *string, protocol *domain.ProtocolType, docURL, iconURL, baseURL *string, categories []string) domain.ConnectorFields {
	f := domain.ConnectorFields{
		Description:      description,
		DocumentationURL: docURL,
		IconURL:          iconURL,
		BaseURL:          baseURL,
		Categories:       categories,
	}
	if name != nil {
		f.Name = *name
	}
	if protocol != nil {
		f.ProtocolType = *protocol
	}
	return f
}

// NewConnector is createConnector's input.
func NewConnector(in generated.CreateConnectorInput) domain.NewConnector {
	n := domain.NewConnector{
		ConnectorFields:     connectorFields(&in.Name, in.Description, &in.ProtocolType, in.DocumentationURL, in.IconURL, in.BaseURL, in.Categories),
		ConnectionVariables: Variables(in.ConnectionVariables),
	}
	for _, c := range in.AuthSchemeConfigs {
		n.AuthSchemeConfigs = append(n.AuthSchemeConfigs, AuthSchemeConfig(c))
	}
	return n
}

// ConnectorUpdate is updateConnector's input, with the expected revision.
func ConnectorUpdate(in generated.UpdateConnectorInput, expectedRevision *int) domain.ConnectorUpdate {
	u := domain.ConnectorUpdate{
		Fields:           connectorFields(in.Name, in.Description, in.ProtocolType, in.DocumentationURL, in.IconURL, in.BaseURL, in.Categories),
		ExpectedRevision: expectedRevision,
	}
	// Omitted leaves these two alone; null is an empty list (and, for the ids, only valid
	// when the connector has no configs).
	if ids, set := in.AuthSchemeConfigIDs.ValueOK(); set {
		list := []string{}
		if ids != nil {
			list = ids
		}
		u.AuthSchemeConfigIDs = &list
	}
	if vars, set := in.ConnectionVariables.ValueOK(); set {
		list := Variables(vars)
		u.ConnectionVariables = &list
	}
	return u
}

// Variables are connection variables as the domain holds them.
func Variables(in []generated.ConnectionVariableInput) []domain.Variable {
	out := make([]domain.Variable, len(in))
	for i, v := range in {
		out[i] = domain.Variable{Name: v.Name, Value: v.Value}
	}
	return out
}

// Properties are a list of name-value pairs as the domain holds them.
func Properties(in []generated.PropertyInput) []domain.Property {
	out := make([]domain.Property, len(in))
	for i, p := range in {
		out[i] = domain.Property{Name: p.Name, Value: p.Value}
	}
	return out
}

// AuthSchemeConfig maps the input; validationMessages is computed by the server, so the
// input's copy is dropped here.
func AuthSchemeConfig(in generated.AuthSchemeConfigInput) domain.AuthSchemeConfig {
	c := domain.AuthSchemeConfig{
		Key:         in.ID,
		Description: in.Description,
		SchemeType:  in.SchemeType,
		VerifySSL:   in.VerifySsl == nil || *in.VerifySsl,
	}
	if in.APIKey != nil {
		c.APIKey = &domain.APIKeySettings{Name: in.APIKey.Name}
		if in.APIKey.In != nil {
			c.APIKey.In = *in.APIKey.In
		}
	}
	if o := in.Oauth2; o != nil {
		c.OAuth2 = &domain.OAuth2Settings{
			Grant:        o.Grant,
			TokenURL:     o.TokenURL,
			AuthorizeURL: o.AuthorizeURL,
			Scopes:       o.Scopes,
			Audience:     o.Audience,
		}
		if o.AuthorizationPrefix != nil {
			c.OAuth2.AuthorizationPrefix = *o.AuthorizationPrefix
		}
		if o.HeaderAuthorization != nil {
			c.OAuth2.HeaderAuthorization = *o.HeaderAuthorization
		}
	}
	if h := in.Hmac; h != nil {
		c.HMACInput = &domain.HmacOverrides{
			Preset: h.Preset, Algorithm: h.Algorithm, SignatureHeader: h.SignatureHeader, Encoding: h.Encoding,
			SignaturePrefix: h.SignaturePrefix, SignedPayload: h.SignedPayload, TimestampHeader: h.TimestampHeader,
			ToleranceSeconds: h.ToleranceSeconds, DeliveryIDHeader: h.DeliveryIDHeader,
		}
	}
	return c
}

// ConnectorFilter is the connectors query's filter; nil filters nothing.
func ConnectorFilter(in *generated.ConnectorFilter) domain.ConnectorFilter {
	var f domain.ConnectorFilter
	if in == nil {
		return f
	}
	if in.NameContains != nil {
		f.NameContains = *in.NameContains
	}
	f.Categories = in.Categories
	if in.ProtocolType != nil {
		f.ProtocolType = *in.ProtocolType
	}
	return f
}

// ConnectionUpdate is updateConnection's input, with the expected revision.
func ConnectionUpdate(in generated.UpdateConnectionInput, expectedRevision *int) domain.ConnectionUpdate {
	u := domain.ConnectionUpdate{VersionName: in.VersionName, Variables: Variables(in.Variables), ExpectedRevision: expectedRevision}
	if in.Name != nil {
		u.Name = *in.Name
	}
	return u
}

// Credential is setCredential's input.
func Credential(in generated.CredentialInput) domain.CredentialInput {
	return domain.CredentialInput{
		AuthSchemeConfigID: in.AuthSchemeConfigID,
		Kind:               in.Kind,
		Position:           in.Position,
		Values:             Properties(in.Values),
		ExpiresAt:          in.ExpiresAt,
	}
}

// Version is a version's input (createVersion, updateVersion).
func Version(name, description *string, actions []generated.HTTPActionInput, policy *generated.OutboundPolicyInput, triggers []generated.TriggerInput) domain.VersionInput {
	v := domain.VersionInput{Description: description, Actions: make([]domain.HTTPAction, len(actions)), OutboundPolicyInput: OutboundPolicy(policy)}
	for _, t := range triggers {
		v.Triggers = append(v.Triggers, domain.TriggerInput{Name: t.Name, Description: t.Description, AuthSchemeConfigID: t.AuthSchemeConfigID})
	}
	if name != nil {
		v.Name = *name
	}
	for i, a := range actions {
		action := domain.HTTPAction{
			Name: a.Name, Description: a.Description, Method: a.Method, Path: a.Path,
			BodyTemplate: a.BodyTemplate, SampleRequestData: a.SampleRequestData,
			Headers: make([]domain.HTTPHeader, len(a.Headers)),
		}
		if a.Purpose != nil {
			action.Purpose = *a.Purpose
		}
		for j, h := range a.Headers {
			action.Headers[j] = domain.HTTPHeader{Name: h.Name, Value: h.Value}
		}
		v.Actions[i] = action
	}
	return v
}

// OutboundPolicy is a version's outbound policy input; nil leaves it unset.
func OutboundPolicy(in *generated.OutboundPolicyInput) *domain.OutboundPolicyInput {
	if in == nil {
		return nil
	}
	out := &domain.OutboundPolicyInput{}
	if r := in.Retry; r != nil {
		out.Retry = &domain.RetryPolicyInput{MaxAttempts: r.MaxAttempts, RetryOn: r.RetryOn, MaxElapsedSeconds: r.MaxElapsedSeconds}
	}
	if l := in.RateLimit; l != nil {
		out.RateLimit = &domain.RateLimitInput{Requests: l.Requests, PerSeconds: l.PerSeconds, Burst: l.Burst, Concurrency: l.Concurrency}
	}
	return out
}
