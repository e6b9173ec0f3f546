package outbound

import (
	"context"
	"errors"

	"golang.org/x/oauth2"

	"github.com/plugboard/plugboard/internal/domain"
)

// ExchangeCode trades an authorization code (and its PKCE verifier) for tokens at the
// config's token URL, with golang.org/x/oauth2 through the outbound guard, the client
// authenticating as x/oauth2 detects (clientSecret sent when set). A refusal is a *TokenError.
func (e *Executor) ExchangeCode(ctx context.Context, config domain.AuthSchemeConfig, values []domain.Variable, code, verifier, redirectURI string) (*domain.OAuthToken, error) {
	settings := config.OAuth2
	if settings == nil || settings.TokenURL == nil {
		return nil, errors.New("the OAuth2 config has no token URL")
	}
	cred := &domain.ActionCredential{Config: config, Values: values}
	client := e.clients.get(config.VerifySSL)
	opts := []oauth2.AuthCodeOption{oauth2.VerifierOption(verifier)}
	if settings.Audience != nil {
		opts = append(opts, oauth2.SetAuthURLParam("audience", *settings.Audience))
	}
	ctx, conf := tokenEndpoint(ctx, cred, client)
	conf.RedirectURL = redirectURI
	e.tokenFetches.Add(1)
	t, err := conf.Exchange(ctx, code, opts...)
	if err != nil {
		return nil, tokenError(err)
	}
	return fromOAuth2(t, ""), nil
}
