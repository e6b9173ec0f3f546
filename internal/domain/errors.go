// Package domain holds Plugboard's types, rules and service interfaces, free of storage and
// transport details.
package domain

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Code classifies an error for the API; the GraphQL layer reports it as extensions.code.
type Code string

// The error codes of the API contract.
const (
	CodeUnauthenticated Code = "UNAUTHENTICATED"
	CodeForbidden       Code = "FORBIDDEN"
	CodeNotFound        Code = "NOT_FOUND"
	CodeBadUserInput    Code = "BAD_USER_INPUT"
	CodeConflict        Code = "CONFLICT"
	// CodeRateLimited: the caller is over a limit of its own; extensions.retryAfter and the
	// Retry-After header say when to try again.
	CodeRateLimited Code = "RATE_LIMITED"
	CodeInternal    Code = "INTERNAL_SERVER_ERROR"
)

// Error is an error meant for the caller: its message is safe to show.
// Any other error is internal and is reported without its text.
type Error struct {
	Code    Code
	Message string
	// Field is the offending input field for BAD_USER_INPUT, as a path such as
	// "baseURL" or "connectionVariables[2].name".
	Field string
	// Reason refines the code for clients that act on it: ReasonLimitExceeded.
	Reason string
	// RetryAfter is, for RATE_LIMITED, the whole seconds (≥ 1) to wait before trying again.
	RetryAfter int
}

// ReasonLimitExceeded is the reason of every request limit's BAD_USER_INPUT, so that clients
// tell "make the request smaller" from "fix the value".
const ReasonLimitExceeded = "LIMIT_EXCEEDED"

func (e *Error) Error() string {
	if e.Field != "" {
		return FieldMessage(e.Field, e.Message)
	}
	return e.Message
}

// predicates start the messages that say what a field is or must be ("is required", "must be
// HTTP or BIGQUERY"); such a message reads as a sentence with the field as its subject.
var predicates = []string{"is ", "are ", "must ", "cannot ", "can ", "only ", "has ", "does "}

// FieldMessage is the one wording of a problem with an input field, for people (clients act on
// extensions.field): "name is required", "baseURL must be an absolute http(s) URL". A message
// that is a sentence of its own follows the field's path as a label: "name: an organisation
// named "Acme" already exists".
func FieldMessage(field, message string) string {
	for _, p := range predicates {
		if strings.HasPrefix(message, p) {
			return field + " " + message
		}
	}
	return field + ": " + message
}

// Errorf returns an Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns a BAD_USER_INPUT error about one input field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: CodeBadUserInput, Field: field, Message: fmt.Sprintf(format, args...)}
}

// LimitExceeded returns the BAD_USER_INPUT error of an input over a request limit.
func LimitExceeded(field, format string, args ...any) *Error {
	e := Invalid(field, format, args...)
	e.Reason = ReasonLimitExceeded
	return e
}

// ErrorCode returns the code of the first *Error in err's chain, or CodeInternal.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// WithFieldPrefix puts field paths of BAD_USER_INPUT errors under prefix, so that a rule
// checked on a nested input names the full path ("authSchemeConfigs[1]" + "oauth2.tokenURL").
func WithFieldPrefix(prefix string, err error) error {
	var e *Error
	if err == nil || prefix == "" || !errors.As(err, &e) || e.Code != CodeBadUserInput {
		return err
	}
	field := prefix
	if e.Field != "" {
		field = prefix + "." + e.Field
		if e.Field[0] == '[' {
			field = prefix + e.Field
		}
	}
	return &Error{Code: e.Code, Message: e.Message, Field: field, Reason: e.Reason, RetryAfter: e.RetryAfter}
}

// NotFound is the one answer for a missing or foreign resource: both read the same, so that
// ids of other organisations cannot be probed.
func NotFound(kind, id string) *Error {
	return Errorf(CodeNotFound, "%s %q not found", kind, shortened(id))
}

// shortened keeps a caller's value in a message readable: an id of any length would
// otherwise come back whole.
func shortened(s string) string {
	const most = 100
	if len(s) <= most {
		return s
	}
	cut := most
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
