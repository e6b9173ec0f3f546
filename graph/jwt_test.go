package graph_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/plugboard/plugboard/internal/apitest"
	"github.com/plugboard/plugboard/internal/auth"
	"github.com/plugboard/plugboard/internal/config"
	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/store"
	"github.com/plugboard/plugboard/internal/testdb"
)

const (
	testIssuer   = "https://idp.example.com/"
	testAudience = "plugboard"
)

// jwksDelay is how long the identity provider takes to answer: a real one is some way off,
// and a refetch must not give up before it answers.
const jwksDelay = 50 * time.Millisecond

// identityProvider serves a JWKS of RSA keys, after jwksDelay, and signs tokens with them.
type identityProvider struct {
	mu      sync.Mutex
	keys    map[string]*rsa.PrivateKey
	fetches atomic.Int32
	server  *httptest.Server
}

func newIdentityProvider(t *testing.T) *identityProvider {
	idp := &identityProvider{keys: map[string]*rsa.PrivateKey{}}
	idp.addKey(t, "k1")
	idp.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(jwksDelay)
		idp.fetches.Add(1)
		idp.mu.Lock()
		defer idp.mu.Unlock()
		var keys []map[string]string
		for kid, k := range idp.keys {
			keys = append(keys, map[string]string{
				"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
				"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
				"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes()),
			})
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	}))
	t.Cleanup(idp.server.Close)
	return idp
}

func (idp *identityProvider) addKey(t *testing.T, kid string) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	idp.mu.Lock()
	idp.keys[kid] = k
	idp.mu.Unlock()
	return k
}

func (idp *identityProvider) key(kid string) *rsa.PrivateKey {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	return idp.keys[kid]
}

// claims returns valid claims for org with scopes, to be edited by each case.
func claims(org string, scopes any) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{"iss": testIssuer, "aud": testAudience, "sub": "user-42", "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(), "scope": scopes}
	if org != "" {
		c["org_id"] = org
	}
	return c
}

func sign(t *testing.T, method jwt.SigningMethod, kid string, key any, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func jwtHarness(t *testing.T, st *store.Store, cfg config.JWT) *apitest.Harness {
	t.Helper()
	return jwtHarnessWith(t, st, cfg, auth.JWTOptions{UnknownKIDRefreshEvery: 200 * time.Millisecond})
}

func jwtHarnessWith(t *testing.T, st *store.Store, cfg config.JWT, opts auth.JWTOptions) *apitest.Harness {
	t.Helper()
	return apitest.NewWithJWT(t, st, func(logger *slog.Logger) *auth.JWTVerifier {
		v, err := auth.NewJWTVerifier(context.Background(), cfg, st, logger, opts)
		if err != nil {
			t.Fatal(err)
		}
		return v
	})
}

func jwksConfig(idp *identityProvider) config.JWT {
	return config.JWT{JWKSURL: idp.server.URL, Issuer: testIssuer, Audience: testAudience, OrgClaim: "org_id", ScopesClaim: "scope", Leeway: 30 * time.Second}
}

func TestJWTAuthentication(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		idp := newIdentityProvider(t)
		h := jwtHarness(t, st, jwksConfig(idp))
		keyClient := h.NewOrg(t)
		org := keyClient.OrgID
		k1 := idp.key("k1")
		other, _ := rsa.GenerateKey(rand.Reader, 2048)
		pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(&k1.PublicKey))})
		viewer := `{ viewer { organisation { id } scopes subject } }`

		t.Run("Valid", func(t *testing.T) {
			for _, scopes := range []any{"openid connectors:read keys:manage", []any{"connectors:read", "keys:manage", "profile"}} {
				r := keyClient.WithToken(sign(t, jwt.SigningMethodRS256, "k1", k1, claims(org, scopes))).Do(t, viewer, nil).OK(t)
				if r.String("viewer.organisation.id") != org || r.JSON("viewer.scopes") != `["CONNECTORS_READ","KEYS_MANAGE"]` || r.String("viewer.subject") != "jwt:user-42" {
					t.Errorf("viewer: %s", r.Body)
				}
			}
		})
		t.Run("ScopesEnforced", func(t *testing.T) {
			c := keyClient.WithToken(sign(t, jwt.SigningMethodRS256, "k1", k1, claims(org, "connectors:read")))
			c.Do(t, `{ connectors { totalCount } }`, nil).OK(t)
			c.Do(t, createConnector, map[string]any{"input": map[string]any{"name": "x", "protocolType": "HTTP"}}).ExpectError(t, "FORBIDDEN", "")
		})
		t.Run("WithinLeeway", func(t *testing.T) {
			c := claims(org, "connectors:read")
			c["exp"] = time.Now().Add(-10 * time.Second).Unix()
			keyClient.WithToken(sign(t, jwt.SigningMethodRS256, "k1", k1, c)).Do(t, viewer, nil).OK(t)
		})

		edit := func(f func(c jwt.MapClaims)) jwt.MapClaims {
			c := claims(org, "connectors:read")
			f(c)
			return c
		}
		revoked := h.NewKey(t, org)
		h.Keys.Revoke(context.Background(), org, revoked.KeyID)
		bad := []struct {
			name, token, message string
		}{
			{"Expired", sign(t, jwt.SigningMethodRS256, "k1", k1, edit(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Hour).Unix() })), "the token has expired"},
			{"NotYetValid", sign(t, jwt.SigningMethodRS256, "k1", k1, edit(func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(time.Hour).Unix() })), "the token is not valid yet"},
			{"IssuedInFuture", sign(t, jwt.SigningMethodRS256, "k1", k1, edit(func(c jwt.MapClaims) { c["iat"] = time.Now().Add(time.Hour).Unix() })), "the token is not valid yet"},
			{"NoExpiry", sign(t, jwt.SigningMethodRS256, "k1", k1, edit(func(c jwt.MapClaims) { delete(c, "exp") })), "invalid token"},
			{"WrongIssuer", sign(t, jwt.SigningMethodRS256, "k1", k1, edit(func(c jwt.MapClaims) { c["iss"] = "https://evil.example.com/" })), "invalid token"},
			{"WrongAudience", sign(t, jwt.SigningMethodRS256, "k1", k1, edit(func(c jwt.MapClaims) { c["aud"] = "someone-else" })), "invalid token"},
			{"WrongSignature", sign(t, jwt.SigningMethodRS256, "k1", other, claims(org, "connectors:read")), "invalid token"},
			{"UnknownKid", sign(t, jwt.SigningMethodRS256, "k9", other, claims(org, "connectors:read")), "invalid token"},
			{"AlgNone", sign(t, jwt.SigningMethodNone, "k1", jwt.UnsafeAllowNoneSignatureType, claims(org, "connectors:read")), "invalid token"},
			{"HMACWithPublicKey", sign(t, jwt.SigningMethodHS256, "k1", pubPEM, claims(org, "connectors:read")), "invalid token"},
			{"Malformed", "not.a.jwt", "invalid token"},
			{"Garbage", "garbage", "invalid token"},
			{"NoOrganisation", sign(t, jwt.SigningMethodRS256, "k1", k1, edit(func(c jwt.MapClaims) { delete(c, "org_id") })), "the token names no organisation"},
			{"UnknownOrganisation", sign(t, jwt.SigningMethodRS256, "k1", k1, edit(func(c jwt.MapClaims) { c["org_id"] = "01a00000-0000-7000-8000-000000000000" })), "the token's organisation does not exist"},
			{"RevokedKey", revoked.Token, "the API key is revoked"},
		}
		for _, tc := range bad {
			t.Run(tc.name, func(t *testing.T) {
				r := keyClient.WithToken(tc.token).Do(t, viewer, nil)
				if r.Status != http.StatusUnauthorized || r.Code() != "UNAUTHENTICATED" || r.Message() != tc.message || r.Data != nil {
					t.Fatalf("want 401 %q, got %d %s", tc.message, r.Status, r.Body)
				}
				for _, leak := range []string{"kid", "signature", "issuer", "audience", "crypto", "rsa", "key is of invalid type"} {
					if strings.Contains(strings.ToLower(r.Body), leak) {
						t.Errorf("the answer tells which check failed (%q): %s", leak, r.Body)
					}
				}
			})
		}
		t.Run("PlatformAdmin", func(t *testing.T) {
			admin := keyClient.WithToken(sign(t, jwt.SigningMethodRS256, "k1", k1, edit(func(c jwt.MapClaims) {
				delete(c, "org_id")
				c["scope"] = "platform:admin"
			})))
			name := testdb.RandomName("created by admin")
			r := admin.Do(t, `mutation($n: String!) { createOrganisation(input: {name: $n}) { id name } }`, map[string]any{"n": name}).OK(t)
			if r.String("createOrganisation.name") != name {
				t.Errorf("createOrganisation: %s", r.Body)
			}
			admin.Do(t, `mutation($n: String!) { createOrganisation(input: {name: $n}) { id } }`, map[string]any{"n": strings.ToUpper(name)}).ExpectError(t, "BAD_USER_INPUT", "name")
			if v := admin.Do(t, viewer, nil).OK(t); v.Get("viewer.organisation") != nil || v.JSON("viewer.scopes") != `["PLATFORM_ADMIN"]` {
				t.Errorf("viewer of an admin without organisation: %s", v.Body)
			}
			admin.Do(t, `{ connectors { totalCount } }`, nil).ExpectError(t, "FORBIDDEN", "")
			keyClient.Do(t, `mutation { createOrganisation(input: {name: "by key"}) { id } }`, nil).ExpectError(t, "FORBIDDEN", "")
		})
		if strings.Contains(h.Logs.String(), bad[0].token) {
			t.Error("a token appears in the log")
		}
	})
}

// TestJWTKeyRotation: after the identity provider rotates its keys, a token signed with the
// new key is accepted on its first try, although the JWKS takes a while to answer; tokens that
// arrive together share one refetch, and unknown kids cannot make Plugboard refetch again
// before the limit allows.
func TestJWTKeyRotation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		idp := newIdentityProvider(t)
		// An hour between refetches: nothing in the test waits for the limit to pass.
		h := jwtHarnessWith(t, st, jwksConfig(idp), auth.JWTOptions{UnknownKIDRefreshEvery: time.Hour})
		keyClient := h.NewOrg(t)
		org := keyClient.OrgID
		viewer := `{ viewer { organisation { id } } }`
		token := func(kid string, key *rsa.PrivateKey) *apitest.Client {
			return keyClient.WithToken(sign(t, jwt.SigningMethodRS256, kid, key, claims(org, "connectors:read")))
		}
		token("k1", idp.key("k1")).Do(t, viewer, nil).OK(t)
		fetched := idp.fetches.Load()

		// Several clients of the rotated provider arrive at once, each on its first try.
		k2 := idp.addKey(t, "k2")
		var wg sync.WaitGroup
		results := make([]*apitest.Response, 8)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = token("k2", k2).Do(t, viewer, nil)
			}()
		}
		wg.Wait()
		for _, r := range results {
			if r.Status != http.StatusOK || r.String("viewer.organisation.id") != org {
				t.Errorf("a token signed with the new key must be accepted on its first try: %d %s", r.Status, r.Body)
			}
		}
		if got := idp.fetches.Load() - fetched; got != 1 {
			t.Errorf("the new kid must cause exactly one JWKS fetch, got %d", got)
		}

		fetched = idp.fetches.Load()
		for i := 0; i < 3; i++ {
			token("k2", k2).Do(t, viewer, nil).OK(t)
		}
		other, _ := rsa.GenerateKey(rand.Reader, 2048)
		for i := 0; i < 5; i++ {
			if r := token("forged", other).Do(t, viewer, nil); r.Status != http.StatusUnauthorized {
				t.Errorf("a forged kid: %d %s", r.Status, r.Body)
			}
		}
		if got := idp.fetches.Load() - fetched; got != 0 {
			t.Errorf("known kids come from the cache and unknown ones wait for the refetch limit: %d fetches", got)
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestJWTPublicKeysAndHMAC(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		org, err := st.CreateOrganisation(context.Background(), testdb.RandomName("pem"))
		if err != nil {
			t.Fatal(err)
		}
		rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
		ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
		pemOf := func(pub any) string {
			return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(pub))}))
		}
		hmacSecret := strings.Repeat("s", 32)
		cases := []struct {
			name   string
			cfg    config.JWT
			method jwt.SigningMethod
			key    any
		}{
			{"RS256", config.JWT{PublicKey: pemOf(&rsaKey.PublicKey)}, jwt.SigningMethodRS256, rsaKey},
			{"ES256", config.JWT{PublicKey: pemOf(&ecKey.PublicKey)}, jwt.SigningMethodES256, ecKey},
			{"EdDSA", config.JWT{PublicKey: pemOf(edPub)}, jwt.SigningMethodEdDSA, edPriv},
			{"HMACDevelopment", config.JWT{HMACSecret: hmacSecret, AllowHMAC: true}, jwt.SigningMethodHS256, []byte(hmacSecret)},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				cfg := tc.cfg
				cfg.Issuer, cfg.Audience, cfg.OrgClaim, cfg.ScopesClaim, cfg.Leeway = testIssuer, testAudience, "org_id", "scope", time.Second
				h := jwtHarness(t, st, cfg)
				c := &apitest.Client{}
				c = h.NewKey(t, org.ID).WithToken(sign(t, tc.method, "", tc.key, claims(org.ID, "connectors:read")))
				c.Do(t, `{ viewer { scopes } }`, nil).OK(t)
				// The same claims signed by another key of the same kind fail.
				if tc.name == "RS256" {
					other, _ := rsa.GenerateKey(rand.Reader, 2048)
					if r := c.WithToken(sign(t, tc.method, "", other, claims(org.ID, "connectors:read"))).Do(t, `{ viewer { scopes } }`, nil); r.Status != 401 {
						t.Errorf("foreign key accepted: %s", r.Body)
					}
				}
			})
		}
	})
}

func TestJWTConfigurationRefusals(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(&rsaKey.PublicKey))}))
	base := func(f func(c *config.JWT)) config.JWT {
		c := config.JWT{PublicKey: pemKey, Issuer: testIssuer, Audience: testAudience}
		f(&c)
		return c
	}
	cases := []struct {
		name string
		cfg  config.JWT
		want string
	}{
		{"NoneAlgorithm", base(func(c *config.JWT) { c.Algorithms = []string{"none"} }), "never accepted"},
		{"HMACNextToPublicKey", base(func(c *config.JWT) { c.Algorithms = []string{"RS256", "HS256"} }), "does not fit"},
		{"HMACWithoutSwitch", base(func(c *config.JWT) { c.PublicKey, c.HMACSecret = "", strings.Repeat("x", 32) }), "development only"},
		{"ShortHMAC", base(func(c *config.JWT) { c.PublicKey, c.HMACSecret, c.AllowHMAC = "", "short", true }), "at least 32 bytes"},
		{"TwoSources", base(func(c *config.JWT) { c.JWKSURL = "https://idp.example.com/jwks" }), "exactly one key source"},
		{"NoIssuer", base(func(c *config.JWT) { c.Issuer = "" }), "issuer and the audience"},
		{"NoAudience", base(func(c *config.JWT) { c.Audience = "" }), "issuer and the audience"},
		{"NotPEM", base(func(c *config.JWT) { c.PublicKey = "-----BEGIN NOTHING" }), "not PEM"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := auth.NewJWTVerifier(context.Background(), tc.cfg, nil, slog.Default(), auth.JWTOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error with %q, got %v", tc.want, err)
			}
		})
	}
}

// TestPlatformAdminTokens: the verifier accepts a platform:admin token that names no
// organisation, and such a token may carry the organisation scopes too. Without an
// organisation it reaches createOrganisation and viewer and nothing else: every operation on
// an organisation's data is FORBIDDEN, whatever scopes the token holds, and changes nothing.
// With an organisation it is that organisation's caller, limited to its scopes, and still
// cannot mint an API key carrying platform:admin.
func TestPlatformAdminTokens(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		idp := newIdentityProvider(t)
		h := jwtHarness(t, st, jwksConfig(idp))
		owner := h.NewOrg(t)
		ids := ownResources(t, owner)
		k1 := idp.key("k1")
		token := func(org, scopes string) *apitest.Client {
			return owner.WithToken(sign(t, jwt.SigningMethodRS256, "k1", k1, claims(org, scopes)))
		}
		everything := "platform:admin connectors:read connectors:write keys:manage"
		before := worldSnapshot(t, h, owner, ids)

		t.Run("NoOrganisation", func(t *testing.T) {
			admin := token("", everything)
			v := admin.Do(t, `{ viewer { organisation { id } scopes } }`, nil).OK(t)
			if v.Get("viewer.organisation") != nil || v.JSON("viewer.scopes") != `["CONNECTORS_READ","CONNECTORS_WRITE","KEYS_MANAGE","PLATFORM_ADMIN"]` {
				t.Errorf("viewer: %s", v.Body)
			}
			for _, op := range rootOperations() {
				need := operationScopes[op.root+"."+op.name]
				if need == "" || need == domain.ScopePlatformAdmin {
					continue
				}
				t.Run(op.name, func(t *testing.T) {
					r := admin.Do(t, op.query, op.variables(t, ids))
					r.ExpectError(t, "FORBIDDEN", "")
					if !strings.Contains(r.Message(), "names no organisation") {
						t.Errorf("FORBIDDEN should say the token names no organisation: %q", r.Message())
					}
				})
			}
			if after := worldSnapshot(t, h, owner, ids); after != before {
				t.Errorf("an admin token without organisation changed an organisation's data: %s", difference(before, after))
			}
			name := testdb.RandomName("by admin")
			if r := admin.Do(t, `mutation($n: String!) { createOrganisation(input: {name: $n}) { name } }`, map[string]any{"n": name}).OK(t); r.String("createOrganisation.name") != name {
				t.Errorf("createOrganisation: %s", r.Body)
			}
		})
		t.Run("NoOrganisationNorAdmin", func(t *testing.T) {
			r := token("", "connectors:read connectors:write keys:manage").Do(t, `{ viewer { scopes } }`, nil)
			if r.Status != http.StatusUnauthorized || r.Message() != "the token names no organisation" {
				t.Errorf("a token without organisation needs platform:admin: %d %s", r.Status, r.Body)
			}
		})
		t.Run("WithOrganisation", func(t *testing.T) {
			admin := token(owner.OrgID, "platform:admin connectors:read keys:manage")
			other := h.NewOrg(t)
			otherConnector := mustCreate(t, other, fullConnector("Elsewhere")).String("createConnector.id")
			before := worldSnapshot(t, h, owner, ids)
			if r := admin.Do(t, getConnector, map[string]any{"id": ids["Connector"]}).OK(t); r.String("connector.id") != ids["Connector"] {
				t.Errorf("an admin token naming the organisation reads its connectors: %s", r.Body)
			}
			admin.Do(t, `mutation($id: ID!) { deleteConnector(id: $id) }`, map[string]any{"id": ids["Connector"]}).ExpectError(t, "FORBIDDEN", "")
			admin.Do(t, createKey, map[string]any{"input": map[string]any{"name": "root", "scopes": []any{"PLATFORM_ADMIN"}}}).ExpectError(t, "BAD_USER_INPUT", "scopes[0]")
			admin.Do(t, getConnector, map[string]any{"id": otherConnector}).ExpectError(t, "NOT_FOUND", "")
			if after := worldSnapshot(t, h, owner, ids); after != before {
				t.Errorf("refused calls of an admin token changed data: %s", difference(before, after))
			}
			name := testdb.RandomName("by admin in org")
			admin.Do(t, `mutation($n: String!) { createOrganisation(input: {name: $n}) { id } }`, map[string]any{"n": name}).OK(t)
		})
		t.Run("OrganisationScopesOnly", func(t *testing.T) {
			token(owner.OrgID, "connectors:read connectors:write keys:manage").
				Do(t, `mutation { createOrganisation(input: {name: "not an admin"}) { id } }`, nil).ExpectError(t, "FORBIDDEN", "")
		})
	})
}
