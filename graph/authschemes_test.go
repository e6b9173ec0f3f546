package graph_test

import (
	"strings"
	"testing"

	"github.com/plugboard/plugboard/internal/apitest"
)

const configFields = `id key description schemeType verifySSL validationMessages apiKey { in name }
  oauth2 { grant tokenURL authorizeURL scopes audience authorizationPrefix headerAuthorization }`

var (
	createConfig = `mutation($c: ID!, $input: AuthSchemeConfigInput!) { createAuthSchemeConfig(connectorId: $c, input: $input) { ` + configFields + ` } }`
	updateConfig = `mutation($c: ID!, $id: ID!, $input: AuthSchemeConfigInput!) { updateAuthSchemeConfig(connectorId: $c, id: $id, input: $input) { ` + configFields + ` } }`
	deleteConfig = `mutation($c: ID!, $id: ID!) { deleteAuthSchemeConfig(connectorId: $c, id: $id) }`
)

func TestAuthSchemeConfigTypesAndDefaults(t *testing.T) {
	cases := []struct {
		name     string
		input    map[string]any
		want     string // JSON of the fields checked
		path     string
		messages []string
	}{
		{"None", map[string]any{"id": "none", "schemeType": "NONE"}, `null`, "oauth2", nil},
		{"Basic", map[string]any{"id": "basic", "schemeType": "BASIC", "description": "user login"}, `"user login"`, "description", nil},
		{"Bearer", map[string]any{"id": "bearer", "schemeType": "BEARER"}, `true`, "verifySSL", nil},
		{"APIKeyDefaultsToHeader", map[string]any{"id": "k", "schemeType": "API_KEY", "apiKey": map[string]any{"name": "X-Api-Key"}},
			`{"in":"HEADER","name":"X-Api-Key"}`, "apiKey", nil},
		{"APIKeyWithoutName", map[string]any{"id": "k2", "schemeType": "API_KEY"}, `{"in":"HEADER","name":null}`, "apiKey",
			[]string{"API key name is not set"}},
		{"OAuth2Defaults", map[string]any{"id": "o", "schemeType": "OAUTH2", "oauth2": map[string]any{
			"grant": "CLIENT_CREDENTIALS", "tokenURL": "https://idp.example.com/token", "scopes": []any{"read", "write"}, "audience": "https://api.example.com",
		}}, `{"audience":"https://api.example.com","authorizationPrefix":"Bearer","authorizeURL":null,"grant":"CLIENT_CREDENTIALS","headerAuthorization":"Authorization","scopes":["read","write"],"tokenURL":"https://idp.example.com/token"}`, "oauth2", nil},
		{"OAuth2Custom", map[string]any{"id": "o2", "schemeType": "OAUTH2", "oauth2": map[string]any{
			"grant": "PASSWORD", "tokenURL": "https://pm.example.com/workspace/oauth2/token", "authorizationPrefix": "Token", "headerAuthorization": "X-Auth",
		}}, `"Token X-Auth"`, "", nil},
		{"OAuth2PasswordWithoutTokenURL", map[string]any{"id": "o3", "schemeType": "OAUTH2", "oauth2": map[string]any{"grant": "PASSWORD"}},
			"", "", []string{"password grant needs a token URL"}},
		{"OAuth2PasswordWithoutSSL", map[string]any{"id": "o4", "schemeType": "OAUTH2", "verifySSL": false,
			"oauth2": map[string]any{"grant": "PASSWORD", "tokenURL": "https://idp.example.com/token"}},
			"", "", []string{"SSL certificate verification is required for the OAuth2 password grant"}},
		{"OAuth2NoGrant", map[string]any{"id": "o5", "schemeType": "OAUTH2"}, "", "", []string{"grant is not set"}},
		{"OAuth2AuthorizationCode", map[string]any{"id": "o6", "schemeType": "OAUTH2", "oauth2": map[string]any{"grant": "AUTHORIZATION_CODE", "tokenURL": "http://idp.example.com/token"}},
			"", "", []string{"needs an authorize URL", "not HTTPS"}},
		{"BasicWithoutSSL", map[string]any{"id": "b2", "schemeType": "BASIC", "verifySSL": false}, `false`, "verifySSL",
			[]string{"verification is off"}},
		{"ValidationMessagesIgnoredOnInput", map[string]any{"id": "ign", "schemeType": "BEARER", "validationMessages": []any{"forged"}}, `[]`, "validationMessages", nil},
	}
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		id := mustCreate(t, c, map[string]any{"name": "Configs", "protocolType": "HTTP"}).String("createConnector.id")
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := c.Do(t, createConfig, map[string]any{"c": id, "input": tc.input}).OK(t)
				p := "createAuthSchemeConfig"
				switch {
				case tc.name == "OAuth2Custom":
					got := `"` + r.String(p+".oauth2.authorizationPrefix") + " " + r.String(p+".oauth2.headerAuthorization") + `"`
					if got != tc.want {
						t.Errorf("got %s, want %s", got, tc.want)
					}
				case tc.path != "":
					if got := r.JSON(p + "." + tc.path); got != tc.want {
						t.Errorf("%s = %s, want %s", tc.path, got, tc.want)
					}
				}
				msgs := r.JSON(p + ".validationMessages")
				if len(tc.messages) == 0 && msgs != "[]" && tc.name != "OAuth2Custom" {
					t.Errorf("unexpected validation messages %s", msgs)
				}
				for _, m := range tc.messages {
					if !strings.Contains(msgs, m) {
						t.Errorf("validation messages %s lack %q", msgs, m)
					}
				}
			})
		}
		r := c.Do(t, getConnector, map[string]any{"id": id}).OK(t)
		if n := len(r.List("connector.authSchemeConfigs")); n != len(cases) {
			t.Errorf("connector has %d configs, want %d", n, len(cases))
		}
		if r.Int("connector.revision") != 1+len(cases) {
			t.Errorf("each config change must bump the revision: %d", r.Int("connector.revision"))
		}
	})
}

func TestAuthSchemeConfigUpdateDelete(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		id := mustCreate(t, c, fullConnector("Configs")).String("createConnector.id")
		t.Run("FullReplace", func(t *testing.T) {
			c.Do(t, createConfig, map[string]any{"c": id, "input": map[string]any{"id": "o", "schemeType": "OAUTH2", "description": "d", "verifySSL": false,
				"oauth2": map[string]any{"grant": "PASSWORD", "tokenURL": "https://idp.example.com/t", "scopes": []any{"a"}}}}).OK(t)
			r := c.Do(t, updateConfig, map[string]any{"c": id, "id": "o", "input": map[string]any{"id": "o", "schemeType": "OAUTH2",
				"oauth2": map[string]any{"grant": "CLIENT_CREDENTIALS"}}}).OK(t)
			p := "updateAuthSchemeConfig."
			if r.Get(p+"description") != nil || r.Get(p+"verifySSL") != true || r.Get(p+"oauth2.tokenURL") != nil || r.JSON(p+"oauth2.scopes") != "[]" {
				t.Errorf("omitted fields must be unset or defaulted: %s", r.Body)
			}
			after := c.Do(t, getConnector, map[string]any{"id": id}).OK(t)
			if after.String("connector.authSchemeConfigs.0.key") != "basic" || after.String("connector.authSchemeConfigs.2.key") != "o" {
				t.Errorf("order must be kept: %s", after.JSON("connector.authSchemeConfigs"))
			}
		})
		t.Run("RenameAndType", func(t *testing.T) {
			r := c.Do(t, updateConfig, map[string]any{"c": id, "id": "basic", "input": map[string]any{"id": "bearer", "schemeType": "BEARER"}}).OK(t)
			if r.String("updateAuthSchemeConfig.key") != "bearer" {
				t.Errorf("rename failed: %s", r.Body)
			}
			got := c.Do(t, getConnector, map[string]any{"id": id}).OK(t).String("connector.authSchemeConfigs.0.key")
			if got != "bearer" {
				t.Errorf("renamed config must keep its place, first is %q", got)
			}
		})
		before := snapshot(t, c, id)
		bad := []struct {
			name, query string
			vars        map[string]any
			code, field string
		}{
			{"ErrCreateDuplicateID", createConfig, map[string]any{"c": id, "input": map[string]any{"id": "key", "schemeType": "BASIC"}}, "BAD_USER_INPUT", "id"},
			{"ErrUpdateRenameToTaken", updateConfig, map[string]any{"c": id, "id": "bearer", "input": map[string]any{"id": "key", "schemeType": "BASIC"}}, "BAD_USER_INPUT", "id"},
			{"ErrUpdateMissing", updateConfig, map[string]any{"c": id, "id": "nope", "input": map[string]any{"id": "nope", "schemeType": "BASIC"}}, "NOT_FOUND", ""},
			{"ErrUpdateBadURL", updateConfig, map[string]any{"c": id, "id": "o", "input": map[string]any{"id": "o", "schemeType": "OAUTH2", "oauth2": map[string]any{"authorizeURL": "x"}}}, "BAD_USER_INPUT", "oauth2.authorizeURL"},
			{"ErrUpdateBadHeader", updateConfig, map[string]any{"c": id, "id": "o", "input": map[string]any{"id": "o", "schemeType": "OAUTH2", "oauth2": map[string]any{"headerAuthorization": "Bad Header"}}}, "BAD_USER_INPUT", "oauth2.headerAuthorization"},
			{"ErrUpdateBadScope", updateConfig, map[string]any{"c": id, "id": "o", "input": map[string]any{"id": "o", "schemeType": "OAUTH2", "oauth2": map[string]any{"scopes": []any{"a b"}}}}, "BAD_USER_INPUT", "oauth2.scopes[0]"},
			{"ErrAPIKeyBadName", createConfig, map[string]any{"c": id, "input": map[string]any{"id": "k9", "schemeType": "API_KEY", "apiKey": map[string]any{"name": "a:b c"}}}, "BAD_USER_INPUT", "apiKey.name"},
			{"ErrOAuthOnBearer", createConfig, map[string]any{"c": id, "input": map[string]any{"id": "x", "schemeType": "BEARER", "oauth2": map[string]any{}}}, "BAD_USER_INPUT", "oauth2"},
			{"ErrDeleteMissing", deleteConfig, map[string]any{"c": id, "id": "nope"}, "NOT_FOUND", ""},
			{"ErrConnectorMissing", createConfig, map[string]any{"c": "missing", "input": map[string]any{"id": "z", "schemeType": "BASIC"}}, "NOT_FOUND", ""},
		}
		for _, tc := range bad {
			t.Run(tc.name, func(t *testing.T) {
				c.Do(t, tc.query, tc.vars).ExpectError(t, tc.code, tc.field)
				if snapshot(t, c, id) != before {
					t.Fatal("a rejected change modified the connector")
				}
			})
		}
		t.Run("Delete", func(t *testing.T) {
			c.Do(t, deleteConfig, map[string]any{"c": id, "id": "key"}).OK(t)
			r := c.Do(t, getConnector, map[string]any{"id": id}).OK(t)
			for _, cfg := range r.List("connector.authSchemeConfigs") {
				if cfg.(map[string]any)["id"] == "key" {
					t.Fatal("deleted config still listed")
				}
			}
		})
	})
}
