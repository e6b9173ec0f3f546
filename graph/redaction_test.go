package graph_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"unicode/utf16"

	"github.com/plugboard/plugboard/internal/apitest"
)

// httpbin is an upstream that echoes the whole request back, as httpbin.org's /anything does,
// and shows it in the other encodings upstreams use: the request headers as response headers,
// raw and in base64 (both alphabets, padded or not); the echo as Go, Python (ASCII only, headers read as Latin-1 like WSGI) and
// PHP (ASCII only, escaped slashes) encode JSON; links with query values in a path; the query
// re-encoded as JavaScript's encodeURIComponent does.
type httpbin struct {
	*httptest.Server
	mu   sync.Mutex
	sent strings.Builder // every answer, headers and body
}

func newHTTPBin(t *testing.T) *httpbin {
	hb := &httpbin{}
	hb.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		headers, latin := map[string]string{}, map[string]string{}
		for n, vs := range r.Header {
			v := strings.Join(vs, ",")
			headers[n], latin[n] = v, latin1Of(v)
			w.Header().Set("X-Echo-"+n, v)
			for name, enc := range map[string]*base64.Encoding{"B64": base64.StdEncoding, "B64url": base64.URLEncoding, "B64raw": base64.RawStdEncoding, "B64urlraw": base64.RawURLEncoding} {
				w.Header().Set("X-Echo-"+name+"-"+n, enc.EncodeToString([]byte(v)))
			}
		}
		echo := map[string]any{"method": r.Method, "url": "http://" + r.Host + r.RequestURI, "args": r.URL.Query(), "headers": headers, "data": string(data)}
		var links, js []string
		for name, vs := range r.URL.Query() {
			for _, v := range vs {
				links = append(links, "/items/"+url.PathEscape(v))
				js = append(js, uriComponent(name)+"="+uriComponent(v))
			}
		}
		sort.Strings(links)
		sort.Strings(js)
		goEcho := string(must(json.Marshal(echo)))
		echo["headers"] = latin
		body := fmt.Sprintf(`{"go":%s,"python":%s,"php":%s,"links":%s,"url_js":%s}`,
			goEcho, pythonJSON(echo), phpJSON(echo), must(json.Marshal(links)), must(json.Marshal(r.URL.Path+"?"+strings.Join(js, "&"))))
		hb.mu.Lock()
		w.Header().Write(&hb.sent)
		hb.sent.WriteString(body)
		hb.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, body)
	}))
	t.Cleanup(hb.Close)
	return hb
}

func (hb *httpbin) answers() string {
	hb.mu.Lock()
	defer hb.mu.Unlock()
	return hb.sent.String()
}

func latin1Of(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteRune(rune(s[i]))
	}
	return b.String()
}

func uriComponent(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

// pythonJSON encodes as Python's json.dumps: & < > as they are, everything beyond ASCII as
// \uXXXX (UTF-16 surrogate pairs beyond the Basic Multilingual Plane).
func pythonJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	var out strings.Builder
	for _, r := range strings.TrimSuffix(b.String(), "\n") {
		switch {
		case r < 0x80:
			out.WriteRune(r)
		case r > 0xFFFF:
			hi, lo := utf16.EncodeRune(r)
			fmt.Fprintf(&out, `\u%04x\u%04x`, hi, lo)
		default:
			fmt.Fprintf(&out, `\u%04x`, r)
		}
	}
	return out.String()
}

// phpJSON encodes as PHP's json_encode: Python's way, and slashes escaped.
func phpJSON(v any) string { return strings.ReplaceAll(pythonJSON(v), "/", `\/`) }

// secretEncodings returns, by name, every form of s an upstream or Plugboard may write.
func secretEncodings(s string) map[string]string {
	b := []byte(s)
	base := map[string]string{
		"plain": s, "query-escaped": url.QueryEscape(s), "path-escaped": url.PathEscape(s), "uri-component": uriComponent(s),
		"base64": base64.StdEncoding.EncodeToString(b), "base64url": base64.URLEncoding.EncodeToString(b),
		"base64-raw": base64.RawStdEncoding.EncodeToString(b), "base64url-raw": base64.RawURLEncoding.EncodeToString(b),
		"latin1": latin1Of(s),
	}
	inner := func(quoted string) string { return quoted[1 : len(quoted)-1] }
	out := map[string]string{}
	for name, f := range base {
		out[name] = f
		out[name+" in Go JSON"] = inner(string(must(json.Marshal(f))))
		out[name+" in Python JSON"] = inner(pythonJSON(f))
		out[name+" in PHP JSON"] = inner(phpJSON(f))
	}
	return out
}

// TestOutboundSecretsInEveryEncoding calls an echoing upstream with secrets full of characters
// that every encoding changes, and searches answers, logs and audit events for every encoding
// of every secret. The upstream is checked to have shown each encoding the redactor must catch,
// so that the search proves something.
func TestOutboundSecretsInEveryEncoding(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		const (
			// 14 bytes with the colon: the base64 of the password alone, redacted on its own,
			// does not line up with its part of the Basic credentials' base64.
			user         = "üser+/=&%nam"
			password     = "pä ss?+/=&%€😀<>"     // the Basic credentials' base64 has a slash
			headerKey    = `hk?~+/=&%" ключ >>>` // its base64 has + and /, and padding
			queryKey     = `qk+/=&%" é?#`
			bearer       = "bt+/=&%ü~ tok"
			clientSecret = "cs+/=&%ß secret"
			accessToken  = "at+/=&%é-fresh"
			refreshToken = "rt+/=&%é-fresh"
		)
		basic := user + ":" + password
		tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{"access_token": accessToken, "token_type": "Bearer", "expires_in": 3600, "refresh_token": refreshToken})
		}))
		defer tokens.Close()
		hb := newHTTPBin(t)
		c := h.NewOrg(t)
		configs := []any{
			map[string]any{"id": "basic", "schemeType": "BASIC"},
			map[string]any{"id": "k", "schemeType": "API_KEY", "apiKey": map[string]any{"name": "X-Key"}},
			map[string]any{"id": "q", "schemeType": "API_KEY", "apiKey": map[string]any{"in": "QUERY", "name": "key"}},
			map[string]any{"id": "o", "schemeType": "OAUTH2", "oauth2": map[string]any{"grant": "CLIENT_CREDENTIALS", "tokenURL": tokens.URL, "headerAuthorization": "X-OAuth", "authorizationPrefix": "Token"}},
		}
		creds := []map[string]any{
			{"authSchemeConfigId": "basic", "kind": "ACTION", "values": vars("username", user, "password", password)},
			{"authSchemeConfigId": "k", "kind": "ACTION", "values": vars("apiKey", headerKey)},
			{"authSchemeConfigId": "q", "kind": "ACTION", "values": vars("apiKey", queryKey)},
			{"authSchemeConfigId": "o", "kind": "ACTION", "values": vars("clientId", "client-id-1234", "clientSecret", clientSecret)},
		}
		action := getAction("anything", "/anything/{{tenant}}?q={{tenant}}")
		_, conn := actionFixture(t, c, hb.URL, configs, []any{action}, creds)
		_, bearerConn := actionFixture(t, c, hb.URL, []any{map[string]any{"id": "b", "schemeType": "BEARER"}}, []any{action},
			[]map[string]any{{"authSchemeConfigId": "b", "kind": "ACTION", "values": vars("token", bearer)}})

		var answers []string
		for _, cn := range []string{conn, bearerConn} {
			r := c.Do(t, executeAction, map[string]any{"c": cn, "a": "anything"}).OK(t)
			if r.Get("executeAction.ok") != true || !strings.Contains(r.Body, "[REDACTED]") {
				t.Fatalf("the echo should show redactions: %s", r.Body)
			}
			// The answer as sent (JSON-escaped) and its strings as a client reads them.
			answers = append(answers, r.Body, r.String("executeAction.body"), r.String("executeAction.error"))
			for _, hd := range r.List("executeAction.headers") {
				answers = append(answers, hd.(map[string]any)["value"].(string))
			}
			answers = append(answers, c.Do(t, testConnection, map[string]any{"c": cn}).OK(t).Body)
		}

		// The upstream showed each of these; each is a redaction that must hold.
		echoed := hb.answers()
		for _, shown := range []struct{ secret, encoding string }{
			{basic, "base64"},                     // Authorization: Basic …
			{basic, "base64 in PHP JSON"},         // with its slash escaped
			{queryKey, "query-escaped"},           // the URL as requested
			{queryKey, "path-escaped in Go JSON"}, // links
			{queryKey, "uri-component"},           // url_js
			{queryKey, "plain in Go JSON"},        // args
			{queryKey, "plain in Python JSON"},
			{queryKey, "plain in PHP JSON"},
			{headerKey, "plain"},                 // X-Echo-X-Key
			{headerKey, "base64"},                // X-Echo-B64-X-Key
			{headerKey, "base64url"},             // X-Echo-B64url-X-Key
			{headerKey, "base64-raw"},            // X-Echo-B64raw-X-Key
			{headerKey, "base64url-raw"},         // X-Echo-B64urlraw-X-Key
			{headerKey, "latin1 in Python JSON"}, // WSGI's view of the header
			{headerKey, "latin1 in PHP JSON"},
			{accessToken, "plain"}, // X-Echo-X-Oauth: the token fetched for this call
			{accessToken, "plain in Go JSON"},
			{bearer, "plain"},
		} {
			if form := secretEncodings(shown.secret)[shown.encoding]; !strings.Contains(echoed, form) {
				t.Errorf("the upstream never showed %q as %s (%q): the test proves nothing for it", shown.secret, shown.encoding, form)
			}
		}

		sqlDB, _ := h.Store.SQL()
		places := map[string]string{"answers": strings.Join(answers, "\n"), "log": h.Logs.String(), "audit events": dumpTable(t, sqlDB, "audit_events")}
		for _, secret := range []string{user, password, basic, headerKey, queryKey, bearer, clientSecret, accessToken, refreshToken} {
			for encoding, form := range secretEncodings(secret) {
				for place, text := range places {
					if strings.Contains(text, form) {
						t.Errorf("the %s show %q as %s (%q)", place, secret, encoding, form)
					}
				}
			}
		}
	})
}
