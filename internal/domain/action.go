package domain

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ActionResult is what came back from an HTTP action performed through Plugboard. A call that
// could not be made or failed is a result with OK false and Error set, not an API error.
type ActionResult struct {
	OK            bool
	Status        *int
	Headers       []HTTPHeader
	Body          *string
	BodyTruncated bool
	DurationMs    int
	Error         *string
	Action        string
	Version       string
	// Attempts counts the requests sent (retries included).
	Attempts int
}

// OAuthToken is an access token fetched for an OAuth2 credential.
type OAuthToken struct {
	AccessToken  string    `json:"accessToken"`
	TokenType    string    `json:"tokenType,omitempty"`
	RefreshToken string    `json:"refreshToken,omitempty"`
	Expiry       time.Time `json:"expiry"`
}

// ActionCredential is a credential ready to be applied: its config, decrypted values and the
// cached access token. It must never reach a response or a log.
type ActionCredential struct {
	ID     string
	Config AuthSchemeConfig
	Values []Variable
	Token  *OAuthToken
}

// Value returns the credential value of field, or "".
func (c *ActionCredential) Value(field string) string {
	v, _ := lookup(c.Values, field)
	return v
}

// ActionContext is everything needed to perform an action of a connection.
type ActionContext struct {
	Connector   *Connector
	Connection  *Connection
	Version     *ConnectorVersion
	Credentials []ActionCredential
}

// ActionStore loads what an outbound call needs and keeps OAuth2 tokens.
type ActionStore interface {
	// LoadActionContext resolves the version (versionName, else the connection's pin, else the
	// connector's default) and the connection's ACTION credentials, decrypted.
	LoadActionContext(ctx context.Context, orgID, connectionID string, versionName *string) (*ActionContext, error)
	// LockCredentialToken runs fetch with the credential's token locked: one fetch per
	// credential at a time, across replicas on PostgreSQL. fetch gets the token stored now
	// (another caller may just have refreshed it) and returns the token to keep.
	LockCredentialToken(ctx context.Context, orgID, credentialID string, fetch func(current *OAuthToken) (*OAuthToken, error)) (*OAuthToken, error)
}

var placeholder = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)(\?)?\s*\}\}`)

// ExpandTemplate replaces {{name}} placeholders with values from lookup, passed through escape
// (the encoding of the place they go: a path segment, a query value, a JSON string). It
// returns the names that have no value, sorted, instead of guessing. An optional placeholder,
// {{name?}}, without a value becomes empty (see OptionalUnset for where it drops more).
func ExpandTemplate(tmpl string, lookup func(name string) (string, bool), escape func(string) string) (string, []string) {
	missing := map[string]bool{}
	out := placeholder.ReplaceAllStringFunc(tmpl, func(m string) string {
		sub := placeholder.FindStringSubmatch(m)
		name := sub[1]
		v, ok := lookup(name)
		if !ok {
			if sub[2] != "" {
				return ""
			}
			missing[name] = true
			return m
		}
		if escape != nil {
			v = escape(v)
		}
		return v
	})
	names := make([]string, 0, len(missing))
	for n := range missing {
		names = append(names, n)
	}
	sort.Strings(names)
	return out, names
}

// OptionalUnset tells whether tmpl uses an optional placeholder, {{name?}}, that lookup has no
// value for: a query parameter or header made of such a template is left out of the request.
func OptionalUnset(tmpl string, lookup func(name string) (string, bool)) bool {
	if !strings.Contains(tmpl, "?") {
		return false
	}
	for _, m := range placeholder.FindAllStringSubmatch(tmpl, -1) {
		if m[2] != "" {
			if _, ok := lookup(m[1]); !ok {
				return true
			}
		}
	}
	return false
}

// hasOptionalPlaceholder tells whether tmpl uses a {{name?}}.
func hasOptionalPlaceholder(tmpl string) bool {
	for _, m := range placeholder.FindAllStringSubmatch(tmpl, -1) {
		if m[2] != "" {
			return true
		}
	}
	return false
}

// ActionInput reads executeAction's input: a JSON object of strings, numbers and booleans
// (numbers and booleans are used as their JSON text).
func ActionInput(input map[string]any) (map[string]string, error) {
	out := make(map[string]string, len(input))
	for k, v := range input {
		switch v := v.(type) {
		case string:
			out[k] = v
		case bool:
			out[k] = strconv.FormatBool(v)
		case json.Number:
			out[k] = v.String()
		case int:
			out[k] = strconv.Itoa(v)
		case int64:
			out[k] = strconv.FormatInt(v, 10)
		case float64:
			out[k] = strconv.FormatFloat(v, 'f', -1, 64)
		case nil:
			// null is no value: an optional placeholder's parameter is left out, a required
			// placeholder is missing (unless a connection variable fills it).
			continue
		default:
			return nil, Invalid("input", "the value of %q is nested: only strings, numbers and booleans are allowed", k)
		}
	}
	return out, nil
}

// MissingPlaceholders is the BAD_USER_INPUT error for placeholders without a value.
func MissingPlaceholders(names []string) error {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = fmt.Sprintf("{{%s}}", n)
	}
	return Invalid("input", "no value for %s: give it in input or as a connection variable", strings.Join(quoted, ", "))
}
