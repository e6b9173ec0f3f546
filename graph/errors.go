package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"runtime/debug"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/opcache"
)

// ErrorPresenter is the single place errors become GraphQL errors: domain errors keep their
// message and code (and field, for bad input); gqlgen's own request errors (parse,
// validation, limits) become BAD_USER_INPUT with their original code as extensions.reason;
// anything else is logged and reported as INTERNAL_SERVER_ERROR with the request id and
// without its text, which may hold SQL or driver details. requestID names the request.
func ErrorPresenter(logger *slog.Logger, requestID func(context.Context) string) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		var domainErr *domain.Error
		switch {
		case errors.As(err, &domainErr):
			gqlErr.Message = domainErr.Error()
			gqlErr.Extensions = map[string]any{"code": string(domainErr.Code)}
			if domainErr.Field != "" {
				gqlErr.Extensions["field"] = domainErr.Field
			}
			if domainErr.Reason != "" {
				gqlErr.Extensions["reason"] = domainErr.Reason
			}
			if domainErr.RetryAfter > 0 {
				gqlErr.Extensions["retryAfter"] = domainErr.RetryAfter
			}
		case isGraphQLError(err):
			// Parse, validation and limit errors from gqlgen describe the request, not the
			// server. A variable whose value does not fit its type names the field it fills.
			if len(gqlErr.Path) >= 2 && gqlErr.Path[0] == ast.PathName("variable") {
				gqlErr.Message = jsonWords(gqlErr.Message)
				badInput(gqlErr, variableUse(ctx, gqlErr.Path[1:]))
				break
			}
			if gqlErr.Extensions["code"] == persistedQueryNotFound {
				break // the one code outside the list: Apollo's and urql's links match it
			}
			gqlErr.Extensions = map[string]any{"code": string(domain.CodeBadUserInput), "reason": gqlErr.Extensions["code"]}
		case isArgumentError(ctx, err):
			// An argument value gqlgen could not turn into its Go type (a strict scalar, an
			// input object field): the path runs from the field through the argument.
			badInput(gqlErr, gqlErr.Path[len(graphql.GetFieldContext(ctx).Path()):])
		case errors.Is(err, context.Canceled), ctx.Err() == context.Canceled:
			// The client went away: nobody reads this answer, and it is no server fault.
			logger.DebugContext(ctx, "request cancelled", "request_id", requestID(ctx), "path", gqlErr.Path.String())
			gqlErr.Message = "the request was cancelled"
			gqlErr.Extensions = map[string]any{"code": string(domain.CodeInternal), "requestId": requestID(ctx)}
		case errors.Is(err, context.DeadlineExceeded):
			logger.WarnContext(ctx, "request timed out", "request_id", requestID(ctx), "path", gqlErr.Path.String())
			gqlErr.Message = "the request took longer than the server allows and was stopped"
			gqlErr.Extensions = map[string]any{"code": string(domain.CodeInternal), "requestId": requestID(ctx)}
		default:
			logger.ErrorContext(ctx, "internal error", "request_id", requestID(ctx), "path", gqlErr.Path.String(), "error", err.Error())
			gqlErr.Message = "internal server error"
			gqlErr.Extensions = map[string]any{"code": string(domain.CodeInternal), "requestId": requestID(ctx)}
		}
		return gqlErr
	}
}

// persistedQueryNotFound is gqlgen's code for a persisted-query hash it does not know.
const persistedQueryNotFound = "PERSISTED_QUERY_NOT_FOUND"

func isGraphQLError(err error) bool {
	var gqlErr *gqlerror.Error
	return errors.As(err, &gqlErr) && gqlErr.Extensions != nil && gqlErr.Extensions["code"] != nil
}

// Recover turns a panic in a resolver into an internal error; the panic value is logged, never
// returned.
func Recover(logger *slog.Logger, requestID func(context.Context) string) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		logger.ErrorContext(ctx, "panic in resolver", "request_id", requestID(ctx), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return errors.New("panic")
	}
}

// isArgumentError tells whether err is gqlgen's report of an argument it could not decode:
// a gqlerror without a code whose path continues the current field's path.
func isArgumentError(ctx context.Context, err error) bool {
	var gqlErr *gqlerror.Error
	fc := graphql.GetFieldContext(ctx)
	if !errors.As(err, &gqlErr) || gqlErr.Extensions["code"] != nil || fc == nil {
		return false
	}
	prefix := fc.Path()
	if len(gqlErr.Path) <= len(prefix) {
		return false
	}
	for i := range prefix {
		if fmt.Sprint(prefix[i]) != fmt.Sprint(gqlErr.Path[i]) {
			return false
		}
	}
	return true
}

var (
	// gqlparser's variable coercion names Go's reflect kinds ("cannot use slice as String",
	// "must be a PropertyInput, not a string") and prints an unparsable number as 0.
	kindMismatch  = regexp.MustCompile(`^cannot use (\w+) as (\w+)$`)
	objectNeeded  = regexp.MustCompile(`^must be a (\w+), not a (\w+)$`)
	numberInvalid = regexp.MustCompile(`^cannot use value \S+ as (Int|Float)$`)
	jsonKinds     = map[string]string{
		"slice": "a list", "array": "a list", "map": "an object", "string": "a string", "bool": "a boolean",
		"int": "a number", "int8": "a number", "int16": "a number", "int32": "a number", "int64": "a number",
		"uint": "a number", "uint8": "a number", "uint16": "a number", "uint32": "a number", "uint64": "a number",
		"float32": "a number", "float64": "a number",
	}
)

// jsonWords rewrites gqlparser's messages about a variable's value in the words of the JSON
// the client sent.
func jsonWords(message string) string {
	kind := func(k string) string {
		if w, ok := jsonKinds[k]; ok {
			return w
		}
		return "a value of another type"
	}
	if m := kindMismatch.FindStringSubmatch(message); m != nil {
		return fmt.Sprintf("%s cannot be used as %s", kind(m[1]), m[2])
	}
	if m := objectNeeded.FindStringSubmatch(message); m != nil {
		return fmt.Sprintf("must be a %s object, not %s", m[1], kind(m[2]))
	}
	if m := numberInvalid.FindStringSubmatch(message); m != nil {
		return fmt.Sprintf("is not a number that fits %s", m[1])
	}
	return message
}

// variableUse turns the path of a bad variable value ($v.name, or $v alone) into the path of
// the argument it fills (input.name, or first), as a literal in its place would be reported.
// A variable used only in directives, or in no operation found, keeps its own name.
func variableUse(ctx context.Context, path ast.Path) ast.Path {
	name, ok := path[0].(ast.PathName)
	if !ok || !graphql.HasOperationContext(ctx) {
		return path
	}
	op := graphql.GetOperationContext(ctx).Operation
	if op == nil {
		return path
	}
	var found ast.Path
	opcache.Walk(op.SelectionSet, func(sel ast.Selection) {
		f, ok := sel.(*ast.Field)
		if !ok || found != nil {
			return
		}
		for _, arg := range f.Arguments {
			if at, ok := variableIn(arg.Value, string(name), ast.Path{ast.PathName(arg.Name)}); ok {
				found = at
				return
			}
		}
	})
	if found == nil {
		return path
	}
	return append(found, path[1:]...)
}

// variableIn finds the variable name in value, whose path is at.
func variableIn(value *ast.Value, name string, at ast.Path) (ast.Path, bool) {
	if value == nil {
		return nil, false
	}
	if value.Kind == ast.Variable {
		return at, value.Raw == name
	}
	for i, child := range value.Children {
		var step ast.PathElement = ast.PathName(child.Name)
		if value.Kind == ast.ListValue {
			step = ast.PathIndex(i)
		}
		if found, ok := variableIn(child.Value, name, append(at[:len(at):len(at)], step)); ok {
			return found, true
		}
	}
	return nil, false
}

// badInput rewrites a decoding error as BAD_USER_INPUT. path starts with the variable or
// argument name; the field is the rest, relative to that value ("connectionVariables[0].name"),
// or the name itself when the whole value is wrong.
func badInput(gqlErr *gqlerror.Error, path ast.Path) {
	field := fmt.Sprint(path[0])
	if len(path) > 1 {
		var b strings.Builder
		for _, el := range path[1:] {
			switch el := el.(type) {
			case ast.PathIndex:
				fmt.Fprintf(&b, "[%d]", int(el))
			case ast.PathName:
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(string(el))
			}
		}
		field = b.String()
	}
	gqlErr.Extensions = map[string]any{"code": string(domain.CodeBadUserInput), "field": field}
	gqlErr.Message = domain.FieldMessage(field, gqlErr.Message)
}
