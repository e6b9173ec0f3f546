// Package importer reads API descriptions (OpenAPI 3.0 and 3.1, Postman collections v2.1)
// into what a connector version holds: actions, auth scheme configs, a base URL and default
// variables. What it cannot map it reports as warnings, never silently.
package importer

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/plugboard/plugboard/internal/domain"
)

// maxWarnings bounds the warnings of one import: a description with thousands of cookie
// parameters should not answer with thousands of lines.
const maxWarnings = 200

// builder collects the result of one import.
type builder struct {
	doc      domain.ImportedDocument
	names    map[string]bool
	warnings []string
	dropped  int
}

func newBuilder() *builder { return &builder{names: map[string]bool{}} }

func (b *builder) warn(format string, args ...any) {
	if len(b.warnings) >= maxWarnings {
		b.dropped++
		return
	}
	b.warnings = append(b.warnings, fmt.Sprintf(format, args...))
}

func (b *builder) result() (*domain.ImportedDocument, error) {
	if len(b.doc.Actions) > domain.MaxActions {
		return nil, domain.LimitExceeded("document", "the document has %d operations; a version holds at most %d actions", len(b.doc.Actions), domain.MaxActions)
	}
	// Every string the document gave passes here: a \u0000 escape in the document is a NUL
	// once parsed, which PostgreSQL refuses and SQLite would store.
	for _, a := range b.doc.Actions {
		if err := domain.CheckTextIn("document", fmt.Sprintf("operation %q", a.Key), a); err != nil {
			return nil, err
		}
	}
	if err := domain.CheckTextIn("document", "", struct {
		SecuritySchemes []domain.AuthSchemeConfig `json:"securitySchemes"`
		BaseURL         *string                   `json:"server"`
		Variables       []domain.Variable         `json:"variables"`
	}{b.doc.Configs, b.doc.BaseURL, b.doc.Variables}); err != nil {
		return nil, err
	}
	if b.dropped > 0 {
		b.warnings = append(b.warnings, fmt.Sprintf("and %d more warnings", b.dropped))
	}
	b.doc.Warnings = b.warnings
	if b.doc.Warnings == nil {
		b.doc.Warnings = []string{}
	}
	return &b.doc, nil
}

// addAction gives the action a name no other action of the document has (compared as the
// version compares names) and keeps it.
func (b *builder) addAction(key string, a domain.HTTPAction) {
	full := oneLine(a.Name)
	if full == "" {
		full = string(a.Method) + " " + a.Path
	}
	a.Name = clip(full, domain.MaxActionNameLength)
	if a.Name != full {
		b.warn("%s: the name was cut to %d characters (from %d)", a.Name, domain.MaxActionNameLength, utf8.RuneCountInString(full))
	}
	name := a.Name
	for n := 2; b.names[domain.NameKey(name)]; n++ {
		suffix := fmt.Sprintf(" (%d)", n)
		name = clip(a.Name, domain.MaxActionNameLength-utf8.RuneCountInString(suffix)) + suffix
	}
	if name != a.Name {
		b.warn("%s (%s) was named %q: another operation has a name that compares equal to %q", a.Name, key, name, a.Name)
	}
	a.Name = name
	if a.Headers == nil {
		a.Headers = []domain.HTTPHeader{}
	}
	if a.Description != nil {
		whole := strings.TrimSpace(*a.Description)
		d := clip(whole, domain.MaxDescriptionLength)
		if d != whole {
			b.warn("%s: the description was cut to %d characters (from %d)", a.Name, domain.MaxDescriptionLength, utf8.RuneCountInString(whole))
		}
		a.Description = &d
		if d == "" {
			a.Description = nil
		}
	}
	if a.BodyTemplate != nil && len(*a.BodyTemplate) > domain.MaxTemplateBytes {
		b.warn("%s: the request body template is larger than %d bytes and was left out", a.Name, domain.MaxTemplateBytes)
		a.BodyTemplate = nil
	}
	if a.SampleRequestData != nil && len(*a.SampleRequestData) > domain.MaxTemplateBytes {
		b.warn("%s: the sample request data is larger than %d bytes and was left out", a.Name, domain.MaxTemplateBytes)
		a.SampleRequestData = nil
	}
	// An operation the version would refuse (a header name with a space, a path too long) is
	// left out with the reason, instead of failing the whole import.
	one := domain.VersionInput{Name: "import", Actions: []domain.HTTPAction{a}}
	if err := one.Validate(); err != nil {
		b.warn("%s (%s) was left out: %v", a.Name, key, err)
		return
	}
	b.names[domain.NameKey(name)] = true
	b.doc.Actions = append(b.doc.Actions, domain.ImportedAction{Key: key, Action: one.Actions[0]})
}

// addConfig keeps a config the document describes, when it is valid.
func (b *builder) addConfig(c domain.AuthSchemeConfig) {
	c.VerifySSL = true
	if err := c.Normalize(); err != nil {
		b.warn("security scheme %q could not be mapped: %v", c.Key, err)
		return
	}
	for _, have := range b.doc.Configs {
		if have.Key == c.Key {
			return
		}
	}
	b.doc.Configs = append(b.doc.Configs, c)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// clip cuts s to at most n characters.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

var notPlaceholderChar = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

// placeholderName turns a parameter name into a placeholder name ({{name}} takes letters,
// digits, '_', '.', '-', and starts with a letter or '_').
func placeholderName(name string) string {
	n := notPlaceholderChar.ReplaceAllString(name, "_")
	if n == "" || !(n[0] == '_' || n[0] >= 'A' && n[0] <= 'Z' || n[0] >= 'a' && n[0] <= 'z') {
		n = "_" + n
	}
	return n
}

var configKeyChar = regexp.MustCompile(`[^A-Za-z0-9_.:-]`)

// configKey turns a scheme name into a config key (1–64 letters, digits, '_', '.', ':', '-').
func configKey(name string) string {
	k := configKeyChar.ReplaceAllString(name, "_")
	if k == "" {
		k = "auth"
	}
	return clip(k, 64)
}

// purposeOf guesses an action's purpose from its method and path, in the Data Connectors
// document's words.
func purposeOf(method domain.HTTPMethod, path string) string {
	switch method {
	case domain.MethodPost:
		return "Create"
	case domain.MethodPut, domain.MethodPatch:
		return "Update"
	case domain.MethodDelete:
		return "Delete"
	}
	if strings.HasSuffix(strings.TrimSuffix(strings.SplitN(path, "?", 2)[0], "/"), "}}") {
		return "Read"
	}
	return "List"
}

func jsonText(v any) (string, bool) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", false
	}
	return string(b), true
}

func ptr[T any](v T) *T { return &v }

func asError[T error](err error, target *T) bool { return errors.As(err, target) }
