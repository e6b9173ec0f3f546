package connect

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/plugboard/plugboard/internal/domain"
)

// Caps of the keyless routes: they have no key to budget by and must not take the GraphQL
// requests' admission slots, so they get a small capacity of their own.
const (
	maxInFlight  = 32
	maxFormBytes = 64 << 10
	routeTimeout = 30 * time.Second
	csrfCookie   = "pb_connect_csrf"
)

// Handler serves GET /oauth/callback and the connect pages under /connect/.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oauth/callback", s.callback)
	mux.HandleFunc("GET /connect/{token}", s.showPage)
	// Cross-origin form posts are refused before the CSRF token is even looked at.
	guard := http.NewCrossOriginProtection()
	mux.Handle("POST /connect/{token}", guard.Handler(http.HandlerFunc(s.submitForm)))
	mux.Handle("POST /connect/{token}/oauth", guard.Handler(http.HandlerFunc(s.startFromPage)))
	slots := semaphore.NewWeighted(maxInFlight)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// Pages and redirects carry codes and tokens in their URLs: none may leak through a
		// Referer, a cache or a frame.
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		if !slots.TryAcquire(1) {
			h.Set("Retry-After", "1")
			s.render(w, http.StatusServiceUnavailable, resultPage("Busy", "Too many people are connecting accounts right now. Try again in a moment.", false))
			return
		}
		defer slots.Release(1)
		ctx, cancel := context.WithTimeout(r.Context(), routeTimeout)
		defer cancel()
		// An Authorization header means nothing here and is never stored.
		r.Header.Del("Authorization")
		mux.ServeHTTP(w, r.WithContext(ctx))
	})
}

// callback completes an authorization-code flow: the provider sends the browser here with
// code and state, or with error and state.
func (s *Service) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		s.render(w, http.StatusBadRequest, resultPage("Not connected", "The link is missing its state: start connecting again from the application.", false))
		return
	}
	flow, err := s.Store.TakeOAuthFlow(r.Context(), hash(state), s.now())
	switch {
	case domain.ErrorCode(err) == domain.CodeNotFound:
		s.render(w, http.StatusBadRequest, resultPage("Not connected", "This link is not known (invalid_state): start connecting again from the application.", false))
		return
	case errors.Is(err, domain.ErrFlowExpired), errors.Is(err, domain.ErrFlowUsed):
		s.finish(w, r, flow, "invalid_state")
		return
	case errors.Is(err, domain.ErrFlowRevoked):
		// The key that started it was revoked: nothing is exchanged or stored.
		s.finish(w, r, flow, "access_denied")
		return
	case err != nil:
		s.internalError(w, r, "take oauth flow", err)
		return
	}
	if e := q.Get("error"); e != "" {
		if !safeCode(e) {
			e = "server_error"
		}
		s.finish(w, r, flow, e)
		return
	}
	code := q.Get("code")
	if code == "" {
		s.finish(w, r, flow, "invalid_request")
		return
	}
	ctx := domain.WithActor(r.Context(), flow.Actor)
	target, err := s.Store.ConnectTarget(ctx, flow.OrganisationID, flow.ConnectionID, flow.ConfigKey)
	if err == nil {
		err = authorizationCode(target)
	}
	if err != nil {
		// The connection, its config or its client id went away since the flow started.
		s.Logger.WarnContext(ctx, "oauth callback: connection no longer ready", "connection_id", flow.ConnectionID, "error", err.Error())
		s.finish(w, r, flow, "invalid_request")
		return
	}
	token, err := s.Exchanger.ExchangeCode(ctx, target.Config, target.Values, code, flow.Verifier, s.RedirectURI())
	if err != nil {
		// The message names the token URL's status and error code, never the code or a body.
		s.Logger.InfoContext(ctx, "oauth callback: code exchange failed", "connection_id", flow.ConnectionID, "error", err.Error())
		s.finish(w, r, flow, errorCode(err))
		return
	}
	if err := s.Store.StoreOAuthTokens(ctx, flow.OrganisationID, flow.ConnectionID, flow.ConfigKey, token); err != nil {
		s.Logger.ErrorContext(ctx, "oauth callback: store tokens", "connection_id", flow.ConnectionID, "error", err.Error())
		s.finish(w, r, flow, "server_error")
		return
	}
	s.Logger.InfoContext(ctx, "account connected", "connection_id", flow.ConnectionID, "auth_scheme_config", flow.ConfigKey)
	s.finish(w, r, flow, "")
}

// finish sends the browser back where the flow said, or shows the result.
func (s *Service) finish(w http.ResponseWriter, r *http.Request, flow *domain.OAuthFlow, errCode string) {
	if flow != nil && flow.ReturnURL != "" {
		http.Redirect(w, r, withStatus(flow.ReturnURL, errCode), http.StatusSeeOther)
		return
	}
	if errCode == "" {
		s.render(w, http.StatusOK, resultPage("Account connected", "You can close this window and go back to the application.", true))
		return
	}
	s.render(w, http.StatusBadRequest, resultPage("Not connected", "The account was not connected ("+errCode+"). Start again from the application.", false))
}

func (s *Service) internalError(w http.ResponseWriter, r *http.Request, what string, err error) {
	s.Logger.ErrorContext(r.Context(), what, "error", err.Error())
	s.render(w, http.StatusInternalServerError, resultPage("Something went wrong", "Plugboard could not complete this step. Try again in a moment.", false))
}

// session finds the page's session from the token in its path; the page answers 404 alike
// for an unknown and an expired token.
func (s *Service) session(w http.ResponseWriter, r *http.Request) (*domain.ConnectSession, string, bool) {
	token := r.PathValue("token")
	if !strings.HasPrefix(token, "pbc_") || len(token) > 100 {
		s.render(w, http.StatusNotFound, resultPage("Link not valid", "This connect link is not valid or has expired. Ask the application for a new one.", false))
		return nil, "", false
	}
	cs, err := s.Store.FindConnectSession(r.Context(), hash(token), s.now())
	if domain.ErrorCode(err) == domain.CodeNotFound {
		s.render(w, http.StatusNotFound, resultPage("Link not valid", "This connect link is not valid or has expired. Ask the application for a new one.", false))
		return nil, "", false
	}
	if err != nil {
		s.internalError(w, r, "find connect session", err)
		return nil, "", false
	}
	return cs, token, true
}

func (s *Service) showPage(w http.ResponseWriter, r *http.Request) {
	cs, token, ok := s.session(w, r)
	if !ok {
		return
	}
	notice := pageNotice{}
	switch q := r.URL.Query(); q.Get("status") {
	case "ok", "saved":
		notice.OK = "Your account is connected."
		if q.Get("status") == "saved" {
			notice.OK = "Saved. Your details are stored encrypted."
		}
		if cs.RedirectURL != nil {
			notice.Next = withStatus(*cs.RedirectURL, "")
		}
	case "error":
		code := q.Get("error")
		if !safeCode(code) {
			code = "server_error"
		}
		notice.Error = "The account was not connected (" + code + "). You can try again."
	}
	s.page(w, r, http.StatusOK, cs, token, notice)
}

// page renders the connect page of a session.
func (s *Service) page(w http.ResponseWriter, r *http.Request, status int, cs *domain.ConnectSession, token string, notice pageNotice) {
	conn, err := s.Store.FindConnection(r.Context(), cs.OrganisationID, cs.ConnectionID)
	if err != nil {
		if domain.ErrorCode(err) == domain.CodeNotFound {
			s.render(w, http.StatusNotFound, resultPage("Link not valid", "The connection of this link no longer exists.", false))
			return
		}
		s.internalError(w, r, "connect page: find connection", err)
		return
	}
	connector, err := s.Store.FindConnector(r.Context(), cs.OrganisationID, conn.ConnectorID)
	if err != nil {
		s.internalError(w, r, "connect page: find connector", err)
		return
	}
	kind := domain.CredentialAction
	creds, err := s.Store.ListCredentials(r.Context(), cs.OrganisationID, conn.ID, &kind)
	if err != nil {
		s.internalError(w, r, "connect page: list credentials", err)
		return
	}
	csrf := csrfToken(w, r, strings.HasPrefix(s.PublicURL, "https://"))
	data := connectData{
		Connector: connector.Name, Connection: conn.Name, IconURL: connector.IconURL, Action: "/connect/" + token,
		CSRF: csrf, Notice: notice,
	}
	for _, c := range connector.AuthSchemeConfigs {
		f, ok := formOf(c)
		if !ok {
			continue
		}
		i := slices.IndexFunc(creds, func(cr domain.Credential) bool { return cr.AuthSchemeConfigKey == c.Key })
		if i >= 0 {
			f.Set = creds[i].FieldsSet
		}
		if f.OAuth {
			f.Ready = slices.Contains(f.Set, domain.FieldClientID) && c.OAuth2.AuthorizeURL != nil && c.OAuth2.TokenURL != nil
			f.Connected = slices.Contains(f.Set, domain.FieldRefreshToken) || slices.Contains(f.Set, domain.FieldAccessToken)
			if c.OAuth2.AuthorizeURL != nil {
				if u, err := url.Parse(*c.OAuth2.AuthorizeURL); err == nil {
					data.FormOrigins = append(data.FormOrigins, u.Scheme+"://"+u.Host)
				}
			}
		}
		if notice.Config == c.Key {
			f.Error = notice.FormError
		}
		data.Forms = append(data.Forms, f)
	}
	s.render(w, status, data)
}

// submitForm stores the values of one config's form as the connection's ACTION credential.
func (s *Service) submitForm(w http.ResponseWriter, r *http.Request) {
	cs, token, ok := s.session(w, r)
	if !ok || !s.checkCSRF(w, r) {
		return
	}
	key := r.PostFormValue("config")
	config, ok := s.formConfig(w, r, cs, token, key)
	if !ok {
		return
	}
	f, shown := formOf(*config)
	if !shown || f.OAuth {
		// A page-level notice: such a config has no form to show a form error in.
		s.page(w, r, http.StatusBadRequest, cs, token, pageNotice{Error: "This sign-in method takes no values on this page: " +
			"it needs none, is signed in through its provider, or is set by the application."})
		return
	}
	var values []domain.Property
	for _, field := range f.Fields {
		if v := r.PostFormValue(field.Name); v != "" {
			values = append(values, domain.Property{Name: field.Name, Value: v})
		}
	}
	ctx := domain.WithActor(r.Context(), cs.Actor)
	_, err := s.Store.SetCredential(ctx, cs.OrganisationID, cs.ConnectionID, domain.CredentialInput{AuthSchemeConfigID: config.Key, Kind: domain.CredentialAction, Values: values})
	var derr *domain.Error
	if errors.As(err, &derr) && derr.Code == domain.CodeBadUserInput {
		// Messages name fields, never values; nothing typed is sent back into the page.
		s.page(w, r, http.StatusBadRequest, cs, token, pageNotice{Config: key, FormError: refusedMessage(f, values, derr)})
		return
	}
	if err != nil {
		s.internalError(w, r, "connect page: set credential", err)
		return
	}
	s.Logger.InfoContext(ctx, "credential set through a connect page", "connection_id", cs.ConnectionID, "auth_scheme_config", config.Key)
	http.Redirect(w, r, "/connect/"+token+"?status=saved", http.StatusSeeOther)
}

// startFromPage starts the OAuth2 flow of a config; the callback comes back to the page.
func (s *Service) startFromPage(w http.ResponseWriter, r *http.Request) {
	cs, token, ok := s.session(w, r)
	if !ok || !s.checkCSRF(w, r) {
		return
	}
	key := r.PostFormValue("config")
	target, err := s.Store.ConnectTarget(r.Context(), cs.OrganisationID, cs.ConnectionID, key)
	if code := domain.ErrorCode(err); code == domain.CodeNotFound || code == domain.CodeBadUserInput {
		s.page(w, r, http.StatusBadRequest, cs, token, pageNotice{Error: "That sign-in method does not exist."})
		return
	}
	if err != nil {
		s.internalError(w, r, "connect page: connect target", err)
		return
	}
	start, err := s.startFlow(r.Context(), cs.OrganisationID, target, s.PublicURL+"/connect/"+token, cs.Actor)
	if domain.ErrorCode(err) == domain.CodeBadUserInput {
		s.page(w, r, http.StatusBadRequest, cs, token, pageNotice{Config: key, FormError: "This sign-in method is not set up yet: the application must set its client id first."})
		return
	}
	if err != nil {
		s.internalError(w, r, "connect page: start oauth", err)
		return
	}
	http.Redirect(w, r, start.AuthorizationURL, http.StatusSeeOther)
}

// formConfig finds the config a form names among the connection's connector's.
func (s *Service) formConfig(w http.ResponseWriter, r *http.Request, cs *domain.ConnectSession, token, key string) (*domain.AuthSchemeConfig, bool) {
	conn, err := s.Store.FindConnection(r.Context(), cs.OrganisationID, cs.ConnectionID)
	if err != nil {
		s.internalError(w, r, "connect page: find connection", err)
		return nil, false
	}
	connector, err := s.Store.FindConnector(r.Context(), cs.OrganisationID, conn.ConnectorID)
	if err != nil {
		s.internalError(w, r, "connect page: find connector", err)
		return nil, false
	}
	i := slices.IndexFunc(connector.AuthSchemeConfigs, func(c domain.AuthSchemeConfig) bool { return c.Key == key })
	if i < 0 {
		s.page(w, r, http.StatusBadRequest, cs, token, pageNotice{Error: "That sign-in method does not exist."})
		return nil, false
	}
	return &connector.AuthSchemeConfigs[i], true
}

// csrfToken returns the browser's form token, setting the cookie that carries it when it has
// none (double submit: a cross-site page can neither read nor set the cookie).
func csrfToken(w http.ResponseWriter, r *http.Request, secure bool) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	v := randomToken()
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: v, Path: "/connect/", MaxAge: int(SessionTTL.Seconds()),
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode})
	return v
}

// checkCSRF reads the form (bounded) and compares its token with the cookie's.
func (s *Service) checkCSRF(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.render(w, http.StatusRequestEntityTooLarge, resultPage("Form not accepted", "The form could not be read.", false))
		return false
	}
	c, err := r.Cookie(csrfCookie)
	sent := r.PostFormValue("csrf")
	if err != nil || sent == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(sent)) != 1 {
		s.render(w, http.StatusForbidden, resultPage("Form expired", "This form could not be verified. Reload the page and try again.", false))
		return false
	}
	return true
}

// missingMessage says which fields a refused form lacks.
// refusedMessage says why setCredential refused a form: the rule's message on the field it
// names (messages name rules, never values), else what is missing.
func refusedMessage(f form, given []domain.Property, err *domain.Error) string {
	var i int
	if _, scanErr := fmt.Sscanf(err.Field, "values[%d].value", &i); scanErr == nil && i >= 0 && i < len(given) {
		label := given[i].Name
		for _, field := range f.Fields {
			if field.Name == label {
				label = field.Label
			}
		}
		return label + ": " + err.Message + "."
	}
	return missingMessage(f, given)
}

func missingMessage(f form, given []domain.Property) string {
	var missing []string
	for _, field := range f.Fields {
		if field.Required && !slices.ContainsFunc(given, func(p domain.Property) bool { return p.Name == field.Name }) {
			missing = append(missing, field.Label)
		}
	}
	if len(missing) > 0 {
		return "Fill in: " + strings.Join(missing, ", ") + "."
	}
	return "These values were not accepted; check them and try again."
}
