package server_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/internal/apitest"
	"github.com/plugboard/plugboard/internal/store"
	"github.com/plugboard/plugboard/internal/testdb"
)

// send makes one request with c's token and decodes the GraphQL errors of its answer.
func send(t *testing.T, c *apitest.Client, method, path, body string, headers map[string]string) (int, http.Header, []apitest.Error) {
	t.Helper()
	status, raw, header := c.Request(t, method, path, body, headers)
	var decoded struct{ Errors []apitest.Error }
	_ = json.Unmarshal([]byte(raw), &decoded)
	return status, header, decoded.Errors
}

func TestCORS(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		listed := apitest.NewWithOptions(t, st, apitest.Options{CORSOrigins: []string{"https://app.example.com"}})
		anyOrigin := apitest.NewWithOptions(t, st, apitest.Options{CORSOrigins: []string{"*"}})
		none := apitest.New(t, st)
		key := listed.NewOrg(t)
		preflight := map[string]string{"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"}
		for _, tc := range []struct {
			name     string
			h        *apitest.Harness
			origin   string
			method   string
			allowed  string // Access-Control-Allow-Origin, "" for none
			preflite bool
		}{
			{"ListedPreflight", listed, "https://app.example.com", http.MethodOptions, "https://app.example.com", true},
			{"ListedPost", listed, "https://app.example.com", http.MethodPost, "https://app.example.com", false},
			{"UnlistedPreflight", listed, "https://evil.example.com", http.MethodOptions, "", true},
			{"UnlistedPost", listed, "https://evil.example.com", http.MethodPost, "", false},
			{"AnyOrigin", anyOrigin, "https://whoever.example.org", http.MethodOptions, "*", true},
			{"NotConfigured", none, "https://app.example.com", http.MethodPost, "", false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				headers := map[string]string{"Origin": tc.origin, "Content-Type": "application/json"}
				c := key.On(tc.h)
				if tc.preflite {
					c = c.WithToken("") // browsers send no credentials on a preflight
					for k, v := range preflight {
						headers[k] = v
					}
				}
				status, h, _ := send(t, c, tc.method, "/graphql", `{"query":"{ viewer { scopes } }"}`, headers)
				if got := h.Get("Access-Control-Allow-Origin"); got != tc.allowed {
					t.Errorf("Allow-Origin %q, want %q", got, tc.allowed)
				}
				if h.Get("Access-Control-Allow-Credentials") != "" {
					t.Error("credentials mode must never be allowed")
				}
				switch {
				case tc.preflite && tc.allowed != "":
					if status != http.StatusNoContent || h.Get("Access-Control-Max-Age") != "600" ||
						!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") {
						t.Errorf("preflight: %d %v", status, h)
					}
				case tc.allowed != "":
					if status != http.StatusOK || !strings.Contains(h.Get("Access-Control-Expose-Headers"), "X-Request-ID") {
						t.Errorf("request: %d %v", status, h)
					}
				default:
					for name := range h {
						if strings.HasPrefix(name, "Access-Control-") {
							t.Errorf("an unlisted origin got %s", name)
						}
					}
				}
			})
		}
	})
}

// TestPersistedQueries follows Apollo's link: the hash alone first, then hash and query when
// the server does not know it, then the hash alone again; over POST and GET.
func TestPersistedQueries(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		query := `query Scopes { viewer { scopes } }`
		sum := sha256.Sum256([]byte(query))
		ext := `{"persistedQuery":{"version":1,"sha256Hash":"` + hex.EncodeToString(sum[:]) + `"}}`
		post := func(withQuery bool) []apitest.Error {
			body := `{"extensions":` + ext + `}`
			if withQuery {
				body = `{"query":` + strings.ReplaceAll(jsonString(query), "\n", "") + `,"extensions":` + ext + `}`
			}
			_, _, errs := send(t, c, http.MethodPost, "/graphql", body, map[string]string{"Content-Type": "application/json"})
			return errs
		}
		get := func() []apitest.Error {
			_, _, errs := send(t, c, http.MethodGet, "/graphql?extensions="+url.QueryEscape(ext), "", nil)
			return errs
		}
		notFound := func(errs []apitest.Error) bool {
			return len(errs) == 1 && errs[0].Message == "PersistedQueryNotFound" && errs[0].Extensions["code"] == "PERSISTED_QUERY_NOT_FOUND"
		}
		if errs := get(); !notFound(errs) {
			t.Fatalf("unknown hash over GET: %+v", errs)
		}
		if errs := post(false); !notFound(errs) {
			t.Fatalf("unknown hash: %+v", errs)
		}
		if errs := post(true); errs != nil {
			t.Fatalf("hash and query: %+v", errs)
		}
		if errs := post(false); errs != nil {
			t.Fatalf("known hash: %+v", errs)
		}
		if errs := get(); errs != nil {
			t.Fatalf("known hash over GET: %+v", errs)
		}
		body := `{"query":"{ viewer { scopes } }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"00"}}}`
		if _, _, errs := send(t, c, http.MethodPost, "/graphql", body, map[string]string{"Content-Type": "application/json"}); len(errs) != 1 || errs[0].Extensions["code"] != "BAD_USER_INPUT" {
			t.Errorf("a hash that is not the query's: %+v", errs)
		}
	})
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestHTTPRefusals: what a client that is not quite a GraphQL client sends is answered with a
// GraphQL error that has a code and names no Go type.
func TestHTTPRefusals(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		u := "/graphql"
		json := map[string]string{"Content-Type": "application/json"}
		mutation := url.QueryEscape(`mutation { createConnector(input: {name: "ByGet", protocolType: HTTP}) { id } }`)
		for _, tc := range []struct {
			name, method, target, body string
			headers                    map[string]string
			status                     int
			reason, allow              string
		}{
			{"MutationOverGET", http.MethodGet, u + "?query=" + mutation, "", nil, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "POST"},
			{"PUT", http.MethodPut, u, `{"query":"{ viewer { scopes } }"}`, json, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "GET, POST, OPTIONS"},
			{"Batch", http.MethodPost, u, `[{"query":"{ viewer { scopes } }"}]`, json, http.StatusBadRequest, "INVALID_PARAMETERS", ""},
			{"VariablesNotObject", http.MethodPost, u, `{"query":"{ viewer { scopes } }","variables":"x"}`, json, http.StatusBadRequest, "INVALID_PARAMETERS", ""},
			{"QueryNotString", http.MethodPost, u, `{"query":7}`, json, http.StatusBadRequest, "INVALID_PARAMETERS", ""},
			{"NoQuery", http.MethodPost, u, `{}`, json, http.StatusBadRequest, "INVALID_PARAMETERS", ""},
			{"TextPlain", http.MethodPost, u, `{"query":"{ viewer { scopes } }"}`, map[string]string{"Content-Type": "text/plain"}, http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", ""},
			{"GETVariablesNotJSON", http.MethodGet, u + "?query=" + url.QueryEscape("{ viewer { scopes } }") + "&variables=%7Bx", "", nil, http.StatusBadRequest, "INVALID_PARAMETERS", ""},
			{"InvalidUTF8", http.MethodPost, u, "{\"query\":\"mutation($d: String) { createConnector(input: {name: \\\"U\\\", protocolType: HTTP, description: $d}) { id } }\",\"variables\":{\"d\":\"a\xffb\"}}", json, http.StatusBadRequest, "INVALID_PARAMETERS", ""},
			{"InvalidUTF8InDocument", http.MethodPost, u, "{\"query\":\"mutation { createConnector(input: {name: \\\"U\xfe\\\", protocolType: HTTP}) { id } }\"}", json, http.StatusBadRequest, "INVALID_PARAMETERS", ""},
			{"LoneSurrogateInVariable", http.MethodPost, u, `{"query":"mutation($d: String) { createConnector(input: {name: \"S\", protocolType: HTTP, description: $d}) { id } }","variables":{"d":"a\udc00b"}}`, json, http.StatusBadRequest, "INVALID_PARAMETERS", ""},
			{"HighSurrogateAlone", http.MethodPost, u, `{"query":"mutation($d: String) { createConnector(input: {name: \"S\", protocolType: HTTP, description: $d}) { id } }","variables":{"d":"\ud83dx"}}`, json, http.StatusBadRequest, "INVALID_PARAMETERS", ""},
			{"LoneSurrogateInDocument", http.MethodPost, u, `{"query":"mutation { createConnector(input: {name: \"S\\udc00\", protocolType: HTTP}) { id } }"}`, json, http.StatusOK, "INVALID_PARAMETERS", ""},
			{"InvalidUTF8OverGET", http.MethodGet, u + "?query=" + url.QueryEscape("{ connectors(filter: {nameContains: \"\xff\"}) { totalCount } }"), "", nil, http.StatusBadRequest, "INVALID_PARAMETERS", ""},
			{"JSONTooDeep", http.MethodPost, u, `{"query":"{ viewer { scopes } }","variables":{"d":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}}`, json, http.StatusBadRequest, "INVALID_PARAMETERS", ""},
			{"ParseErrorJSON", http.MethodPost, u, `{"query":"{ viewer {"}`, json, http.StatusOK, "GRAPHQL_PARSE_FAILED", ""},
			{"ParseErrorGraphQLResponse", http.MethodPost, u, `{"query":"{ viewer {"}`, map[string]string{"Content-Type": "application/json", "Accept": "application/graphql-response+json"}, http.StatusBadRequest, "GRAPHQL_PARSE_FAILED", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, header, errs := send(t, c, tc.method, tc.target, tc.body, tc.headers)
				if status != tc.status || len(errs) != 1 || errs[0].Extensions["code"] != "BAD_USER_INPUT" || errs[0].Extensions["reason"] != tc.reason {
					t.Fatalf("got %d %+v, want %d %s", status, errs, tc.status, tc.reason)
				}
				if strings.Contains(errs[0].Message, "Go ") || strings.Contains(errs[0].Message, "graphql.RawParams") || strings.Contains(errs[0].Message, "map[string]") {
					t.Errorf("the message names a Go type: %s", errs[0].Message)
				}
				if header.Get("Allow") != tc.allow {
					t.Errorf("Allow %q, want %q", header.Get("Allow"), tc.allow)
				}
			})
		}
		if n := c.Do(t, `{ connectors { totalCount } }`, nil).Int("connectors.totalCount"); n != 0 {
			t.Errorf("refused mutations created %d connectors", n)
		}
		// A surrogate pair is one character, and is kept.
		status, body, _ := c.Post(t, `{"query":"mutation($d: String) { createConnector(input: {name: \"Pair\", protocolType: HTTP, description: $d}) { description } }","variables":{"d":"\ud83d\ude00"}}`, nil)
		if status != http.StatusOK || !strings.Contains(body, `"description":"😀"`) {
			t.Errorf("a surrogate pair: %d %s", status, body)
		}
	})
}
