package server

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/plugboard/plugboard/graph"
)

// postTransport is gqlgen's POST transport with two differences. A response that is only
// data is written as it is: gqlgen's json.Marshal re-validated and copied the whole payload,
// a tenth of a connector list's server time. And a body that is not JSON is refused as bad
// input without echoing it, where gqlgen's message quoted the whole body, credentials
// included, and it reached the error log. Requests that fail before execution
// (parse, validation, limits) are handed to gqlgen's transport, for its status codes.
type postTransport struct{ transport.POST }

func (t postTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	w.Header().Set("Content-Type", responseContentType(r))
	start := graphql.Now()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeResponse(w, exec.DispatchError(ctx, requestError("REQUEST_BODY_UNREADABLE", "could not read the request body: %v", err)))
		return
	}
	var params graphql.RawParams
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&params); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		// encoding/json's message names a position or a type, never the text.
		writeResponse(w, exec.DispatchError(ctx, requestError("INVALID_JSON", "the request body is not a GraphQL request in JSON: %v", err)))
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	oc, opErr := exec.CreateOperationContext(ctx, &params)
	if opErr != nil {
		w.Header().Del("Content-Type")
		r.Body = io.NopCloser(bytes.NewReader(body))
		t.POST.Do(w, r, exec)
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, oc)
	resp := responses(ctx)
	writeResponse(w, resp)
	if info := infoOf(ctx); info != nil && info.executor == "direct" {
		graph.ReleaseResponse(resp.Data) // the direct executor's own buffer, written
	}
}

// requestError is an error of the request itself, with a code like gqlgen's own request errors
// so the error presenter reports it as bad input.
func requestError(code, format string, args ...any) gqlerror.List {
	err := gqlerror.Errorf(format, args...)
	err.Extensions = map[string]any{"code": code}
	return gqlerror.List{err}
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

// responseContentType negotiates like gqlgen's POST transport: application/json unless the
// client asks for application/graphql-response+json.
func responseContentType(r *http.Request) string {
	const (
		plain   = "application/json"
		graphQL = "application/graphql-response+json"
	)
	accept := r.Header.Get("Accept")
	if accept == "" {
		return plain
	}
	for _, part := range strings.Split(accept, ",") {
		mediaType, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mediaType {
		case "*/*", "application/*", plain:
			return plain
		case graphQL:
			return graphQL
		}
	}
	return graphQL
}
