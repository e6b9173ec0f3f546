package domain

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// The reserved version aliases.
const (
	VersionLatest  = "latest"
	VersionDefault = "default"
)

// IsReservedVersionName tells whether name is one of the aliases, in any letter case, with
// any surrounding space, and in any look-alike form (NameKey).
func IsReservedVersionName(name string) bool {
	n := NameKey(name)
	return n == VersionLatest || n == VersionDefault
}

var versionNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$`)

// ValidateVersionName checks a version name: SemVer, CalVer, a counter… 1–64 letters, digits,
// '.', '_', '+' or '-', starting with a letter or digit, and not an alias.
func ValidateVersionName(field, name string) error {
	if IsReservedVersionName(name) {
		return Invalid(field, "%q is reserved: \"latest\" and \"default\" name the aliases, not a version", strings.TrimSpace(name))
	}
	if !versionNamePattern.MatchString(name) {
		return Invalid(field, "must be 1–64 letters, digits, '.', '_', '+' or '-', starting with a letter or digit (such as 1.2.0 or 2026-11)")
	}
	return nil
}

// HTTPMethod is the method of an HTTP action.
type HTTPMethod string

// The HTTP methods an action may use.
const (
	MethodGet    HTTPMethod = "GET"
	MethodPost   HTTPMethod = "POST"
	MethodPut    HTTPMethod = "PUT"
	MethodPatch  HTTPMethod = "PATCH"
	MethodDelete HTTPMethod = "DELETE"
)

// DefaultPurpose is an action's purpose when none is given, as in the Data Connectors document.
const DefaultPurpose = "List"

// Limits on versions.
const (
	MaxActions          = 2000
	MaxHeaders          = 50
	MaxTemplateBytes    = 65536
	MaxActionNameLength = 128
)

// ConnectorVersion is a named set of HTTP actions. A draft is editable; publishing makes it
// immutable.
type ConnectorVersion struct {
	ID          string
	ConnectorID string
	Name        string
	Description *string
	Actions     []HTTPAction
	IsLatest    bool
	IsDefault   bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
	PublishedAt *time.Time
	// OutboundPolicy is nil when the version asks for neither retries nor a budget.
	OutboundPolicy *OutboundPolicy
}

// IsPublished tells whether the version is published (and so immutable).
func (v *ConnectorVersion) IsPublished() bool { return v.PublishedAt != nil }

// HTTPAction is one request a version offers.
type HTTPAction struct {
	Name        string       `json:"name"`
	Purpose     string       `json:"purpose"`
	Description *string      `json:"description,omitempty"`
	Method      HTTPMethod   `json:"method"`
	Path        string       `json:"path"`
	Headers     []HTTPHeader `json:"headers"`
	// BodyTemplate is the request body, with {{name}} placeholders.
	BodyTemplate *string `json:"bodyTemplate,omitempty"`
	// SampleRequestData is example input for the placeholders, as a JSON document.
	SampleRequestData *string `json:"sampleRequestData,omitempty"`
}

// HTTPHeader is a request header of an action.
type HTTPHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// VersionInput is the content of a version: createVersion's input, and updateVersion's full
// replacement.
type VersionInput struct {
	Name        string
	Description *string
	Actions     []HTTPAction
	// OutboundPolicyInput as given; Validate fills OutboundPolicy from it (nil: none).
	OutboundPolicyInput *OutboundPolicyInput
	OutboundPolicy      *OutboundPolicy
	// Triggers as given; the store checks them against the connector's configs
	// (ValidateTriggers). Nil clears them, as the full-replace rule says.
	Triggers []TriggerInput
}

// Validate normalizes and checks a version's content.
func (in *VersionInput) Validate() error {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return Invalid("name", "is required")
	}
	if err := ValidateVersionName("name", in.Name); err != nil {
		return err
	}
	if err := normalizeDescription(&in.Description); err != nil {
		return err
	}
	if len(in.Actions) > MaxActions {
		return Invalid("actions", "at most %d actions", MaxActions)
	}
	seen := map[string]int{}
	for i := range in.Actions {
		prefix := fmt.Sprintf("actions[%d]", i)
		if err := in.Actions[i].normalize(); err != nil {
			return WithFieldPrefix(prefix, err)
		}
		key := NameKey(in.Actions[i].Name)
		if j, dup := seen[key]; dup {
			return Invalid(prefix+".name", "%s", alreadyUsed(in.Actions[i].Name, in.Actions[j].Name, "name", fmt.Sprintf("actions[%d]", j)))
		}
		seen[key] = i
	}
	if in.Actions == nil {
		in.Actions = []HTTPAction{}
	}
	policy, err := in.OutboundPolicyInput.Policy()
	if err != nil {
		return WithFieldPrefix("outboundPolicy", err)
	}
	in.OutboundPolicy = policy
	return nil
}

func (a *HTTPAction) normalize() error {
	a.Name = strings.TrimSpace(a.Name)
	if a.Name == "" || utf8.RuneCountInString(a.Name) > MaxActionNameLength || strings.ContainsAny(a.Name, "\r\n\t") {
		return Invalid("name", "must be 1–%d characters on one line", MaxActionNameLength)
	}
	a.Purpose = strings.TrimSpace(a.Purpose)
	if a.Purpose == "" {
		a.Purpose = DefaultPurpose
	}
	if utf8.RuneCountInString(a.Purpose) > MaxNameLength {
		return Invalid("purpose", "must be at most %d characters", MaxNameLength)
	}
	if err := normalizeDescription(&a.Description); err != nil {
		return err
	}
	switch a.Method {
	case MethodGet, MethodPost, MethodPut, MethodPatch, MethodDelete:
	case "":
		return Invalid("method", "is required")
	default:
		return Invalid("method", "must be GET, POST, PUT, PATCH or DELETE")
	}
	if err := validateActionPath(a.Path); err != nil {
		return err
	}
	if len(a.Headers) > MaxHeaders {
		return Invalid("headers", "at most %d headers", MaxHeaders)
	}
	for i, h := range a.Headers {
		if !tokenPattern.MatchString(h.Name) {
			return Invalid(fmt.Sprintf("headers[%d].name", i), "must be a valid header name")
		}
		if strings.ContainsAny(h.Value, "\r\n\x00") || len(h.Value) > MaxURLLength*4 {
			return Invalid(fmt.Sprintf("headers[%d].value", i), "must be one line of at most %d bytes", MaxURLLength*4)
		}
	}
	if a.Headers == nil {
		a.Headers = []HTTPHeader{}
	}
	if a.BodyTemplate != nil && len(*a.BodyTemplate) > MaxTemplateBytes {
		return Invalid("bodyTemplate", "must be at most %d bytes", MaxTemplateBytes)
	}
	if a.BodyTemplate != nil && hasOptionalPlaceholder(*a.BodyTemplate) {
		// Left out, an optional value would leave a body with a hole in it ("name": "").
		return Invalid("bodyTemplate", "optional placeholders ({{name?}}) are for query parameters and headers, not the body")
	}
	a.SampleRequestData = trimOptional(a.SampleRequestData)
	if s := a.SampleRequestData; s != nil {
		if len(*s) > MaxTemplateBytes {
			return Invalid("sampleRequestData", "must be at most %d bytes", MaxTemplateBytes)
		}
		if !json.Valid([]byte(*s)) {
			return Invalid("sampleRequestData", "must be a JSON document")
		}
	}
	return nil
}

// validateActionPath accepts a path (with query) relative to the connector's baseURL; an
// absolute URL would let an action reach another host with the connection's credentials.
func validateActionPath(p string) error {
	if strings.TrimSpace(p) != p || p == "" {
		return Invalid("path", "is required, without surrounding spaces")
	}
	if len(p) > MaxURLLength {
		return Invalid("path", "must be at most %d characters", MaxURLLength)
	}
	if strings.HasPrefix(p, "//") || strings.ContainsAny(p, " \r\n\t\\") {
		return Invalid("path", "must be a path relative to the connector's baseURL, such as /users/{{id}}")
	}
	if i := strings.Index(p, "?"); i >= 0 && strings.Count(p[:i], "{{") != strings.Count(p[:i], "}}") {
		return Invalid("path", "optional placeholders ({{name?}}) are for query parameters and headers, not the path")
	}
	u, err := url.Parse(strings.NewReplacer("{{", "", "}}", "").Replace(p))
	if err != nil || u.Scheme != "" || u.Host != "" {
		return Invalid("path", "must be a path relative to the connector's baseURL, such as /users/{{id}}, not an absolute URL")
	}
	return nil
}

// VersionEdge is a version with its cursor.
type VersionEdge struct {
	Cursor string
	Node   *ConnectorVersion
}

// VersionPage is one page of a connector's versions, newest first.
type VersionPage struct {
	Edges       []VersionEdge
	PageInfo    PageInfo
	ConnectorID string
}

// Nodes returns the page's versions without their cursors.
func (p *VersionPage) Nodes() []*ConnectorVersion {
	return nodesOf(p.Edges, func(e VersionEdge) *ConnectorVersion { return e.Node })
}
