package domain_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/internal/domain"
)

func TestAuthSchemeConfigNormalize(t *testing.T) {
	password := domain.GrantPassword
	cases := []struct {
		name  string
		in    domain.AuthSchemeConfig
		field string
		check func(t *testing.T, c domain.AuthSchemeConfig)
	}{
		{"APIKeyDefaults", domain.AuthSchemeConfig{Key: "k", SchemeType: domain.SchemeAPIKey}, "", func(t *testing.T, c domain.AuthSchemeConfig) {
			if c.APIKey == nil || c.APIKey.In != domain.APIKeyInHeader {
				t.Errorf("got %+v", c.APIKey)
			}
		}},
		{"OAuth2Defaults", domain.AuthSchemeConfig{Key: "o", SchemeType: domain.SchemeOAuth2}, "", func(t *testing.T, c domain.AuthSchemeConfig) {
			if c.OAuth2.AuthorizationPrefix != "Bearer" || c.OAuth2.HeaderAuthorization != "Authorization" || c.OAuth2.Scopes == nil {
				t.Errorf("got %+v", c.OAuth2)
			}
		}},
		{"ErrID", domain.AuthSchemeConfig{Key: "has space", SchemeType: domain.SchemeNone}, "id", nil},
		{"ErrIDTooLong", domain.AuthSchemeConfig{Key: strings.Repeat("i", 65), SchemeType: domain.SchemeNone}, "id", nil},
		{"ErrType", domain.AuthSchemeConfig{Key: "x", SchemeType: "DIGEST"}, "schemeType", nil},
		{"ErrTypeMissing", domain.AuthSchemeConfig{Key: "x"}, "schemeType", nil},
		{"ErrAPIKeyOnBasic", domain.AuthSchemeConfig{Key: "x", SchemeType: domain.SchemeBasic, APIKey: &domain.APIKeySettings{}}, "apiKey", nil},
		{"ErrAPIKeyIn", domain.AuthSchemeConfig{Key: "x", SchemeType: domain.SchemeAPIKey, APIKey: &domain.APIKeySettings{In: "BODY"}}, "apiKey.in", nil},
		{"ErrGrant", domain.AuthSchemeConfig{Key: "x", SchemeType: domain.SchemeOAuth2, OAuth2: &domain.OAuth2Settings{Grant: ptr(domain.OAuth2Grant("IMPLICIT"))}}, "oauth2.grant", nil},
		{"ErrPrefix", domain.AuthSchemeConfig{Key: "x", SchemeType: domain.SchemeOAuth2, OAuth2: &domain.OAuth2Settings{Grant: &password, AuthorizationPrefix: "Two words"}}, "oauth2.authorizationPrefix", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.in
			checkField(t, c.Normalize(), tc.field)
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

func TestValidationMessages(t *testing.T) {
	g := func(v domain.OAuth2Grant) *domain.OAuth2Grant { return &v }
	cases := []struct {
		name string
		c    domain.AuthSchemeConfig
		want []string
	}{
		{"CompleteBasic", domain.AuthSchemeConfig{SchemeType: domain.SchemeBasic, VerifySSL: true}, nil},
		{"PasswordWithoutTokenURL", domain.AuthSchemeConfig{SchemeType: domain.SchemeOAuth2, VerifySSL: true, OAuth2: &domain.OAuth2Settings{Grant: g(domain.GrantPassword)}},
			[]string{"needs a token URL"}},
		{"PasswordWithoutSSL", domain.AuthSchemeConfig{SchemeType: domain.SchemeOAuth2, OAuth2: &domain.OAuth2Settings{Grant: g(domain.GrantPassword), TokenURL: ptr("https://t")}},
			[]string{"required for the OAuth2 password grant"}},
		{"ClientCredentialsComplete", domain.AuthSchemeConfig{SchemeType: domain.SchemeOAuth2, VerifySSL: true, OAuth2: &domain.OAuth2Settings{Grant: g(domain.GrantClientCredentials), TokenURL: ptr("https://t")}}, nil},
		{"BearerWithoutSSL", domain.AuthSchemeConfig{SchemeType: domain.SchemeBearer}, []string{"verification is off"}},
		{"APIKeyWithoutName", domain.AuthSchemeConfig{SchemeType: domain.SchemeAPIKey, VerifySSL: true, APIKey: &domain.APIKeySettings{In: domain.APIKeyInHeader}}, []string{"name is not set"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.c.ValidationMessages()
			if got == nil || len(got) != len(tc.want) {
				t.Fatalf("got %q, want %d messages like %q", got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("message %q lacks %q", got[i], w)
				}
			}
		})
	}
}

// A key is refused when it takes another config's key (or a look-alike of it) or another
// config's global id, each with its own reason; a config keeps its own key.
func TestConfigIDTaken(t *testing.T) {
	configs := []domain.AuthSchemeConfig{{Key: "oauth", GlobalID: "c1.aaaa"}, {Key: "basic", GlobalID: "c1.bbbb"}}
	for _, tc := range []struct {
		name, id string
		except   int
		reason   string // in the message; empty: free
	}{
		{"Free", "apikey", -1, ""},
		{"OwnKey", "oauth", 0, ""},
		{"SameKey", "oauth", -1, "already the id"},
		{"LookAlike", "ＯＡuth", 1, "counts as the same id"},
		{"AnotherConfigsGlobalID", "c1.bbbb", 0, "is the global id of the auth scheme config \"basic\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := domain.ConfigIDTaken(configs, tc.except, tc.id)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var e *domain.Error
			if !errors.As(err, &e) || e.Code != domain.CodeBadUserInput || e.Field != "id" || !strings.Contains(e.Message, tc.reason) {
				t.Fatalf("want BAD_USER_INPUT on id saying %q, got %v", tc.reason, err)
			}
		})
	}
}
