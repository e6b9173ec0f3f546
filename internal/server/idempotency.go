package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"math/big"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/plugboard/plugboard/internal/auth"
	"github.com/plugboard/plugboard/internal/domain"
)

// IdempotencyStore keeps the answers of mutations sent with an Idempotency-Key header
// (store/idempotency.go).
type IdempotencyStore interface {
	ClaimIdempotencyKey(ctx context.Context, in domain.IdempotencyRequest) (*domain.IdempotencyClaim, []byte, error)
	RecordIdempotentAnswer(ctx context.Context, claim *domain.IdempotencyClaim, answer []byte) error
	ReleaseIdempotencyKey(ctx context.Context, claim *domain.IdempotencyClaim) error
}

// idempotency runs mutations sent with an Idempotency-Key at most once per key: a repeat with
// the same body from the same caller within 24 hours gets the first answer without executing.
type idempotency struct {
	store IdempotencyStore
	// lease is how long a running request holds its key: past it the server is taken to have
	// died, and a retry may run.
	lease  time.Duration
	logger *slog.Logger
}

// outboundFields call an upstream rather than change Plugboard's data: no store transaction
// marks their claim applied, so their answer is stored whenever they answer without error,
// and a replay calls nothing.
var outboundFields = map[string]bool{"executeAction": true, "testConnection": true}

// shownOnceFields answer a secret that is shown once: their stored answer is sealed like a
// credential. A connect session's URL holds its token and an authorization URL its state.
var shownOnceFields = map[string]bool{"createApiKey": true, "createConnectSession": true, "startOAuthConnect": true}

// maxIdempotencyKey bounds the header: clients send UUIDs or similar.
const maxIdempotencyKey = 255

// execute runs the mutation of oc under the request's Idempotency-Key, or replays its answer.
func (i *idempotency) execute(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, oc *graphql.OperationContext, params *graphql.RawParams, contentType string) {
	ctx := r.Context()
	requestError := http.StatusOK
	if contentType == graphQLResponse {
		requestError = http.StatusBadRequest
	}
	values := r.Header.Values("Idempotency-Key")
	if len(values) != 1 || !validIdempotencyKey(values[0]) {
		refuse(w, exec, r, requestError, "INVALID_IDEMPOTENCY_KEY", "send one Idempotency-Key header of 1 to 255 visible ASCII characters")
		return
	}
	var fields []graphql.CollectedField
	for _, f := range graphql.CollectFields(oc, oc.Operation.SelectionSet, []string{"Mutation"}) {
		if f.Name != "__typename" {
			fields = append(fields, f)
		}
	}
	if len(fields) != 1 {
		// One answer per key: with several fields, one could fail after another committed,
		// and a retry could neither replay nor run the request.
		refuse(w, exec, r, requestError, "IDEMPOTENCY_KEY_ONE_FIELD", "a request with an Idempotency-Key must hold exactly one mutation field")
		return
	}
	p := auth.PrincipalFrom(ctx)
	if p == nil {
		// authenticate runs first; without a principal there is no scope to keep the key in.
		refuse(w, exec, r, http.StatusUnauthorized, "UNAUTHENTICATED", "authentication required")
		return
	}
	name := fields[0].Name
	claim, answer, err := i.store.ClaimIdempotencyKey(ctx, domain.IdempotencyRequest{
		OrganisationID: p.OrganisationID, Caller: p.Subject, Key: values[0],
		Hash: requestHash(oc.RawQuery, params.OperationName, params.Variables), Secret: shownOnceFields[name], Lease: i.lease,
	})
	if err != nil {
		status := http.StatusInternalServerError
		var domainErr *domain.Error
		if errors.As(err, &domainErr) && domainErr.Code == domain.CodeConflict {
			status = http.StatusConflict
		}
		writeErrors(w, status, exec.DispatchError(ctx, gqlerror.List{{Err: err, Message: err.Error()}}))
		return
	}
	if claim == nil {
		w.Header().Set("Idempotent-Replayed", "true")
		_, _ = w.Write(answer)
		return
	}
	run := ctx
	if !outboundFields[name] {
		run = domain.WithIdempotencyClaim(ctx, claim)
	}
	responses, run := exec.DispatchOperation(run, oc)
	body, err := json.Marshal(responses(run))
	if err != nil {
		panic("encode response: " + err.Error()) // as writeResponse
	}
	// Recorded before the client is answered, so that an acknowledged answer is always the
	// one a retry gets; and whatever the request's own deadline did.
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	var resp struct {
		Errors []json.RawMessage `json:"errors"`
	}
	_ = json.Unmarshal(body, &resp)
	if claim.Applied() || len(resp.Errors) == 0 {
		// Until it is recorded, the change is committed and marked applied: a retry is
		// refused, never re-run.
		i.settle(ctx, bg, "record idempotent answer", func(ctx context.Context) error { return i.store.RecordIdempotentAnswer(ctx, claim, body) })
	} else {
		// Until it is freed, the running claim refuses the retry the client may already send.
		i.settle(ctx, bg, "release idempotency key", func(ctx context.Context) error { return i.store.ReleaseIdempotencyKey(ctx, claim) })
	}
	_, _ = w.Write(body)
}

// settleFor bounds the retries of a claim's last write: the database may be restarting, and a
// claim left running would refuse the client's retries until its lease ends (about a minute).
const settleFor = 30 * time.Second

// settle writes a claim's outcome now, or, when the database refuses, again in the background
// with backoff for at most settleFor: the answer is not held back meanwhile.
func (i *idempotency) settle(ctx, bg context.Context, what string, write func(context.Context) error) {
	err := write(bg)
	if err == nil {
		return
	}
	requestID := RequestID(ctx)
	i.logger.WarnContext(ctx, what+" failed; retrying in the background", "request_id", requestID, "error", err.Error())
	go func() {
		deadline := time.Now().Add(settleFor)
		for wait := 250 * time.Millisecond; time.Now().Add(wait).Before(deadline); wait *= 2 {
			time.Sleep(wait)
			attempt, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err = write(attempt)
			cancel()
			if err == nil {
				return
			}
		}
		i.logger.Error(what+" gave up; the claim expires at the end of its lease", "request_id", requestID, "error", err.Error())
	}()
}

func validIdempotencyKey(key string) bool {
	if key == "" || len(key) > maxIdempotencyKey {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] <= ' ' || key[i] > '~' { // visible ASCII: no space, no control character
			return false
		}
	}
	return true
}

// requestHash identifies a request body: its query, operationName and variables, the
// variables in a canonical form (keys sorted, numbers by value), so that the same request
// re-encoded by a client's retry hashes the same.
func requestHash(query, operationName string, variables map[string]any) string {
	b, err := json.Marshal([]any{query, operationName, canonicalJSON(variables)})
	if err != nil {
		panic("encode request hash: " + err.Error()) // decoded JSON always encodes
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// canonicalJSON rewrites numbers as written (the decoder keeps json.Number) by their value:
// 1, 1.0 and 1e0 are the same variable. encoding/json sorts object keys itself.
func canonicalJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = canonicalJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = canonicalJSON(e)
		}
		return out
	case json.Number:
		if f, _, err := big.ParseFloat(string(v), 10, 256, big.ToNearestEven); err == nil {
			return json.Number(f.Text('g', -1))
		}
		return v
	}
	return v
}
