package importer

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/plugboard/plugboard/internal/domain"
)

// The parts of a Postman collection (v2.1) an import reads.
type postmanCollection struct {
	Info struct {
		Name   string `json:"name"`
		Schema string `json:"schema"`
	} `json:"info"`
	Item     []postmanItem     `json:"item"`
	Auth     *postmanAuth      `json:"auth"`
	Variable []postmanKeyValue `json:"variable"`
}

type postmanItem struct {
	ID      string          `json:"id"`
	Name    string          `json:"name"`
	Item    []postmanItem   `json:"item"`
	Request json.RawMessage `json:"request"`
	// Auth of a folder applies to the requests inside it, like a collection's.
	Auth *postmanAuth `json:"auth"`
}

type postmanRequest struct {
	Method      string            `json:"method"`
	Header      []postmanKeyValue `json:"header"`
	URL         json.RawMessage   `json:"url"`
	Body        *postmanBody      `json:"body"`
	Auth        *postmanAuth      `json:"auth"`
	Description json.RawMessage   `json:"description"`
}

type postmanURL struct {
	Raw   string            `json:"raw"`
	Query []postmanKeyValue `json:"query"`
}

type postmanBody struct {
	Mode       string            `json:"mode"`
	Raw        string            `json:"raw"`
	URLEncoded []postmanKeyValue `json:"urlencoded"`
	Options    struct {
		Raw struct {
			Language string `json:"language"`
		} `json:"raw"`
	} `json:"options"`
}

type postmanKeyValue struct {
	Key      string `json:"key"`
	Value    any    `json:"value"`
	Disabled bool   `json:"disabled"`
}

func (kv postmanKeyValue) text() string {
	switch v := kv.Value.(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		s, _ := jsonText(v)
		return s
	}
}

type postmanAuth struct {
	Type   string
	APIKey []postmanKeyValue
	OAuth2 []postmanKeyValue
	// Params are the settings of every type the auth holds (basic, bearer, digest...), for
	// finding the variables that carry a credential.
	Params map[string][]postmanKeyValue
}

func (a *postmanAuth) UnmarshalJSON(data []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return err
	}
	_ = json.Unmarshal(fields["type"], &a.Type)
	a.Params = map[string][]postmanKeyValue{}
	for name, raw := range fields {
		var list []postmanKeyValue
		if name != "type" && json.Unmarshal(raw, &list) == nil {
			a.Params[name] = list
		}
	}
	a.APIKey, a.OAuth2 = a.Params["apikey"], a.Params["oauth2"]
	return nil
}

// notCredentials are the auth settings that say how to authenticate, not with what: a
// variable they use may be a default variable; one any other setting uses carries a secret.
var notCredentials = map[string]bool{
	"in": true, "key": true, "grant_type": true, "scope": true, "accessTokenUrl": true, "authUrl": true,
	"redirect_uri": true, "addTokenTo": true, "headerPrefix": true, "tokenName": true, "client_authentication": true,
	"tokenType": true, "challengeAlgorithm": true, "useBrowser": true, "audience": true, "resource": true, "state": true,
}

func authValue(list []postmanKeyValue, key string) string {
	for _, kv := range list {
		if kv.Key == key {
			return kv.text()
		}
	}
	return ""
}

// Postman reads a Postman collection v2.1 (JSON): folders flatten into action names
// ("Folder / Request"), {{variables}} stay placeholders, :name path variables become
// placeholders, collection variables become default connection variables, and auth settings
// become configs (never their secret values).
func Postman(data []byte) (*domain.ImportedDocument, error) {
	if len(data) > domain.MaxImportDocumentBytes {
		return nil, domain.LimitExceeded("document", "the document is larger than %d bytes", domain.MaxImportDocumentBytes)
	}
	var c postmanCollection
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, domain.Invalid("document", "not a valid Postman collection: %s", jsonErrorWithLine(data, err))
	}
	if !strings.Contains(c.Info.Schema, "v2.1") && !strings.Contains(c.Info.Schema, "v2.0") {
		return nil, domain.Invalid("document", "not a Postman collection v2.1: info.schema is %q", c.Info.Schema)
	}
	b := newBuilder()
	p := postmanImport{b: b, vars: map[string]string{}, credentials: map[string]bool{}}
	for _, v := range c.Variable {
		p.vars[v.Key] = v.text()
	}
	p.auth(c.Auth)
	p.items(nil, c.Item)
	for _, v := range c.Variable {
		if p.credentials[v.Key] {
			// A document never holds a secret, and default variables are copied into every
			// connection and shown in documents.
			b.warn("collection variable %q was skipped: auth settings use it as a credential; set the credential on each connection instead", v.Key)
			continue
		}
		if err := domain.ValidateVariableName("name", v.Key); err != nil {
			b.warn("collection variable %q was skipped: a variable name is letters, digits and '_', not starting with a digit", v.Key)
			continue
		}
		b.doc.Variables = append(b.doc.Variables, domain.Variable{Name: v.Key, Value: v.text()})
	}
	if b.doc.BaseURL == nil {
		b.warn("no request URL gave an absolute base URL: set the connector's baseURL by hand")
	}
	return b.result()
}

// jsonErrorWithLine adds the line and column to a JSON syntax error.
func jsonErrorWithLine(data []byte, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	offset := int64(-1)
	switch {
	case asError(err, &se):
		offset = se.Offset
	case asError(err, &te):
		offset = te.Offset
	}
	if offset < 0 || offset > int64(len(data)) {
		return err.Error()
	}
	line := 1 + strings.Count(string(data[:offset]), "\n")
	col := offset - int64(strings.LastIndex(string(data[:offset]), "\n"))
	return fmt.Sprintf("%s (line %d, column %d)", err, line, col)
}

type postmanImport struct {
	b    *builder
	vars map[string]string
	// base is the scheme and host every request is relative to, once the first gave it.
	base string
	// credentials are the variables auth settings use for a secret.
	credentials map[string]bool
}

func (p *postmanImport) items(folders []string, items []postmanItem) {
	for _, it := range items {
		path := append(append([]string(nil), folders...), strings.TrimSpace(it.Name))
		if len(it.Item) > 0 || len(it.Request) == 0 {
			p.auth(it.Auth)
			p.items(path, it.Item)
			continue
		}
		p.request(strings.Join(path, " / "), it)
	}
}

func (p *postmanImport) request(name string, it postmanItem) {
	var r postmanRequest
	if len(it.Request) > 0 && it.Request[0] == '"' {
		var raw string
		_ = json.Unmarshal(it.Request, &raw)
		r.Method, r.URL = "GET", json.RawMessage(it.Request)
	} else if err := json.Unmarshal(it.Request, &r); err != nil {
		p.b.warn("%s: the request could not be read and was skipped", name)
		return
	}
	method := domain.HTTPMethod(strings.ToUpper(strings.TrimSpace(r.Method)))
	if method == "" {
		method = domain.MethodGet
	}
	switch method {
	case domain.MethodGet, domain.MethodPost, domain.MethodPut, domain.MethodPatch, domain.MethodDelete:
	default:
		p.b.warn("%s: the %s method is not supported for actions; skipped", name, method)
		return
	}
	raw := p.rawURL(r.URL)
	path, ok := p.relative(name, raw)
	if !ok {
		return
	}
	a := domain.HTTPAction{Name: name, Method: method, Path: path, Purpose: purposeOf(method, path)}
	if d := descriptionText(r.Description); d != "" {
		a.Description = &d
	}
	for _, h := range r.Header {
		if h.Disabled || strings.EqualFold(h.Key, "authorization") {
			continue
		}
		if len(a.Headers) >= domain.MaxHeaders {
			break
		}
		a.Headers = append(a.Headers, domain.HTTPHeader{Name: h.Key, Value: placeholders(h.text())})
	}
	if r.Body != nil {
		p.body(name, &a, r.Body)
	}
	p.auth(r.Auth)
	key := fmt.Sprintf("%s %s", method, path)
	if it.ID != "" {
		key = "postman:" + it.ID
	}
	p.b.addAction(key, a)
}

func descriptionText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var d struct {
		Content string `json:"content"`
	}
	_ = json.Unmarshal(raw, &d)
	return d.Content
}

func (p *postmanImport) rawURL(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var u postmanURL
	_ = json.Unmarshal(raw, &u)
	if len(u.Query) == 0 {
		return u.Raw
	}
	// The query list says which parameters are disabled; raw may still hold them. Left
	// out like disabled headers.
	base, _, _ := strings.Cut(u.Raw, "?")
	var parts []string
	for _, q := range u.Query {
		if q.Disabled {
			continue
		}
		part := q.Key
		if q.Value != nil {
			part += "=" + q.text()
		}
		parts = append(parts, part)
	}
	if len(parts) == 0 {
		return base
	}
	return base + "?" + strings.Join(parts, "&")
}

var (
	leadingVariable = regexp.MustCompile(`^\{\{\s*([^{}\s]+)\s*\}\}`)
	pathVariable    = regexp.MustCompile(`(^|/):([A-Za-z_][A-Za-z0-9_]*)`)
	postmanVariable = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)
)

// placeholders keeps Postman's {{variables}} as placeholders, with names a placeholder can
// have.
func placeholders(s string) string {
	return postmanVariable.ReplaceAllStringFunc(s, func(m string) string {
		return "{{" + placeholderName(postmanVariable.FindStringSubmatch(m)[1]) + "}}"
	})
}

// relative splits a request URL into the connector's base (from the first request: a
// leading {{variable}} holding an absolute URL, or the URL's own scheme and host) and the
// action's path.
func (p *postmanImport) relative(name, raw string) (string, bool) {
	raw = strings.TrimSpace(raw)
	base, rest := "", raw
	if m := leadingVariable.FindStringSubmatch(raw); m != nil {
		if v, ok := p.vars[m[1]]; ok {
			if u, err := url.Parse(v); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
				base, rest = strings.TrimSuffix(v, "/"), raw[len(m[0]):]
			}
		}
		if base == "" {
			p.b.warn("%s: the URL starts with {{%s}}, which no collection variable sets to an absolute URL; skipped", name, m[1])
			return "", false
		}
	} else {
		if !strings.Contains(raw, "://") {
			raw = "https://" + raw
		}
		u, err := url.Parse(placeholdersOut(raw))
		if err != nil || u.Host == "" {
			p.b.warn("%s: the URL %q could not be read; skipped", name, raw)
			return "", false
		}
		base = u.Scheme + "://" + u.Host
		rest = raw[strings.Index(raw, "://")+3:]
		if i := strings.IndexAny(rest, "/?"); i >= 0 {
			rest = rest[i:]
		} else {
			rest = "/"
		}
	}
	if p.base == "" {
		p.base = base
		if err := domain.ValidateURL("baseURL", &base); err == nil {
			p.b.doc.BaseURL = ptr(base)
		}
	} else if base != p.base {
		p.b.warn("%s: the request goes to %s, not to the base URL %s; skipped", name, base, p.base)
		return "", false
	}
	if !strings.HasPrefix(rest, "/") {
		rest = "/" + rest
	}
	rest = pathVariable.ReplaceAllString(rest, "$1{{$2}}")
	return placeholders(rest), true
}

// placeholdersOut removes {{…}} so that a URL holding them parses.
func placeholdersOut(s string) string {
	return postmanVariable.ReplaceAllString(s, "x")
}

func (p *postmanImport) body(name string, a *domain.HTTPAction, body *postmanBody) {
	hasContentType := false
	for _, h := range a.Headers {
		hasContentType = hasContentType || strings.EqualFold(h.Name, "Content-Type")
	}
	switch body.Mode {
	case "raw":
		if body.Raw == "" {
			return
		}
		a.BodyTemplate = ptr(placeholders(body.Raw))
		if !hasContentType && body.Options.Raw.Language == "json" {
			a.Headers = append(a.Headers, domain.HTTPHeader{Name: "Content-Type", Value: "application/json"})
		}
		if json.Valid([]byte(body.Raw)) {
			a.SampleRequestData = ptr(body.Raw)
		}
	case "urlencoded":
		var parts []string
		for _, kv := range body.URLEncoded {
			if !kv.Disabled {
				parts = append(parts, url.QueryEscape(kv.Key)+"="+placeholders(kv.text()))
			}
		}
		a.BodyTemplate = ptr(strings.Join(parts, "&"))
		if !hasContentType {
			a.Headers = append(a.Headers, domain.HTTPHeader{Name: "Content-Type", Value: "application/x-www-form-urlencoded"})
		}
	case "":
	default:
		p.b.warn("%s: %s bodies are not supported; the action has no body", name, body.Mode)
	}
}

// auth makes a config of a collection's or request's auth settings; the values (passwords,
// tokens, keys) are secrets of a connection, and are never imported.
func (p *postmanImport) auth(a *postmanAuth) {
	if a == nil {
		return
	}
	for _, list := range a.Params {
		for _, kv := range list {
			if notCredentials[kv.Key] {
				continue
			}
			for _, m := range postmanVariable.FindAllStringSubmatch(kv.text(), -1) {
				p.credentials[m[1]] = true
			}
		}
	}
	if a.Type == "" || a.Type == "noauth" || a.Type == "inherit" {
		return
	}
	c := domain.AuthSchemeConfig{Key: configKey(a.Type)}
	switch a.Type {
	case "basic":
		c.SchemeType = domain.SchemeBasic
	case "bearer":
		c.SchemeType = domain.SchemeBearer
	case "apikey":
		in := domain.APIKeyInHeader
		if authValue(a.APIKey, "in") == "query" {
			in = domain.APIKeyInQuery
		}
		name := authValue(a.APIKey, "key")
		if name == "" {
			name = "X-API-Key"
		}
		c.SchemeType = domain.SchemeAPIKey
		c.APIKey = &domain.APIKeySettings{In: in, Name: &name}
	case "oauth2":
		s := &domain.OAuth2Settings{}
		switch authValue(a.OAuth2, "grant_type") {
		case "client_credentials":
			s.Grant = ptr(domain.GrantClientCredentials)
		case "password_credentials":
			s.Grant = ptr(domain.GrantPassword)
		case "authorization_code", "authorization_code_with_pkce", "":
			s.Grant = ptr(domain.GrantAuthorizationCode)
		default:
			p.b.warn("auth oauth2: the %s grant is not supported", authValue(a.OAuth2, "grant_type"))
			return
		}
		if u := authValue(a.OAuth2, "accessTokenUrl"); u != "" && !strings.Contains(u, "{{") {
			s.TokenURL = &u
		}
		if u := authValue(a.OAuth2, "authUrl"); u != "" && !strings.Contains(u, "{{") && *s.Grant == domain.GrantAuthorizationCode {
			s.AuthorizeURL = &u
		}
		s.Scopes = strings.Fields(authValue(a.OAuth2, "scope"))
		c.SchemeType = domain.SchemeOAuth2
		c.OAuth2 = s
	default:
		p.b.warn("auth %q is not supported (basic, bearer, apikey and oauth2 are)", a.Type)
		return
	}
	p.b.addConfig(c)
}
