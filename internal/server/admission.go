package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/plugboard/plugboard/internal/auth"
	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/fairshare"
)

// tenantOf names whose share a request uses: its organisation, or for a principal without one
// (a platform token) its subject.
func tenantOf(ctx context.Context) string {
	p := auth.PrincipalFrom(ctx)
	if p == nil {
		return ""
	}
	if p.OrganisationID != "" {
		return "org:" + p.OrganisationID
	}
	return "sub:" + p.Subject
}

// bodyChunk is how much body buffer is reserved at a time: a body that arrives slowly holds
// only what it has sent.
const bodyChunk = 64 << 10

// readBody reads a request body, at most small bytes, into memory before the request waits for
// an execution slot: a client sending its body slowly then holds a connection and the bytes
// it reserved, never a slot. The bytes of bodies being read count against bytesShare, shared
// between tenants: a tenant whose part is taken (hundreds of its bodies arriving slowly) is
// told to retry at once with 429, instead of waiting for its own slow bodies to time out.
//
// A body over small up to large is read too, and then kept only when its operation is one of the
// document mutations (largeBodyFields); any other is refused as over small.
func readBody(small, large int64, bytesShare *fairshare.Share, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		limit := max(small, large)
		if r.ContentLength > limit {
			writeLimitError(w, r, limit)
			return
		}
		tenant := tenantOf(r.Context())
		var (
			buf      bytes.Buffer
			reserved int64
			releases []func()
		)
		defer func() {
			for _, release := range releases {
				release()
			}
		}()
		body := http.MaxBytesReader(w, r.Body, limit)
		for {
			if int64(buf.Len()) == reserved {
				// A declared small body reserves what it declared; the rest grows by chunks.
				step := int64(bodyChunk)
				if reserved == 0 && r.ContentLength > 0 {
					step = min(r.ContentLength+1, bodyChunk) // one more byte to see the end
				}
				release, err := bytesShare.Acquire(r.Context(), tenant, step, false)
				if errors.Is(err, fairshare.ErrOverShare) {
					writeRateLimited(w, r, time.Second,
						"too many request bodies of this organisation are still arriving; retry when they have")
					return
				}
				if err != nil {
					return // the client went away while others' bodies filled the budget
				}
				releases = append(releases, release)
				reserved += step
				buf.Grow(int(step))
			}
			_, err := io.CopyN(&buf, body, reserved-int64(buf.Len()))
			if err == io.EOF {
				break
			}
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				writeLimitError(w, r, limit)
				return
			}
			if err != nil {
				writeGraphQLError(w, r, http.StatusBadRequest, domain.CodeBadUserInput, "could not read the request body")
				return
			}
		}
		if int64(buf.Len()) > small && !largeBodyAllowed(buf.Bytes()) {
			writeError(w, r, http.StatusRequestEntityTooLarge, domain.CodeBadUserInput, "LIMIT_EXCEEDED",
				"the request body is larger than "+strconv.FormatInt(small, 10)+" bytes; only importOpenAPI, importPostmanCollection, createVersion and updateVersion accept up to "+strconv.FormatInt(large, 10))
			return
		}
		r.Body = io.NopCloser(&buf)
		r.ContentLength = int64(buf.Len())
		next.ServeHTTP(w, r)
	})
}

// largeBodyFields are the mutations whose input may be a large document.
var largeBodyFields = map[string]bool{"importOpenAPI": true, "importPostmanCollection": true, "createVersion": true, "updateVersion": true}

// largeBodyAllowed tells whether a JSON request body asks only for mutations of
// largeBodyFields (with __typename beside them).
func largeBodyAllowed(body []byte) bool {
	var params struct {
		Query         string `json:"query"`
		OperationName string `json:"operationName"`
	}
	if json.Unmarshal(body, &params) != nil || params.Query == "" || len(params.Query) > 64<<10 {
		return false
	}
	doc, err := parser.ParseQuery(&ast.Source{Input: params.Query})
	if err != nil || len(doc.Fragments) > 0 {
		return false
	}
	var op *ast.OperationDefinition
	switch {
	case params.OperationName != "":
		op = doc.Operations.ForName(params.OperationName)
	case len(doc.Operations) == 1:
		op = doc.Operations[0]
	}
	if op == nil || op.Operation != ast.Mutation {
		return false
	}
	found := false
	for _, sel := range op.SelectionSet {
		f, ok := sel.(*ast.Field)
		if !ok {
			return false
		}
		if f.Name == "__typename" {
			continue
		}
		if !largeBodyFields[f.Name] {
			return false
		}
		found = true
	}
	return found
}

func writeLimitError(w http.ResponseWriter, r *http.Request, max int64) {
	writeError(w, r, http.StatusRequestEntityTooLarge, domain.CodeBadUserInput, "LIMIT_EXCEEDED",
		"the request body is larger than "+strconv.FormatInt(max, 10)+" bytes")
}

// admit lets the requests of every tenant execute, at most slots at once and at most half of
// them for one tenant; the others queue until a slot frees or their deadline passes. Queued
// requests hold no database connection and little memory. The answer is written after the
// slot is given back, so a client reading it slowly holds no slot either.
func admit(slots *fairshare.Share, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		release, err := slots.Acquire(r.Context(), tenantOf(r.Context()), 1, true)
		if err != nil {
			if r.Context().Err() == context.DeadlineExceeded {
				writeGraphQLError(w, r, http.StatusServiceUnavailable, domain.CodeInternal, "the server is busy: the request waited its whole time limit for a turn")
			}
			return
		}
		answer := &bufferedAnswer{header: w.Header(), body: answerBuffers.Get().(*bytes.Buffer)}
		func() {
			defer release()
			next.ServeHTTP(answer, r)
		}()
		if answer.status != 0 {
			w.WriteHeader(answer.status)
		}
		_, _ = w.Write(answer.body.Bytes())
		if answer.body.Cap() <= maxPooledAnswer {
			answer.body.Reset()
			answerBuffers.Put(answer.body)
		}
	})
}

// answerBuffers keeps answers' buffers for the next requests; the largest are left to the
// collector so that one huge answer does not stay in memory.
var answerBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledAnswer = 1 << 20

// bufferedAnswer keeps an answer's status and body until the execution slot is free; headers
// go straight to the real writer.
type bufferedAnswer struct {
	header http.Header
	status int
	body   *bytes.Buffer
}

func (a *bufferedAnswer) Header() http.Header { return a.header }
func (a *bufferedAnswer) WriteHeader(status int) {
	if a.status == 0 {
		a.status = status
	}
}
func (a *bufferedAnswer) Write(b []byte) (int, error) {
	if a.status == 0 {
		a.status = http.StatusOK
	}
	return a.body.Write(b)
}
