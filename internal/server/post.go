package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/plugboard/plugboard/graph"
	"github.com/plugboard/plugboard/internal/domain"
)

// The transports follow the GraphQL-over-HTTP specification, which gqlgen's do not quite:
// a request that fails before execution (parse, validation, variables, limits) answers 200
// with application/json and 400 with application/graphql-response+json, and never carries a
// data entry; invalid parameters answer 400; a mutation over GET answers 405 with Allow: POST.
// Every refusal is a GraphQL error with a code, and none names a Go type.
//
// postTransport also writes a response that is only data as it is: gqlgen's json.Marshal
// re-validated and copied the whole payload, a tenth of a connector list's server time. A body
// that is not JSON is refused without echoing it: gqlgen's message quoted the whole body,
// credentials included, and it reached the error log.
type postTransport struct {
	// idem runs mutations sent with an Idempotency-Key (without a store: the header is
	// ignored).
	idem *idempotency
}

// Supports takes every POST, so that a wrong content type is refused with a GraphQL error
// instead of gqlgen's bare "transport not supported".
func (postTransport) Supports(r *http.Request) bool { return r.Method == http.MethodPost }

func (t postTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	contentType := responseContentType(r)
	w.Header().Set("Content-Type", contentType)
	if mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mediaType != "application/json" {
		refuse(w, exec, r, http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", "send the request as Content-Type: application/json")
		return
	}
	start := graphql.Now()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		refuse(w, exec, r, http.StatusBadRequest, "REQUEST_BODY_UNREADABLE", "could not read the request body")
		return
	}
	params, problem := decodeParams(body)
	if problem != "" {
		refuse(w, exec, r, http.StatusBadRequest, "INVALID_PARAMETERS", problem)
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	execute(w, r, exec, params, contentType, true, t.idem)
}

// getTransport answers queries sent as URL parameters (and persisted queries by hash).
type getTransport struct{}

func (getTransport) Supports(r *http.Request) bool { return r.Method == http.MethodGet }

func (getTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	contentType := responseContentType(r)
	w.Header().Set("Content-Type", contentType)
	start := graphql.Now()
	values := r.URL.Query()
	params := &graphql.RawParams{Query: values.Get("query"), OperationName: values.Get("operationName"), Headers: r.Header}
	if problem := textProblem(params.Query + params.OperationName); problem != "" {
		refuse(w, exec, r, http.StatusBadRequest, "INVALID_PARAMETERS", problem)
		return
	}
	for _, p := range []struct {
		name string
		into *map[string]any
	}{{"variables", &params.Variables}, {"extensions", &params.Extensions}} {
		raw := values.Get(p.name)
		if raw == "" {
			continue
		}
		if problem := textProblem(raw); problem != "" {
			refuse(w, exec, r, http.StatusBadRequest, "INVALID_PARAMETERS", problem)
			return
		}
		if problem := decodeObject(json.RawMessage(raw), p.name, p.into); problem != "" {
			refuse(w, exec, r, http.StatusBadRequest, "INVALID_PARAMETERS", problem)
			return
		}
	}
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	execute(w, r, exec, params, contentType, false, nil)
}

// execute runs a decoded request and writes its answer; idem, when set, runs mutations sent
// with an Idempotency-Key.
func execute(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, params *graphql.RawParams, contentType string, mutations bool, idem *idempotency) {
	ctx := r.Context()
	oc, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		for _, err := range errs {
			// gqlgen's own request errors without a kind (APQ's extension data, say) are the
			// client's too.
			if err.Extensions["code"] == nil {
				errcode.Set(err, "INVALID_PARAMETERS")
			}
		}
		status := http.StatusOK
		if contentType == graphQLResponse {
			status = http.StatusBadRequest
		}
		writeErrors(w, status, exec.DispatchError(graphql.WithOperationContext(ctx, oc), errs))
		return
	}
	if !mutations && oc.Operation.Operation != ast.Query {
		w.Header().Set("Allow", http.MethodPost)
		refuse(w, exec, r, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "only queries can be sent with GET; send "+string(oc.Operation.Operation)+"s with POST")
		return
	}
	// Queries ignore the header: they change nothing.
	if _, keyed := r.Header["Idempotency-Key"]; keyed && oc.Operation.Operation == ast.Mutation && idem != nil && idem.store != nil {
		idem.execute(w, r, exec, oc, params, contentType)
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, oc)
	resp := responses(ctx)
	writeResponse(w, resp)
	if info := infoOf(ctx); info != nil && info.executor == "direct" {
		graph.ReleaseResponse(resp.Data) // the direct executor's own buffer, written
	}
}

// refuse answers a request that is not a GraphQL request; code becomes extensions.reason of
// a BAD_USER_INPUT error in the error presenter.
func refuse(w http.ResponseWriter, exec graphql.GraphExecutor, r *http.Request, status int, code, message string) {
	err := gqlerror.Errorf("%s", message)
	err.Extensions = map[string]any{"code": code}
	writeErrors(w, status, exec.DispatchError(r.Context(), gqlerror.List{err}))
}

// writeErrors writes a request error: errors (and extensions), no data entry.
func writeErrors(w http.ResponseWriter, status int, resp *graphql.Response) {
	b, err := json.Marshal(struct {
		Errors     gqlerror.List  `json:"errors"`
		Extensions map[string]any `json:"extensions,omitempty"`
	}{resp.Errors, resp.Extensions})
	if err != nil {
		panic("encode errors: " + err.Error())
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// decodeParams reads a POST body's parameters, or says in words what is wrong with them:
// encoding/json's own messages name Go types.
func decodeParams(body []byte) (*graphql.RawParams, string) {
	if problem := textProblem(string(body)); problem != "" {
		return nil, problem
	}
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '[' {
		return nil, "batched requests (a JSON array of operations) are not supported; send one operation per request"
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		var syntax *json.SyntaxError
		if err != nil && strings.Contains(err.Error(), "exceeded max depth") {
			return nil, "the request body nests JSON more than 10,000 levels deep"
		}
		if errors.As(err, &syntax) {
			return nil, "the request body is not valid JSON (at byte " + strconv.FormatInt(syntax.Offset, 10) + ")"
		}
		return nil, "the request body must be a JSON object with a query"
	}
	params := &graphql.RawParams{}
	for _, p := range []struct {
		name string
		into *string
	}{{"query", &params.Query}, {"operationName", &params.OperationName}} {
		if raw, ok := fields[p.name]; ok && string(raw) != "null" {
			if err := json.Unmarshal(raw, p.into); err != nil {
				return nil, p.name + " must be a string"
			}
		}
	}
	for _, p := range []struct {
		name string
		into *map[string]any
	}{{"variables", &params.Variables}, {"extensions", &params.Extensions}} {
		if problem := decodeObject(fields[p.name], p.name, p.into); problem != "" {
			return nil, problem
		}
	}
	if params.Query == "" && params.Extensions["persistedQuery"] == nil {
		return nil, "the request has no query"
	}
	return params, ""
}

// textProblem says what makes a request's text something other than Unicode text: bytes that
// are not UTF-8, or a \u escape of half a UTF-16 surrogate pair. Go's JSON decoder would turn
// either into U+FFFD, so a corrupted value (a credential, say) would be stored without a word.
// The same check runs on the string literals of a GraphQL document (documentLimit).
func textProblem(raw string) string {
	if !utf8.ValidString(raw) {
		return "the request is not valid UTF-8"
	}
	if domain.LoneSurrogateEscape(raw) {
		return `the request holds a \u escape of half a UTF-16 surrogate pair, which is no character`
	}
	return ""
}

// decodeObject decodes an optional JSON object parameter, numbers kept as written.
func decodeObject(raw json.RawMessage, name string, into *map[string]any) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(into); err != nil || *into == nil {
		return name + " must be a JSON object"
	}
	return ""
}

// writeResponse writes {"data":…} without re-encoding or copying the data when that is all
// there is.
func writeResponse(w http.ResponseWriter, resp *graphql.Response) {
	if len(resp.Errors) == 0 && len(resp.Data) > 0 && resp.Label == "" && resp.Path == nil &&
		resp.HasNext == nil && len(resp.Extensions) == 0 {
		const prefix, suffix = `{"data":`, `}`
		w.Header().Set("Content-Length", strconv.Itoa(len(prefix)+len(resp.Data)+len(suffix)))
		_, _ = io.WriteString(w, prefix)
		_, _ = w.Write(resp.Data)
		_, _ = io.WriteString(w, suffix)
		return
	}
	b, err := json.Marshal(resp)
	if err != nil {
		// gqlgen panics here too: a response that cannot be encoded is a bug.
		panic("encode response: " + err.Error())
	}
	_, _ = w.Write(b)
}

const (
	plainJSON       = "application/json"
	graphQLResponse = "application/graphql-response+json"
)

// responseContentType negotiates like gqlgen's POST transport: application/json unless the
// client asks for application/graphql-response+json.
func responseContentType(r *http.Request) string {
	accept := r.Header.Get("Accept")
	if accept == "" {
		return plainJSON
	}
	for _, part := range strings.Split(accept, ",") {
		mediaType, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mediaType {
		case "*/*", "application/*", plainJSON:
			return plainJSON
		case graphQLResponse:
			return graphQLResponse
		}
	}
	return graphQLResponse
}
