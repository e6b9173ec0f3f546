package domain

import (
	"fmt"
	"slices"
	"strings"
)

// Scope is a permission carried by an API key or a JWT, e.g. "connectors:read".
type Scope string

// The scopes of the API contract.
const (
	ScopeConnectorsRead  Scope = "connectors:read"
	ScopeConnectorsWrite Scope = "connectors:write"
	ScopeKeysManage      Scope = "keys:manage"
	// ScopePlatformAdmin creates organisations. API keys never carry it: it comes from the
	// command line or an admin JWT claim.
	ScopePlatformAdmin Scope = "platform:admin"
)

// OrganisationScopes are the scopes an API key may be given.
var OrganisationScopes = []Scope{ScopeConnectorsRead, ScopeConnectorsWrite, ScopeKeysManage}

// ParseScopes reads a comma- or space-separated list of scopes, rejecting unknown ones and
// platform:admin, which an organisation's key cannot hold.
func ParseScopes(s string) ([]Scope, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
	scopes := make([]Scope, 0, len(fields))
	for _, f := range fields {
		scopes = append(scopes, Scope(f))
	}
	if err := ValidateKeyScopes(scopes); err != nil {
		return nil, err
	}
	return NormalizeScopes(scopes), nil
}

// ValidateKeyScopes checks that scopes is a non-empty list of organisation scopes.
func ValidateKeyScopes(scopes []Scope) error {
	if len(scopes) == 0 {
		return Invalid("scopes", "at least one scope is required (one of %s)", joinScopes(OrganisationScopes))
	}
	for i, s := range scopes {
		if !slices.Contains(OrganisationScopes, s) {
			return Invalid(fmt.Sprintf("scopes[%d]", i), "%q is not a scope an API key can hold (one of %s)", s, joinScopes(OrganisationScopes))
		}
	}
	return nil
}

// NormalizeScopes sorts and deduplicates scopes.
func NormalizeScopes(scopes []Scope) []Scope {
	out := slices.Clone(scopes)
	slices.Sort(out)
	return slices.Compact(out)
}

func joinScopes(scopes []Scope) string {
	parts := make([]string, len(scopes))
	for i, s := range scopes {
		parts[i] = string(s)
	}
	return strings.Join(parts, ", ")
}
