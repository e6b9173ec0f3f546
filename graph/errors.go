package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/plugboard/plugboard/internal/domain"
)

// ErrorPresenter is the single place errors become GraphQL errors: domain errors keep their
// message and code (and field, for bad input); anything else is logged and reported as
// INTERNAL_SERVER_ERROR without its text, which may hold SQL or driver details.
func ErrorPresenter(logger *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		var domainErr *domain.Error
		switch {
		case errors.As(err, &domainErr):
			gqlErr.Message = domainErr.Message
			if domainErr.Field != "" {
				gqlErr.Message = fmt.Sprintf("%s: %s", domainErr.Field, domainErr.Message)
			}
			gqlErr.Extensions = map[string]any{"code": string(domainErr.Code)}
			if domainErr.Field != "" {
				gqlErr.Extensions["field"] = domainErr.Field
			}
		case isGraphQLError(err):
			// Parse, validation and variable errors from gqlgen itself: their messages describe
			// the request, not the server, and they carry their own codes.
		default:
			logger.ErrorContext(ctx, "internal error", "path", gqlErr.Path.String(), "error", err.Error())
			gqlErr.Message = "internal server error"
			gqlErr.Extensions = map[string]any{"code": string(domain.CodeInternal)}
		}
		return gqlErr
	}
}

func isGraphQLError(err error) bool {
	var gqlErr *gqlerror.Error
	return errors.As(err, &gqlErr) && gqlErr.Extensions != nil && gqlErr.Extensions["code"] != nil
}

// Recover turns a panic in a resolver into an internal error; the panic value is logged, never
// returned.
func Recover(logger *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		logger.ErrorContext(ctx, "panic in resolver", "panic", fmt.Sprint(p))
		return errors.New("panic")
	}
}
