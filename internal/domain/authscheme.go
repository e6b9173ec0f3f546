package domain

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// AuthSchemeType is how requests to the external system are authenticated.
type AuthSchemeType string

// The auth scheme types.
const (
	SchemeNone   AuthSchemeType = "NONE"
	SchemeBasic  AuthSchemeType = "BASIC"
	SchemeBearer AuthSchemeType = "BEARER"
	SchemeAPIKey AuthSchemeType = "API_KEY"
	SchemeOAuth2 AuthSchemeType = "OAUTH2"
	// SchemeHMAC verifies the external system's webhook deliveries; it is never applied to
	// outbound calls.
	SchemeHMAC AuthSchemeType = "HMAC"
)

// APIKeyLocation is where an API key goes in a request.
type APIKeyLocation string

// The API key locations.
const (
	APIKeyInHeader APIKeyLocation = "HEADER"
	APIKeyInQuery  APIKeyLocation = "QUERY"
)

// OAuth2Grant is an OAuth2 grant type.
type OAuth2Grant string

// The OAuth2 grants.
const (
	GrantClientCredentials OAuth2Grant = "CLIENT_CREDENTIALS"
	GrantPassword          OAuth2Grant = "PASSWORD"
	GrantAuthorizationCode OAuth2Grant = "AUTHORIZATION_CODE"
)

// Defaults of OAuth2 settings, as the Enterprise Connectors document gives them.
const (
	DefaultAuthorizationPrefix = "Bearer"
	DefaultHeaderAuthorization = "Authorization"
)

// MaxAuthSchemeConfigs bounds the configs of one connector.
const MaxAuthSchemeConfigs = 50

// AuthSchemeConfig describes one way of authenticating to the external system. Secret values
// are not here: they live in a connection's credentials.
type AuthSchemeConfig struct {
	// Key is chosen by the client and unique within its connector. It is stored under "id",
	// its name before global ids.
	Key string `json:"id"`
	// GlobalID is the config's global id (ConfigGlobalID): set once, kept when Key changes.
	GlobalID    string          `json:"globalId,omitempty"`
	Description *string         `json:"description,omitempty"`
	SchemeType  AuthSchemeType  `json:"schemeType"`
	APIKey      *APIKeySettings `json:"apiKey,omitempty"`
	OAuth2      *OAuth2Settings `json:"oauth2,omitempty"`
	// HMAC holds the effective settings of an HMAC config; HMACInput is what the client gave
	// (Normalize turns one into the other; nil clears them, as the full-replace rule says).
	HMAC      *HmacSettings  `json:"hmac,omitempty"`
	HMACInput *HmacOverrides `json:"-"`
	VerifySSL bool           `json:"verifySSL"`
}

// APIKeySettings say where an API key goes.
type APIKeySettings struct {
	In   APIKeyLocation `json:"in"`
	Name *string        `json:"name,omitempty"`
}

// OAuth2Settings configure an OAuth2 scheme.
type OAuth2Settings struct {
	Grant               *OAuth2Grant `json:"grant,omitempty"`
	TokenURL            *string      `json:"tokenURL,omitempty"`
	AuthorizeURL        *string      `json:"authorizeURL,omitempty"`
	Scopes              []string     `json:"scopes"`
	Audience            *string      `json:"audience,omitempty"`
	AuthorizationPrefix string       `json:"authorizationPrefix"`
	HeaderAuthorization string       `json:"headerAuthorization"`
}

var (
	configIDPattern = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)
	// RFC 9110 token characters: what a header or query parameter name may hold.
	tokenPattern = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$")
)

// Normalize applies defaults, trims text and validates the config. Errors name fields
// relative to the config ("oauth2.tokenURL").
func (c *AuthSchemeConfig) Normalize() error {
	c.Key = strings.TrimSpace(c.Key)
	if !configIDPattern.MatchString(c.Key) {
		return Invalid("id", "must be 1–64 letters, digits, '_', '.', ':' or '-'")
	}
	if err := normalizeDescription(&c.Description); err != nil {
		return err
	}
	switch c.SchemeType {
	case SchemeNone, SchemeBasic, SchemeBearer, SchemeAPIKey, SchemeOAuth2, SchemeHMAC:
	case "":
		return Invalid("schemeType", "is required")
	default:
		return Invalid("schemeType", "must be one of NONE, BASIC, BEARER, API_KEY, OAUTH2, HMAC")
	}
	if (c.HMACInput != nil || c.HMAC != nil) && c.SchemeType != SchemeHMAC {
		return Invalid("hmac", "only applies to the HMAC scheme type, not %s", c.SchemeType)
	}
	if c.HMACInput != nil {
		settings, err := c.HMACInput.Settings()
		if err != nil {
			return WithFieldPrefix("hmac", err)
		}
		c.HMAC, c.HMACInput = settings, nil
	}
	if c.APIKey != nil && c.SchemeType != SchemeAPIKey {
		return Invalid("apiKey", "only applies to the API_KEY scheme type, not %s", c.SchemeType)
	}
	if c.OAuth2 != nil && c.SchemeType != SchemeOAuth2 {
		return Invalid("oauth2", "only applies to the OAUTH2 scheme type, not %s", c.SchemeType)
	}
	switch c.SchemeType {
	case SchemeAPIKey:
		if c.APIKey == nil {
			c.APIKey = &APIKeySettings{}
		}
		return c.APIKey.normalize()
	case SchemeOAuth2:
		if c.OAuth2 == nil {
			c.OAuth2 = &OAuth2Settings{}
		}
		return c.OAuth2.normalize()
	}
	return nil
}

func (s *APIKeySettings) normalize() error {
	switch s.In {
	case "":
		s.In = APIKeyInHeader
	case APIKeyInHeader, APIKeyInQuery:
	default:
		return Invalid("apiKey.in", "must be HEADER or QUERY")
	}
	s.Name = trimOptional(s.Name)
	if s.Name != nil && !tokenPattern.MatchString(*s.Name) {
		return Invalid("apiKey.name", "must be a valid header or query parameter name")
	}
	return nil
}

func (s *OAuth2Settings) normalize() error {
	if s.Grant != nil {
		switch *s.Grant {
		case GrantClientCredentials, GrantPassword, GrantAuthorizationCode:
		default:
			return Invalid("oauth2.grant", "must be CLIENT_CREDENTIALS, PASSWORD or AUTHORIZATION_CODE")
		}
	}
	s.TokenURL = trimOptional(s.TokenURL)
	if err := ValidateURL("oauth2.tokenURL", s.TokenURL); err != nil {
		return err
	}
	s.AuthorizeURL = trimOptional(s.AuthorizeURL)
	if err := ValidateURL("oauth2.authorizeURL", s.AuthorizeURL); err != nil {
		return err
	}
	scopes := make([]string, 0, len(s.Scopes))
	for i, sc := range s.Scopes {
		sc = strings.TrimSpace(sc)
		if sc == "" || strings.ContainsAny(sc, " \t\r\n\"\\") || len(sc) > 256 {
			return Invalid(fmt.Sprintf("oauth2.scopes[%d]", i), "must be a non-blank scope without spaces, quotes or backslashes")
		}
		scopes = append(scopes, sc)
	}
	s.Scopes = scopes
	s.Audience = trimOptional(s.Audience)
	if s.Audience != nil && len(*s.Audience) > MaxURLLength {
		return Invalid("oauth2.audience", "must be at most %d characters", MaxURLLength)
	}
	s.AuthorizationPrefix = strings.TrimSpace(s.AuthorizationPrefix)
	if s.AuthorizationPrefix == "" {
		s.AuthorizationPrefix = DefaultAuthorizationPrefix
	}
	if !tokenPattern.MatchString(s.AuthorizationPrefix) {
		return Invalid("oauth2.authorizationPrefix", "must be a single word such as Bearer")
	}
	s.HeaderAuthorization = strings.TrimSpace(s.HeaderAuthorization)
	if s.HeaderAuthorization == "" {
		s.HeaderAuthorization = DefaultHeaderAuthorization
	}
	if !tokenPattern.MatchString(s.HeaderAuthorization) {
		return Invalid("oauth2.headerAuthorization", "must be a valid header name")
	}
	return nil
}

// ValidationMessages says what is missing or unsafe in a saved config. Incomplete configs
// can be saved (a user fills them in over several steps); these messages tell what is left.
func (c AuthSchemeConfig) ValidationMessages() []string {
	msgs := []string{}
	switch c.SchemeType {
	case SchemeHMAC:
		if c.HMAC == nil {
			return append(msgs, "The HMAC settings are not set: no delivery can be verified.")
		}
		// Deliveries come in; no certificate of the external system is checked.
		return append(msgs, c.HMAC.validationMessages()...)
	case SchemeAPIKey:
		if c.APIKey == nil || c.APIKey.Name == nil {
			msgs = append(msgs, "The API key name is not set: say which header or query parameter carries the key.")
		}
	case SchemeOAuth2:
		o := c.OAuth2
		if o == nil {
			o = &OAuth2Settings{}
		}
		if o.Grant == nil {
			msgs = append(msgs, "The OAuth2 grant is not set.")
			break
		}
		if o.TokenURL == nil {
			msgs = append(msgs, fmt.Sprintf("The OAuth2 %s grant needs a token URL.", grantWords(*o.Grant)))
		} else if strings.HasPrefix(*o.TokenURL, "http:") {
			msgs = append(msgs, "The token URL is not HTTPS: client secrets and tokens would travel in clear text.")
		}
		if *o.Grant == GrantAuthorizationCode && o.AuthorizeURL == nil {
			msgs = append(msgs, "The OAuth2 authorization code grant needs an authorize URL.")
		}
		if *o.Grant == GrantPassword && !c.VerifySSL {
			msgs = append(msgs, "SSL certificate verification is required for the OAuth2 password grant: the user's password is sent to the token URL.")
		}
	}
	if !c.VerifySSL && !(c.SchemeType == SchemeOAuth2 && c.OAuth2 != nil && c.OAuth2.Grant != nil && *c.OAuth2.Grant == GrantPassword) {
		msgs = append(msgs, "SSL certificate verification is off: credentials sent with this scheme can be intercepted.")
	}
	return msgs
}

func grantWords(g OAuth2Grant) string {
	return strings.ToLower(strings.ReplaceAll(string(g), "_", " "))
}

// ValidateAuthSchemeConfigs normalizes a list of configs and checks that ids are unique.
func ValidateAuthSchemeConfigs(field string, configs []AuthSchemeConfig) error {
	if len(configs) > MaxAuthSchemeConfigs {
		return Invalid(field, "at most %d auth scheme configs", MaxAuthSchemeConfigs)
	}
	seen := make(map[string]int, len(configs))
	for i := range configs {
		prefix := fmt.Sprintf("%s[%d]", field, i)
		if err := configs[i].Normalize(); err != nil {
			return WithFieldPrefix(prefix, err)
		}
		key := NameKey(configs[i].Key)
		if j, dup := seen[key]; dup {
			return Invalid(prefix+".id", "%s", alreadyUsed(configs[i].Key, configs[j].Key, "id", fmt.Sprintf("%s[%d]", field, j)))
		}
		seen[key] = i
	}
	return nil
}

// ConfigIDTaken refuses id as the key of configs[except] (or of a new config, with except -1)
// when another config's key counts as the same (NameKey), or when it is another config's
// global id, which a key would shadow: BAD_USER_INPUT on id, saying which.
func ConfigIDTaken(configs []AuthSchemeConfig, except int, id string) error {
	key := NameKey(id)
	for i, c := range configs {
		switch {
		case i == except:
		case c.GlobalID != "" && c.GlobalID == id:
			return Invalid("id", "%q is the global id of the auth scheme config %q; a key cannot take another config's id", id, c.Key)
		case NameKey(c.Key) == key:
			return Invalid("id", "%s", alreadyUsed(id, c.Key, "id", "an auth scheme config of this connector"))
		}
	}
	return nil
}

// ReorderAuthSchemeConfigs returns configs in the order of refs (keys or global ids), which
// must name exactly the existing configs: the list only reorders, it never creates or deletes.
func ReorderAuthSchemeConfigs(configs []AuthSchemeConfig, refs []string) ([]AuthSchemeConfig, error) {
	const field = "authSchemeConfigIDs"
	out := make([]AuthSchemeConfig, 0, len(refs))
	used := make([]bool, len(configs))
	for i, ref := range refs {
		j := FindAuthSchemeConfig(configs, ref)
		switch {
		case j < 0:
			return nil, Invalid(fmt.Sprintf("%s[%d]", field, i), "%q is not an auth scheme config of this connector; use createAuthSchemeConfig to add one", ref)
		case used[j]:
			return nil, Invalid(fmt.Sprintf("%s[%d]", field, i), "%q is listed twice", ref)
		}
		used[j] = true
		out = append(out, configs[j])
	}
	if len(out) != len(configs) {
		for j, c := range configs {
			if !used[j] {
				return nil, Invalid(field, "must list every existing config; %q is missing (use deleteAuthSchemeConfig to remove one)", c.Key)
			}
		}
	}
	return out, nil
}

// FindAuthSchemeConfig returns the index of the config ref names, or -1: ref is matched
// against the keys first (exactly, as lookups are), then against the global ids, so the
// client-chosen keys of the seed keep working wherever a config is named.
func FindAuthSchemeConfig(configs []AuthSchemeConfig, ref string) int {
	for i, c := range configs {
		if c.Key == ref {
			return i
		}
	}
	for i, c := range configs {
		if c.GlobalID != "" && c.GlobalID == ref {
			return i
		}
	}
	return -1
}

// ConfigGlobalID is the global id of a connector's config with the given token: the
// connector's id and the token. Holding the connector's id lets a node lookup find the config
// with one read of its connector, where a bare id would need a search of every connector's
// configs.
func ConfigGlobalID(connectorID, token string) string {
	return connectorID + "." + token
}

// ConnectorOfConfigGlobalID returns the connector id a config's global id holds, if id has
// the form of one.
func ConnectorOfConfigGlobalID(id string) (string, bool) {
	connectorID, token, ok := strings.Cut(id, ".")
	if !ok || len(connectorID) != 36 || len(token) != configTokenLength || strings.Count(connectorID, "-") != 4 {
		return "", false
	}
	return connectorID, true
}

// configTokenLength is the length of the token of a config's global id: 16 hex digits.
const configTokenLength = 16

// NewConfigToken is a fresh random token for a new config's global id.
func NewConfigToken() string {
	var b [configTokenLength / 2]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// FillConfigGlobalIDs gives each config of a connector that has no global id one: configs
// stored before global ids existed get one derived from the connector and their key, the
// same on every read until a write of the connector stores it (every write stores all its
// configs), after which a rename keeps it.
func FillConfigGlobalIDs(connectorID string, configs []AuthSchemeConfig) {
	for i := range configs {
		if configs[i].GlobalID == "" {
			sum := sha256.Sum256([]byte(connectorID + "\x00" + configs[i].Key))
			configs[i].GlobalID = ConfigGlobalID(connectorID, hex.EncodeToString(sum[:])[:configTokenLength])
		}
	}
}

// NewConfigGlobalIDs gives the new configs of a connector (without a global id) fresh ones:
// a derived id could repeat that of an earlier config renamed away from the same key.
func NewConfigGlobalIDs(connectorID string, configs []AuthSchemeConfig) {
	for i := range configs {
		if configs[i].GlobalID == "" {
			configs[i].GlobalID = ConfigGlobalID(connectorID, NewConfigToken())
		}
	}
}
