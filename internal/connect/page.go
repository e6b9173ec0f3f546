package connect

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"html/template"
	"net/http"
	"strings"

	"github.com/plugboard/plugboard/internal/domain"
)

//go:embed page.html
var pageFS embed.FS

var pageTemplate = template.Must(template.ParseFS(pageFS, "page.html"))

// field is one input of a form.
type field struct {
	Name, Label, Type, Autocomplete string
	Required                        bool
}

// form is one config's part of the connect page.
type form struct {
	Key, Title, Scheme string
	Fields             []field
	// OAuth forms are a button that starts the authorization-code flow; Ready when the
	// application has set the client id it needs.
	OAuth, Ready bool
	// Connected: an OAuth form's credential holds tokens already.
	Connected bool
	// Set names the fields the connection's credential holds already (never values).
	Set   []string
	Error string
}

// pageNotice is what the page says above its forms.
type pageNotice struct {
	OK, Error string
	// Next is where the page sends the browser after a success (the session's redirectURL).
	Next string
	// Config and FormError: a form's submission was refused, and why.
	Config, FormError string
}

type connectData struct {
	Connector, Connection string
	Monogram              string
	IconURL               *string
	Action, CSRF          string
	Forms                 []form
	Notice                pageNotice
	// FormOrigins are where forms may lead besides this server: the providers' authorization
	// pages, which the OAuth button's redirect reaches.
	FormOrigins []string
}

type resultData struct {
	Title, Message string
	OK             bool
}

func resultPage(title, message string, ok bool) resultData {
	return resultData{Title: title, Message: message, OK: ok}
}

var (
	username = field{Name: domain.FieldUsername, Label: "Username", Type: "text", Autocomplete: "username", Required: true}
	password = field{Name: domain.FieldPassword, Label: "Password", Type: "password", Autocomplete: "current-password", Required: true}
	clientID = field{Name: domain.FieldClientID, Label: "Client ID", Type: "text", Autocomplete: "off", Required: true}
	secret   = field{Name: domain.FieldClientSecret, Label: "Client secret", Type: "password", Autocomplete: "off", Required: true}
)

// formOf is the form a config gets on the page; ok is false for configs the page does not
// show (NONE needs nothing; HMAC and other TRIGGER-only kinds are not for accounts).
func formOf(c domain.AuthSchemeConfig) (form, bool) {
	f := form{Key: c.Key, Title: c.Key, Scheme: string(c.SchemeType)}
	if c.Description != nil && *c.Description != "" {
		f.Title = *c.Description
	}
	switch c.SchemeType {
	case domain.SchemeBasic:
		f.Scheme, f.Fields = "Username and password", []field{username, password}
	case domain.SchemeBearer:
		f.Scheme, f.Fields = "Access token", []field{{Name: domain.FieldToken, Label: "Token", Type: "password", Autocomplete: "off", Required: true}}
	case domain.SchemeAPIKey:
		f.Scheme, f.Fields = "API key", []field{{Name: domain.FieldAPIKey, Label: "API key", Type: "password", Autocomplete: "off", Required: true}}
	case domain.SchemeOAuth2:
		o := c.OAuth2
		if o == nil || o.Grant == nil {
			return f, false
		}
		switch *o.Grant {
		case domain.GrantAuthorizationCode:
			f.Scheme, f.OAuth = "Sign in with the provider", true
		case domain.GrantClientCredentials:
			f.Scheme, f.Fields = "OAuth2 client credentials", []field{clientID, secret}
		case domain.GrantPassword:
			f.Scheme, f.Fields = "OAuth2 password", []field{clientID, secret, username, password}
		default:
			return f, false
		}
	default:
		return f, false
	}
	return f, true
}

// render writes a page under a Content-Security-Policy that allows its own inline style (by
// nonce), images from anywhere (the connector's icon) and nothing else.
func (s *Service) render(w http.ResponseWriter, status int, data any) {
	nonceBytes := make([]byte, 16)
	_, _ = rand.Read(nonceBytes)
	nonce := base64.StdEncoding.EncodeToString(nonceBytes)
	formAction := "'self'"
	if d, ok := data.(connectData); ok {
		for _, o := range d.FormOrigins {
			if !strings.ContainsAny(o, " ;,'\"") {
				formAction += " " + o
			}
		}
	}
	var buf bytes.Buffer
	vars := map[string]any{"Nonce": nonce}
	switch d := data.(type) {
	case connectData:
		if r := []rune(d.Connector); len(r) > 0 {
			d.Monogram = strings.ToUpper(string(r[0]))
		}
		vars["Connect"] = d
	case resultData:
		vars["Result"] = d
	}
	if err := pageTemplate.Execute(&buf, vars); err != nil {
		s.Logger.Error("render connect page", "error", err.Error())
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+nonce+"'; img-src https: http: data:; form-action "+formAction+"; base-uri 'none'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
