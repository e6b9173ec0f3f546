package importer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/plugboard/plugboard/internal/domain"
)

// methods are the HTTP methods an action may use, in the order an import writes them.
var methods = []domain.HTTPMethod{domain.MethodGet, domain.MethodPost, domain.MethodPut, domain.MethodPatch, domain.MethodDelete}

// OpenAPI reads an OpenAPI 3.0 or 3.1 description, JSON or YAML. References inside the
// document are resolved; references to other files or URLs are never fetched: each is a
// warning, and what it stood for is left empty. An invalid document is BAD_USER_INPUT on
// "document" with the parser's message (which gives the line where it can).
func OpenAPI(ctx context.Context, data []byte) (*domain.ImportedDocument, error) {
	if len(data) > domain.MaxImportDocumentBytes {
		return nil, domain.LimitExceeded("document", "the document is larger than %d bytes", domain.MaxImportDocumentBytes)
	}
	b := newBuilder()
	if err := probeVersion(data); err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	loader.Context = ctx
	loader.IsExternalRefsAllowed = true
	external := map[string]bool{}
	loader.ReadFromURIFunc = func(_ *openapi3.Loader, location *url.URL) ([]byte, error) {
		if !external[location.String()] {
			external[location.String()] = true
			b.warn("the external reference %s was not fetched (imports never fetch): what it describes is left empty", location.Redacted())
		}
		return []byte("{}"), nil
	}
	doc, err := loadOpenAPI(loader, unlinkExternalRefs(b, data))
	if err != nil {
		return nil, domain.Invalid("document", "not a valid OpenAPI document: %s", clip(err.Error(), 1000))
	}
	// Parsing a large description takes seconds: once the request has ended, stop here.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if doc.Paths == nil || doc.Paths.Len() == 0 {
		b.warn("the document has no paths: no action was imported")
	}
	o := openAPIImport{b: b, doc: doc}
	o.servers()
	o.securitySchemes()
	o.paths()
	if len(doc.Webhooks) > 0 {
		b.warn("the document's %d webhooks were not imported: they describe calls the API makes, not actions", len(doc.Webhooks))
	}
	return b.result()
}

// loadOpenAPI parses with kin-openapi; a panic in the parser on a hostile document is an
// invalid document, not a crash.
func loadOpenAPI(loader *openapi3.Loader, data []byte) (doc *openapi3.T, err error) {
	defer func() {
		if cause := recover(); cause != nil {
			doc, err = nil, fmt.Errorf("the parser gave up: %v", cause)
		}
	}()
	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '{' {
		// A document that starts with { is JSON, and only JSON: read as YAML, a JSON syntax
		// error could pass (`"x": ,` is a null in YAML). JSON straight into the types, then
		// references: kin-openapi's LoadFromData parses everything as YAML first, several
		// times slower and larger on big descriptions.
		doc = &openapi3.T{}
		if err := doc.UnmarshalJSON(trimmed); err != nil {
			return nil, jsonError(trimmed, err)
		}
		if err := requiredFields(doc); err != nil {
			return nil, err
		}
		if err := loader.ResolveRefsIn(doc, nil); err != nil {
			return nil, err
		}
		return doc, nil
	}
	doc, err = loader.LoadFromData(data)
	if err != nil {
		return nil, err
	}
	if err := requiredFields(doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// requiredFields checks the top-level fields OpenAPI requires, which the parser leaves to a
// validation that is too strict for real descriptions.
func requiredFields(doc *openapi3.T) error {
	switch {
	case doc.OpenAPI == "":
		return errors.New("the openapi field is required")
	case doc.Info == nil:
		return errors.New("the info object is required")
	case doc.Info.Title == "" || doc.Info.Version == "":
		return errors.New("info.title and info.version are required")
	case doc.Paths == nil && len(doc.Webhooks) == 0 && doc.Components == nil:
		return errors.New("the paths object is required")
	}
	return nil
}

// jsonError says where a JSON document is wrong, by line and column: the parser's own error
// gives at most a byte offset.
func jsonError(data []byte, err error) error {
	var offset int64 = -1
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case asError(err, &syntax):
		offset = syntax.Offset
	case asError(err, &typ):
		offset = typ.Offset
	default:
		// The error may come from a value decoded apart from the whole: find a syntax error
		// of the whole document, if there is one, for its position.
		var raw json.RawMessage
		if e := json.Unmarshal(data, &raw); e != nil && asError(e, &syntax) {
			err, offset = e, syntax.Offset
		}
	}
	if offset < 0 || offset > int64(len(data)) {
		return fmt.Errorf("JSON: %w", err)
	}
	before := data[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	column := utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:])
	return fmt.Errorf("JSON at line %d, column %d: %w", line, max(column, 1), err)
}

var openAPIVersion = regexp.MustCompile(`(?m)(?:^|[{,\s])["']?(openapi|swagger)["']?\s*:\s*["']?([0-9][0-9.]*)`)

// externalRef finds $refs to other files or URLs (a value not starting with '#').
var externalRef = regexp.MustCompile(`(["']?)\$ref(["']?\s*:\s*)(["']?)([^"'#\s{}\[\],][^"'\s,}\]]*)`)

// unlinkExternalRefs renames every $ref to another file or URL to x-external-ref, so that
// the parser sees an empty object there instead of trying to read it; each is reported once.
func unlinkExternalRefs(b *builder, data []byte) []byte {
	if !hasExternalRef(data) {
		return data
	}
	seen := map[string]bool{}
	return externalRef.ReplaceAllFunc(data, func(m []byte) []byte {
		sub := externalRef.FindSubmatch(m)
		if ref := string(sub[4]); !seen[ref] {
			seen[ref] = true
			b.warn("the external reference %s was not fetched (imports never fetch): what it describes is left empty", ref)
		}
		return []byte(string(sub[1]) + "x-external-ref" + string(sub[2]) + string(sub[3]) + string(sub[4]))
	})
}

// hasExternalRef tells whether some $ref's value does not start with '#': a plain scan,
// since the regular expression over GitHub's 13 MB (thousands of local $refs) takes a second.
func hasExternalRef(data []byte) bool {
	for i := 0; ; {
		j := bytes.Index(data[i:], []byte("$ref"))
		if j < 0 {
			return false
		}
		k := i + j + len("$ref")
		for k < len(data) && (data[k] == '"' || data[k] == '\'' || data[k] == ':' || data[k] == ' ' || data[k] == '\t') {
			k++
		}
		if k < len(data) && data[k] != '#' {
			return true
		}
		i = k
	}
}

// probeVersion refuses what is not OpenAPI 3 before the whole document is parsed: a Swagger
// 2.0 file would otherwise load as an empty OpenAPI 3 document.
func probeVersion(data []byte) error {
	head := data[:min(len(data), 1<<16)]
	m := openAPIVersion.FindSubmatch(head)
	if m == nil {
		if bytes.Contains(data, []byte(`"openapi"`)) || bytes.Contains(data, []byte("openapi:")) {
			return nil // further down a large JSON object; the parser checks it
		}
		return domain.Invalid("document", "not an OpenAPI document: it has no openapi field giving its version (3.0 or 3.1)")
	}
	if string(m[1]) == "swagger" || !strings.HasPrefix(string(m[2]), "3.") {
		return domain.Invalid("document", "OpenAPI %s is not supported: import an OpenAPI 3.0 or 3.1 document (convert Swagger 2.0 first)", m[2])
	}
	return nil
}

type openAPIImport struct {
	b   *builder
	doc *openapi3.T
}

func (o *openAPIImport) servers() {
	if len(o.doc.Servers) == 0 {
		o.b.warn("the document names no server: set the connector's baseURL by hand")
		return
	}
	s := o.doc.Servers[0]
	u := s.URL
	for name, v := range s.Variables {
		if v != nil {
			u = strings.ReplaceAll(u, "{"+name+"}", v.Default)
		}
	}
	u = strings.TrimSuffix(u, "/")
	if err := domain.ValidateURL("baseURL", &u); err != nil || strings.Contains(u, "{") {
		o.b.warn("servers[0] (%s) is not an absolute http or https URL: set the connector's baseURL by hand", s.URL)
		return
	}
	o.b.doc.BaseURL = &u
	if len(o.doc.Servers) > 1 {
		o.b.warn("the document names %d servers; the first, %s, is the base URL", len(o.doc.Servers), u)
	}
}

func (o *openAPIImport) securitySchemes() {
	if o.doc.Components == nil {
		return
	}
	schemes := o.doc.Components.SecuritySchemes
	for _, name := range slices.Sorted(maps.Keys(schemes)) {
		ref := schemes[name]
		if ref == nil || ref.Value == nil {
			continue
		}
		s := ref.Value
		c := domain.AuthSchemeConfig{Key: configKey(name)}
		if d := strings.TrimSpace(s.Description); d != "" {
			d = clip(d, domain.MaxDescriptionLength)
			c.Description = &d
		}
		switch strings.ToLower(s.Type) {
		case "http":
			switch strings.ToLower(s.Scheme) {
			case "basic":
				c.SchemeType = domain.SchemeBasic
			case "bearer":
				c.SchemeType = domain.SchemeBearer
			default:
				o.b.warn("security scheme %q: HTTP %q authentication is not supported", name, s.Scheme)
				continue
			}
		case "apikey":
			in := domain.APIKeyInHeader
			switch strings.ToLower(s.In) {
			case "header":
			case "query":
				in = domain.APIKeyInQuery
			default:
				o.b.warn("security scheme %q: an API key in a %s is not supported (header or query only)", name, s.In)
				continue
			}
			c.SchemeType = domain.SchemeAPIKey
			c.APIKey = &domain.APIKeySettings{In: in, Name: ptr(s.Name)}
		case "oauth2":
			o.oauth2(name, s)
			continue
		default:
			o.b.warn("security scheme %q: type %q is not supported (only http basic and bearer, apiKey and oauth2)", name, s.Type)
			continue
		}
		o.b.addConfig(c)
	}
}

// oauth2 makes one config per supported flow: key NAME when the scheme has one flow,
// NAME-flow when it has several.
func (o *openAPIImport) oauth2(name string, s *openapi3.SecurityScheme) {
	if s.Flows == nil {
		o.b.warn("security scheme %q: OAuth2 without flows", name)
		return
	}
	type flow struct {
		suffix string
		grant  domain.OAuth2Grant
		f      *openapi3.OAuthFlow
	}
	var flows []flow
	for _, f := range []flow{
		{"authorizationCode", domain.GrantAuthorizationCode, s.Flows.AuthorizationCode},
		{"clientCredentials", domain.GrantClientCredentials, s.Flows.ClientCredentials},
		{"password", domain.GrantPassword, s.Flows.Password},
	} {
		if f.f != nil {
			flows = append(flows, f)
		}
	}
	if s.Flows.Implicit != nil {
		o.b.warn("security scheme %q: the OAuth2 implicit flow is not supported", name)
	}
	for _, f := range flows {
		key := name
		if len(flows) > 1 {
			key = name + "-" + f.suffix
		}
		settings := &domain.OAuth2Settings{Grant: ptr(f.grant), Scopes: slices.Sorted(maps.Keys(f.f.Scopes))}
		if f.f.TokenURL != "" {
			settings.TokenURL = ptr(f.f.TokenURL)
		}
		if f.f.AuthorizationURL != "" && f.grant == domain.GrantAuthorizationCode {
			settings.AuthorizeURL = ptr(f.f.AuthorizationURL)
		}
		c := domain.AuthSchemeConfig{Key: configKey(key), SchemeType: domain.SchemeOAuth2, OAuth2: settings}
		if d := strings.TrimSpace(s.Description); d != "" {
			d = clip(d, domain.MaxDescriptionLength)
			c.Description = &d
		}
		o.b.addConfig(c)
	}
}

var pathParam = regexp.MustCompile(`\{([^{}]+)\}`)

func (o *openAPIImport) paths() {
	if o.doc.Paths == nil {
		return
	}
	items := o.doc.Paths.Map()
	for _, path := range slices.Sorted(maps.Keys(items)) {
		item := items[path]
		if item == nil {
			continue
		}
		ops := item.Operations()
		for method := range ops {
			switch domain.HTTPMethod(strings.ToUpper(method)) {
			case domain.MethodGet, domain.MethodPost, domain.MethodPut, domain.MethodPatch, domain.MethodDelete:
			default:
				o.b.warn("%s %s: the %s method is not supported for actions", strings.ToUpper(method), path, strings.ToUpper(method))
			}
		}
		for _, m := range methods {
			op := ops[string(m)]
			if op == nil {
				continue
			}
			o.operation(path, m, item, op)
		}
	}
}

func (o *openAPIImport) operation(path string, method domain.HTTPMethod, item *openapi3.PathItem, op *openapi3.Operation) {
	where := fmt.Sprintf("%s %s", method, path)
	key := where
	if op.OperationID != "" {
		key = "operationId:" + op.OperationID
	}
	name := op.OperationID
	if name == "" {
		name = op.Summary
	}
	if name == "" {
		name = where
	}
	actionPath := pathParam.ReplaceAllStringFunc(path, func(m string) string {
		return "{{" + placeholderName(m[1:len(m)-1]) + "}}"
	})
	if !strings.HasPrefix(actionPath, "/") {
		actionPath = "/" + actionPath
	}
	a := domain.HTTPAction{Name: name, Method: method, Purpose: purposeOf(method, actionPath)}
	switch {
	case op.Summary != "" && op.Summary != name:
		a.Description = ptr(op.Summary)
	case op.Description != "":
		a.Description = ptr(op.Description)
	}
	// Operation parameters override path-item ones of the same name and place.
	params := map[string]*openapi3.Parameter{}
	var order []string
	for _, list := range []openapi3.Parameters{item.Parameters, op.Parameters} {
		for _, ref := range list {
			if ref == nil || ref.Value == nil {
				continue
			}
			p := ref.Value
			k := p.In + "\x00" + p.Name
			if _, ok := params[k]; !ok {
				order = append(order, k)
			}
			params[k] = p
		}
	}
	var query []string
	for _, k := range order {
		p := params[k]
		optional := ""
		if !p.Required {
			optional = "?"
		}
		ph := "{{" + placeholderName(p.Name) + optional + "}}"
		switch p.In {
		case openapi3.ParameterInPath:
		case openapi3.ParameterInQuery:
			query = append(query, url.QueryEscape(p.Name)+"="+ph)
		case openapi3.ParameterInHeader:
			switch strings.ToLower(p.Name) {
			case "accept", "content-type", "authorization":
				continue // set by the body, the connection's credentials or the caller
			}
			if len(a.Headers) < domain.MaxHeaders {
				a.Headers = append(a.Headers, domain.HTTPHeader{Name: p.Name, Value: ph})
			}
		default:
			o.b.warn("%s: the %s parameter %q is not supported and was left out", where, p.In, p.Name)
		}
	}
	if len(query) > 0 {
		full := actionPath + "?" + strings.Join(query, "&")
		for len(full) > domain.MaxURLLength && len(query) > 0 {
			query = query[:len(query)-1]
			full = actionPath + "?" + strings.Join(query, "&")
		}
		if len(query) > 0 {
			actionPath = full
		} else {
			o.b.warn("%s: the query parameters make the path longer than %d characters and were left out", where, domain.MaxURLLength)
		}
	}
	a.Path = actionPath
	if op.RequestBody != nil && op.RequestBody.Value != nil {
		o.requestBody(where, &a, op.RequestBody.Value)
	}
	o.b.addAction(key, a)
}

// requestBody makes a body template and sample data from the JSON or form content: the
// example when the document gives one, else one made from the schema. Required top-level
// string properties become placeholders.
func (o *openAPIImport) requestBody(where string, a *domain.HTTPAction, body *openapi3.RequestBody) {
	var (
		contentType string
		media       *openapi3.MediaType
	)
	for _, ct := range slices.Sorted(maps.Keys(body.Content)) {
		mt := strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
		if mt == "application/json" || strings.HasSuffix(mt, "+json") {
			contentType, media = ct, body.Content[ct]
			break
		}
		if mt == "application/x-www-form-urlencoded" && media == nil {
			contentType, media = ct, body.Content[ct]
		}
	}
	if media == nil {
		if len(body.Content) > 0 {
			o.b.warn("%s: request bodies of type %s are not supported; the action has no body", where, strings.Join(slices.Sorted(maps.Keys(body.Content)), ", "))
		}
		return
	}
	var schema *openapi3.Schema
	if media.Schema != nil {
		schema = media.Schema.Value
	}
	example := media.Example
	if example == nil {
		for _, k := range slices.Sorted(maps.Keys(media.Examples)) {
			if ex := media.Examples[k]; ex != nil && ex.Value != nil && ex.Value.Value != nil {
				example = ex.Value.Value
				break
			}
		}
	}
	given := example
	if example == nil && schema != nil {
		example = sampleOf(schema, 0)
	}
	if example != nil {
		if s, ok := jsonText(example); ok {
			a.SampleRequestData = &s
		}
	}
	a.Headers = append(a.Headers, domain.HTTPHeader{Name: "Content-Type", Value: contentType})
	form := !strings.Contains(strings.ToLower(contentType), "json")
	a.BodyTemplate = ptr(bodyTemplate(schema, given, example, form))
}

// bodyTemplate writes the body: each required string property of an object schema as a
// placeholder, other required properties and those the document's example gives with their
// example value; anything else is the example.
func bodyTemplate(schema *openapi3.Schema, given, example any, form bool) string {
	obj, _ := given.(map[string]any)
	if schema == nil || len(schema.Properties) == 0 {
		if form {
			return ""
		}
		s, _ := jsonText(example)
		if s == "" || s == "null" {
			return "{}"
		}
		return s
	}
	required := map[string]bool{}
	for _, r := range schema.Required {
		required[r] = true
	}
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(schema.Properties)) {
		prop := schema.Properties[name]
		isString := prop != nil && prop.Value != nil && prop.Value.Type != nil && prop.Value.Type.Is("string")
		value, has := obj[name]
		switch {
		case required[name] && isString:
			if form {
				parts = append(parts, url.QueryEscape(name)+"={{"+placeholderName(name)+"}}")
			} else {
				k, _ := jsonText(name)
				parts = append(parts, k+`: "{{`+placeholderName(name)+`}}"`)
			}
		case required[name] || has:
			if !has && prop != nil && prop.Value != nil {
				value = sampleOf(prop.Value, 1)
			}
			if form {
				parts = append(parts, url.QueryEscape(name)+"="+url.QueryEscape(fmt.Sprint(value)))
			} else {
				k, _ := jsonText(name)
				v, _ := jsonText(value)
				parts = append(parts, k+": "+v)
			}
		}
	}
	if form {
		return strings.Join(parts, "&")
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// sampleOf makes an example value from a schema: its example, default or first enum value,
// else a value of its type; objects and arrays a few levels deep.
func sampleOf(s *openapi3.Schema, depth int) any {
	if s == nil || depth > 4 {
		return nil
	}
	switch {
	case s.Example != nil:
		return s.Example
	case s.Default != nil:
		return s.Default
	case len(s.Enum) > 0:
		return s.Enum[0]
	}
	for _, sub := range [][]*openapi3.SchemaRef{s.AllOf, s.OneOf, s.AnyOf} {
		if len(sub) > 0 && sub[0] != nil && sub[0].Value != nil && s.Type == nil {
			return sampleOf(sub[0].Value, depth+1)
		}
	}
	switch {
	case s.Type == nil:
		if len(s.Properties) > 0 {
			break
		}
		return nil
	case s.Type.Is("string") || s.Type.Permits("string") && !s.Type.Permits("object"):
		if s.Format != "" {
			return s.Format
		}
		return "string"
	case s.Type.Is("integer") || s.Type.Is("number"):
		return 0
	case s.Type.Is("boolean"):
		return false
	case s.Type.Is("array"):
		if s.Items != nil && s.Items.Value != nil {
			if v := sampleOf(s.Items.Value, depth+1); v != nil {
				return []any{v}
			}
		}
		return []any{}
	}
	obj := map[string]any{}
	for _, name := range slices.Sorted(maps.Keys(s.Properties)) {
		if p := s.Properties[name]; p != nil && p.Value != nil {
			if v := sampleOf(p.Value, depth+1); v != nil {
				obj[name] = v
			}
		}
	}
	return obj
}
