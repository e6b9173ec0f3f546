package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// CredentialKind says which requests a credential applies to.
type CredentialKind string

// The credential kinds: two ordered lists per connection.
const (
	CredentialAction  CredentialKind = "ACTION"
	CredentialTrigger CredentialKind = "TRIGGER"
)

// Credential is one filled-in auth scheme config of a connection. Its secret values are
// write-only: they are encrypted at rest and never leave the server; reads show which fields
// are set and, for some, a short hint.
type Credential struct {
	ID           string
	ConnectionID string
	// AuthSchemeConfigID is the global id of the config it fills, AuthSchemeConfigKey its key
	// (what the credential's row holds) and AuthSchemeConfig the config itself.
	AuthSchemeConfigID  string
	AuthSchemeConfigKey string
	AuthSchemeConfig    *AuthSchemeConfig
	Kind                CredentialKind
	Position            int
	FieldsSet           []string
	Hints               []CredentialHint
	ExpiresAt           *time.Time
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// CredentialHint is a recognisable fragment of a secret value.
type CredentialHint struct {
	Field string `json:"field"`
	Hint  string `json:"hint"`
}

// CredentialInput is the input of SetCredential: it creates the connection's credential for
// (Kind, AuthSchemeConfigID) or replaces its values.
type CredentialInput struct {
	// AuthSchemeConfigID names the config: its key or its global id.
	AuthSchemeConfigID string
	Kind               CredentialKind
	// Position, when set, moves the credential to that index of its list; otherwise a new
	// credential is appended and a replaced one keeps its place.
	Position  *int
	Values    []Property
	ExpiresAt *time.Time
}

// Credential field names.
const (
	FieldUsername     = "username"
	FieldPassword     = "password"
	FieldToken        = "token"
	FieldAPIKey       = "apiKey"
	FieldClientID     = "clientId"
	FieldClientSecret = "clientSecret"
	FieldRefreshToken = "refreshToken"
	FieldAccessToken  = "accessToken"
)

// MaxSecretValueBytes bounds one secret value.
const MaxSecretValueBytes = 16384

// credentialFields lists, per scheme type, the fields a credential may hold.
var credentialFields = map[AuthSchemeType][]string{
	SchemeNone:   {},
	SchemeBasic:  {FieldUsername, FieldPassword},
	SchemeBearer: {FieldToken},
	SchemeAPIKey: {FieldAPIKey},
	SchemeOAuth2: {FieldClientID, FieldClientSecret, FieldUsername, FieldPassword, FieldRefreshToken, FieldAccessToken},
	SchemeHMAC:   {FieldSecret, FieldPreviousSecret},
}

// RequiredCredentialFields lists the fields a credential for config must hold.
func RequiredCredentialFields(config AuthSchemeConfig) []string {
	switch config.SchemeType {
	case SchemeBasic:
		return []string{FieldUsername, FieldPassword}
	case SchemeBearer:
		return []string{FieldToken}
	case SchemeAPIKey:
		return []string{FieldAPIKey}
	case SchemeHMAC:
		return []string{FieldSecret}
	case SchemeOAuth2:
		o := config.OAuth2
		if o != nil && o.Grant != nil && *o.Grant == GrantAuthorizationCode {
			// A public client with PKCE has no secret: clientSecret is sent when set.
			return []string{FieldClientID}
		}
		req := []string{FieldClientID, FieldClientSecret}
		if o != nil && o.Grant != nil && *o.Grant == GrantPassword {
			req = append(req, FieldUsername, FieldPassword)
		}
		return req
	}
	return nil
}

// ValidateCredentialFieldName checks that name is a field of the config's scheme type.
func ValidateCredentialFieldName(config AuthSchemeConfig) func(field, name string) error {
	allowed := credentialFields[config.SchemeType]
	return func(field, name string) error {
		if !slices.Contains(allowed, name) {
			if len(allowed) == 0 {
				return Invalid(field, "a %s credential holds no values", config.SchemeType)
			}
			return Invalid(field, "%q is not a field of a %s credential (fields: %v)", name, config.SchemeType, allowed)
		}
		return nil
	}
}

// ValidateCredentialValues checks a complete set of values against the config: known fields,
// sizes, and the fields its scheme needs. Messages name fields, never values.
func ValidateCredentialValues(field string, config AuthSchemeConfig, values []Variable) error {
	validName := ValidateCredentialFieldName(config)
	seen := map[string]bool{}
	for i, v := range values {
		item := fmt.Sprintf("%s[%d]", field, i)
		if err := validName(item+".name", v.Name); err != nil {
			return err
		}
		if seen[v.Name] {
			return Invalid(item+".name", "%q is given twice", v.Name)
		}
		seen[v.Name] = true
		if len(v.Value) > MaxSecretValueBytes || !utf8.ValidString(v.Value) {
			return Invalid(item+".value", "must be valid UTF-8 of at most %d bytes", MaxSecretValueBytes)
		}
		// NUL is refused in every input. Line breaks are allowed: PEM keys and service-account
		// JSON hold them, and Go's HTTP client refuses a header value that contains one, so a
		// value cannot split an outbound request. Checked here, the one write path of both
		// setCredential and the connect page.
		if strings.ContainsRune(v.Value, 0) {
			return Invalid(item+".value", "must not contain NUL characters")
		}
	}
	for _, req := range RequiredCredentialFields(config) {
		if v, ok := lookup(values, req); !ok || v == "" {
			return Invalid(field, "a %s credential needs %s", describeScheme(config), req)
		}
	}
	if config.SchemeType == SchemeHMAC {
		for i, v := range values {
			if _, err := config.HMAC.Key(v.Value); v.Value != "" && err != nil {
				return Invalid(fmt.Sprintf("%s[%d].value", field, i), "%s", err.Error())
			}
		}
	}
	return nil
}

// CheckCredentialKind refuses a credential of the wrong kind for its config: an HMAC secret
// verifies the external system's deliveries (TRIGGER) and is never sent anywhere (ACTION).
func CheckCredentialKind(config AuthSchemeConfig, kind CredentialKind) error {
	if config.SchemeType == SchemeHMAC && kind != CredentialTrigger {
		return Invalid("kind", "a credential of the HMAC config %q verifies webhook deliveries: its kind must be TRIGGER", config.Key)
	}
	return nil
}

func describeScheme(c AuthSchemeConfig) string {
	if c.SchemeType == SchemeOAuth2 && c.OAuth2 != nil && c.OAuth2.Grant != nil {
		return "OAuth2 " + grantWords(*c.OAuth2.Grant)
	}
	return string(c.SchemeType)
}

func lookup(values []Variable, name string) (string, bool) {
	for _, v := range values {
		if v.Name == name {
			return v.Value, true
		}
	}
	return "", false
}

// hintable fields show their last four characters when long enough that four characters give
// nothing away; passwords and client secrets never show anything.
var hintable = map[string]bool{FieldToken: true, FieldAPIKey: true, FieldClientID: true, FieldRefreshToken: true, FieldAccessToken: true}

// MinHintedLength is the shortest value that gets a hint.
const MinHintedLength = 16

// CredentialSummary returns the read side of values: the fields set, in a stable order, and
// their hints.
func CredentialSummary(values []Variable) (fields []string, hints []CredentialHint) {
	fields = []string{}
	hints = []CredentialHint{}
	for _, v := range values {
		if v.Value == "" {
			continue
		}
		fields = append(fields, v.Name)
		switch {
		case hintable[v.Name] && utf8.RuneCountInString(v.Value) >= MinHintedLength:
			r := []rune(v.Value)
			hints = append(hints, CredentialHint{Field: v.Name, Hint: "…" + string(r[len(r)-4:])})
		case v.Name == FieldUsername && utf8.RuneCountInString(v.Value) >= 4:
			r := []rune(v.Value)
			hints = append(hints, CredentialHint{Field: v.Name, Hint: string(r[0]) + "…"})
		}
	}
	slices.Sort(fields)
	slices.SortFunc(hints, func(a, b CredentialHint) int {
		if a.Field < b.Field {
			return -1
		}
		return 1
	})
	return fields, hints
}

// Validate checks the parts of the input that do not depend on the stored state.
func (in *CredentialInput) Validate() error {
	switch in.Kind {
	case CredentialAction, CredentialTrigger:
	default:
		return Invalid("kind", "must be ACTION or TRIGGER")
	}
	if in.AuthSchemeConfigID == "" {
		return Invalid("authSchemeConfigId", "is required")
	}
	if in.Position != nil && *in.Position < 0 {
		return Invalid("position", "must not be negative")
	}
	return nil
}
