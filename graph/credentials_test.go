package graph_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/internal/apitest"
	"github.com/plugboard/plugboard/internal/secrets"
	"github.com/plugboard/plugboard/internal/testdb"
)

const credentialFields = `id connectionId authSchemeConfigId authSchemeConfig { id key } kind position fieldsSet hints { field hint } expiresAt createdAt updatedAt`

var (
	setCredential    = `mutation($id: ID!, $input: CredentialInput!) { setCredential(connectionId: $id, input: $input) { ` + credentialFields + ` } }`
	patchCredential  = `mutation($id: ID!, $p: [PropertyInput!], $d: String) { patchCredential(id: $id, properties: $p, dynamicProperties: $d) { ` + credentialFields + ` } }`
	deleteCredential = `mutation($id: ID!) { deleteCredential(id: $id) }`
	listCredentials  = `query($id: ID!) { connection(id: $id) { revision credentials { ` + credentialFields + ` } } }`
)

func basicCredential(user, password string) map[string]any {
	return map[string]any{"authSchemeConfigId": "basic", "kind": "ACTION", "values": vars("username", user, "password", password)}
}

// credentialConnector makes a connector with one config of every scheme and a connection.
func credentialConnector(t *testing.T, c *apitest.Client) (connectorID, connectionID string) {
	t.Helper()
	connectorID = mustCreate(t, c, map[string]any{"name": "Creds", "protocolType": "HTTP", "authSchemeConfigs": []any{
		map[string]any{"id": "basic", "schemeType": "BASIC"},
		map[string]any{"id": "bearer", "schemeType": "BEARER"},
		map[string]any{"id": "key", "schemeType": "API_KEY", "apiKey": map[string]any{"name": "X-Key"}},
		map[string]any{"id": "cc", "schemeType": "OAUTH2", "oauth2": map[string]any{"grant": "CLIENT_CREDENTIALS", "tokenURL": "https://idp.example.com/token"}},
		map[string]any{"id": "pw", "schemeType": "OAUTH2", "oauth2": map[string]any{"grant": "PASSWORD", "tokenURL": "https://idp.example.com/token"}},
		map[string]any{"id": "none", "schemeType": "NONE"},
	}}).String("createConnector.id")
	connectionID = c.Do(t, createConnection, map[string]any{"c": connectorID, "input": map[string]any{"name": "customer"}}).OK(t).String("createConnection.id")
	return connectorID, connectionID
}

func TestSetCredential(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		_, conn := credentialConnector(t, c)
		ok := []struct {
			name   string
			input  map[string]any
			fields string
			hints  string
		}{
			{"Basic", basicCredential("alice@example.com", "hunter2-secret"), `["password","username"]`, `[{"field":"username","hint":"a…"}]`},
			{"Bearer", map[string]any{"authSchemeConfigId": "bearer", "kind": "ACTION", "values": vars("token", "tok_1234567890abcdefWXYZ")}, `["token"]`, `[{"field":"token","hint":"…WXYZ"}]`},
			{"ShortTokenNoHint", map[string]any{"authSchemeConfigId": "key", "kind": "ACTION", "values": vars("apiKey", "short-key-9")}, `["apiKey"]`, `[]`},
			{"ClientCredentials", map[string]any{"authSchemeConfigId": "cc", "kind": "TRIGGER", "values": vars("clientId", "client-0123456789abcd", "clientSecret", "very-secret-value-123")},
				`["clientId","clientSecret"]`, `[{"field":"clientId","hint":"…abcd"}]`},
			{"PasswordGrant", map[string]any{"authSchemeConfigId": "pw", "kind": "TRIGGER", "values": vars("clientId", "c", "clientSecret", "s", "username", "bob", "password", "pw-secret-1")},
				`["clientId","clientSecret","password","username"]`, `[]`},
			{"None", map[string]any{"authSchemeConfigId": "none", "kind": "ACTION", "values": []any{}}, `[]`, `[]`},
		}
		for _, tc := range ok {
			t.Run(tc.name, func(t *testing.T) {
				r := c.Do(t, setCredential, map[string]any{"id": conn, "input": tc.input}).OK(t)
				if got := r.JSON("setCredential.fieldsSet"); got != tc.fields {
					t.Errorf("fieldsSet = %s, want %s", got, tc.fields)
				}
				if got := r.JSON("setCredential.hints"); got != tc.hints {
					t.Errorf("hints = %s, want %s", got, tc.hints)
				}
			})
		}
		r := c.Do(t, listCredentials, map[string]any{"id": conn}).OK(t)
		var order []string
		for _, cr := range r.List("connection.credentials") {
			m := cr.(map[string]any)
			order = append(order, fmt.Sprintf("%s:%s:%v", m["kind"], m["authSchemeConfig"].(map[string]any)["key"], m["position"]))
		}
		if got := strings.Join(order, " "); got != "ACTION:basic:0 ACTION:bearer:1 ACTION:key:2 ACTION:none:3 TRIGGER:cc:0 TRIGGER:pw:1" {
			t.Errorf("credential order: %s", got)
		}
		if r.Int("connection.revision") != 1+len(ok) {
			t.Errorf("every credential change must bump the connection revision: %d", r.Int("connection.revision"))
		}

		t.Run("ReplaceKeepsPlace", func(t *testing.T) {
			before := c.Do(t, listCredentials, map[string]any{"id": conn}).OK(t).String("connection.credentials.1.id")
			r := c.Do(t, setCredential, map[string]any{"id": conn, "input": map[string]any{"authSchemeConfigId": "bearer", "kind": "ACTION", "values": vars("token", "another-long-token-ABCD")}}).OK(t)
			if r.String("setCredential.id") != before || r.Int("setCredential.position") != 1 || r.JSON("setCredential.hints") != `[{"field":"token","hint":"…ABCD"}]` {
				t.Errorf("replace: %s", r.Body)
			}
		})
		t.Run("Move", func(t *testing.T) {
			in := basicCredential("alice@example.com", "hunter2-secret")
			in["position"] = 99
			c.Do(t, setCredential, map[string]any{"id": conn, "input": in}).OK(t)
			in = map[string]any{"authSchemeConfigId": "key", "kind": "ACTION", "values": vars("apiKey", "short-key-9"), "position": 0}
			c.Do(t, setCredential, map[string]any{"id": conn, "input": in}).OK(t)
			r := c.Do(t, `query($id: ID!) { connection(id: $id) { credentials(kind: ACTION) { authSchemeConfig { key } position } } }`, map[string]any{"id": conn}).OK(t)
			if got := r.JSON("connection.credentials"); got != `[{"authSchemeConfig":{"key":"key"},"position":0},{"authSchemeConfig":{"key":"bearer"},"position":1},{"authSchemeConfig":{"key":"none"},"position":2},{"authSchemeConfig":{"key":"basic"},"position":3}]` {
				t.Errorf("order after moves: %s", got)
			}
		})
		before := c.Do(t, listCredentials, map[string]any{"id": conn}).OK(t).Body
		bad := []struct {
			name  string
			input map[string]any
			field string
		}{
			{"ErrMissingPassword", map[string]any{"authSchemeConfigId": "basic", "kind": "ACTION", "values": vars("username", "u")}, "values"},
			{"ErrEmptyPassword", map[string]any{"authSchemeConfigId": "basic", "kind": "ACTION", "values": vars("username", "u", "password", "")}, "values"},
			{"ErrUnknownField", map[string]any{"authSchemeConfigId": "bearer", "kind": "ACTION", "values": vars("token", "t", "pin", "1")}, "values[1].name"},
			{"ErrRepeatedField", map[string]any{"authSchemeConfigId": "bearer", "kind": "ACTION", "values": vars("token", "t", "token", "u")}, "values[1].name"},
			{"ErrPasswordGrantNeedsUser", map[string]any{"authSchemeConfigId": "pw", "kind": "ACTION", "values": vars("clientId", "c", "clientSecret", "s")}, "values"},
			{"ErrNoneHoldsNothing", map[string]any{"authSchemeConfigId": "none", "kind": "ACTION", "values": vars("token", "t")}, "values[0].name"},
			{"ErrUnknownConfig", map[string]any{"authSchemeConfigId": "nope", "kind": "ACTION", "values": []any{}}, "authSchemeConfigId"},
			{"ErrNegativePosition", map[string]any{"authSchemeConfigId": "bearer", "kind": "ACTION", "values": vars("token", "t"), "position": -1}, "position"},
		}
		for _, tc := range bad {
			t.Run(tc.name, func(t *testing.T) {
				c.Do(t, setCredential, map[string]any{"id": conn, "input": tc.input}).ExpectError(t, "BAD_USER_INPUT", tc.field)
				if c.Do(t, listCredentials, map[string]any{"id": conn}).OK(t).Body != before {
					t.Fatal("a rejected credential changed the connection")
				}
			})
		}
	})
}

func TestPatchAndDeleteCredential(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		_, conn := credentialConnector(t, c)
		basic := c.Do(t, setCredential, map[string]any{"id": conn, "input": basicCredential("alice", "old-password")}).OK(t).String("setCredential.id")
		bearer := c.Do(t, setCredential, map[string]any{"id": conn, "input": map[string]any{"authSchemeConfigId": "bearer", "kind": "ACTION", "values": vars("token", "t0")}}).OK(t).String("setCredential.id")

		r := c.Do(t, patchCredential, map[string]any{"id": basic, "p": vars("password", "mid"), "d": `{"password":"new-password"}`}).OK(t)
		if r.JSON("patchCredential.fieldsSet") != `["password","username"]` {
			t.Errorf("patch: %s", r.Body)
		}
		values, err := h.Store.CredentialValues(context.Background(), c.OrgID, basic)
		if err != nil || fmt.Sprint(values) != "[{username alice} {password new-password}]" {
			t.Errorf("stored values after patch: %v %v", values, err)
		}
		before := c.Do(t, listCredentials, map[string]any{"id": conn}).OK(t).Body
		bad := []struct {
			name  string
			vars  map[string]any
			field string
		}{
			{"ErrInvalidJSON", map[string]any{"d": `{"password":`}, "dynamicProperties"},
			{"ErrNested", map[string]any{"d": `{"password":{"x":1}}`}, "dynamicProperties"},
			{"ErrNotObject", map[string]any{"d": `"password"`}, "dynamicProperties"},
			{"ErrUnknownField", map[string]any{"d": `{"pin":"1234"}`}, "dynamicProperties"},
			{"ErrUnknownProperty", map[string]any{"p": vars("pin", "1234")}, "properties[0].name"},
			{"ErrEmptiesRequired", map[string]any{"d": `{"password":""}`}, "properties"},
		}
		for _, tc := range bad {
			t.Run(tc.name, func(t *testing.T) {
				tc.vars["id"] = basic
				r := c.Do(t, patchCredential, tc.vars).ExpectError(t, "BAD_USER_INPUT", tc.field)
				if strings.Contains(r.Body, "1234") || strings.Contains(r.Body, "new-password") {
					t.Errorf("an error repeats a secret value: %s", r.Body)
				}
				if c.Do(t, listCredentials, map[string]any{"id": conn}).OK(t).Body != before {
					t.Fatal("a rejected patch changed the connection")
				}
			})
		}
		c.Do(t, patchCredential, map[string]any{"id": "missing", "d": `{}`}).ExpectError(t, "NOT_FOUND", "")

		c.Do(t, deleteCredential, map[string]any{"id": basic}).OK(t)
		r = c.Do(t, listCredentials, map[string]any{"id": conn}).OK(t)
		if len(r.List("connection.credentials")) != 1 || r.String("connection.credentials.0.id") != bearer || r.Int("connection.credentials.0.position") != 0 {
			t.Errorf("after delete the list closes up: %s", r.Body)
		}
		c.Do(t, deleteCredential, map[string]any{"id": basic}).ExpectError(t, "NOT_FOUND", "")
	})
}

func TestAuthSchemeConfigChangesWithCredentials(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		connector, conn := credentialConnector(t, c)
		c.Do(t, setCredential, map[string]any{"id": conn, "input": basicCredential("u", "p")}).OK(t)
		c.Do(t, deleteConfig, map[string]any{"c": connector, "id": "basic"}).ExpectError(t, "CONFLICT", "")
		c.Do(t, updateConfig, map[string]any{"c": connector, "id": "basic", "input": map[string]any{"id": "basic", "schemeType": "BEARER"}}).ExpectError(t, "CONFLICT", "")
		c.Do(t, updateConfig, map[string]any{"c": connector, "id": "basic", "input": map[string]any{"id": "login", "schemeType": "BASIC", "description": "renamed"}}).OK(t)
		if got := c.Do(t, listCredentials, map[string]any{"id": conn}).OK(t).String("connection.credentials.0.authSchemeConfig.key"); got != "login" {
			t.Errorf("the credential must follow its renamed config, has %q", got)
		}
		c.Do(t, deleteConfig, map[string]any{"c": connector, "id": "bearer"}).OK(t)
	})
}

// secretValues are the plaintexts the secrecy tests look for.
var secretValues = []string{"alice-user-name", "P@ssw0rd-never-shown", "tok_live_0123456789abcdef", "client-secret-xyz-987", "refresh-abc-555"}

func storeAllSecrets(t *testing.T, c *apitest.Client) (connectionID string, credentialIDs []string) {
	t.Helper()
	_, conn := credentialConnector(t, c)
	inputs := []map[string]any{
		basicCredential(secretValues[0], secretValues[1]),
		{"authSchemeConfigId": "bearer", "kind": "ACTION", "values": vars("token", secretValues[2])},
		{"authSchemeConfigId": "cc", "kind": "TRIGGER", "values": vars("clientId", "cid", "clientSecret", secretValues[3], "refreshToken", secretValues[4])},
	}
	for _, in := range inputs {
		credentialIDs = append(credentialIDs, c.Do(t, setCredential, map[string]any{"id": conn, "input": in}).OK(t).String("setCredential.id"))
	}
	c.Do(t, patchCredential, map[string]any{"id": credentialIDs[0], "d": `{"password":"` + secretValues[1] + `"}`}).OK(t)
	return conn, credentialIDs
}

func TestNoPlaintextAtRest(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		conn, _ := storeAllSecrets(t, c)
		sqlDB, _ := h.Store.SQL()
		for _, table := range []string{"credentials", "connections", "connectors"} {
			dump := dumpTable(t, sqlDB, table)
			for _, s := range secretValues {
				if strings.Contains(dump, s) {
					t.Errorf("table %s stores %q in plain text", table, s)
				}
			}
		}
		if !strings.Contains(dumpTable(t, sqlDB, "credentials"), conn) {
			t.Fatal("the dump did not read the credential rows")
		}
	})
}

// dumpTable renders every column of every row as text, bytes included.
func dumpTable(t *testing.T, db *sql.DB, table string) string {
	t.Helper()
	rows, err := db.Query("SELECT * FROM " + table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			if bs, ok := v.([]byte); ok {
				b.Write(bs)
			} else {
				fmt.Fprint(&b, v)
			}
			b.WriteByte('|')
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func TestSecretsNeverInResponsesOrLogs(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		var bodies strings.Builder
		record := func(r *apitest.Response) *apitest.Response { bodies.WriteString(r.Body); return r }
		conn, creds := storeAllSecrets(t, c)
		record(c.Do(t, listCredentials, map[string]any{"id": conn}).OK(t))
		record(c.Do(t, getConnection, map[string]any{"id": conn}).OK(t))
		// Failures around secrets: bad values, bad patches, a broken database.
		record(c.Do(t, setCredential, map[string]any{"id": conn, "input": map[string]any{"authSchemeConfigId": "basic", "kind": "ACTION", "values": vars("username", secretValues[0], "pin", secretValues[1])}}))
		record(c.Do(t, patchCredential, map[string]any{"id": creds[1], "d": `{"token": {"nested": "` + secretValues[2] + `"}}`}))
		record(c.Do(t, patchCredential, map[string]any{"id": creds[1], "d": `{"token": "` + secretValues[2]}))
		record(c.Do(t, patchCredential, map[string]any{"id": creds[1], "p": vars("nope", secretValues[2])}))
		sqlDB, _ := h.Store.SQL()
		sqlDB.Exec(`ALTER TABLE credentials RENAME TO credentials_gone`)
		record(c.Do(t, setCredential, map[string]any{"id": conn, "input": basicCredential(secretValues[0], secretValues[1])}))
		sqlDB.Exec(`ALTER TABLE credentials_gone RENAME TO credentials`)
		for _, s := range secretValues {
			if strings.Contains(bodies.String(), s) {
				t.Errorf("a response contains the secret %q", s)
			}
			if strings.Contains(h.Logs.String(), s) {
				t.Errorf("the log contains the secret %q", s)
			}
		}
		if !strings.Contains(h.Logs.String(), "internal error") {
			t.Error("the broken-database failure was not logged, so the log check proves little")
		}
	})
}

func TestRotateSecrets(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		_, creds := storeAllSecrets(t, c)
		ctx := context.Background()
		before, _ := h.Store.CredentialValues(ctx, c.OrgID, creds[2])
		newKey := make([]byte, secrets.KeySize)
		rand.Read(newKey)
		old := h.Store.Secrets
		oldKeyring := testdb.Keyring
		if old != oldKeyring {
			t.Fatal("unexpected keyring")
		}
		ring, _ := secrets.NewKeyring(newKey, testKeyBytes(t))
		h.Store.Secrets = ring
		defer func() {
			// The PostgreSQL database is shared by the package's tests: seal everything with
			// the test key again.
			h.Store.Secrets, _ = secrets.NewKeyring(testKeyBytes(t), newKey)
			if _, err := h.Store.RotateSecrets(ctx); err != nil {
				t.Errorf("rotate back: %v", err)
			}
			h.Store.Secrets = old
		}()
		n, err := h.Store.RotateSecrets(ctx)
		if err != nil || n < len(creds) {
			t.Fatalf("rotated %d, %v", n, err)
		}
		sqlDB, _ := h.Store.SQL()
		var stale int
		sqlDB.QueryRow(`SELECT count(*) FROM credentials WHERE key_id <> '` + ring.PrimaryKeyID() + `'`).Scan(&stale)
		if stale != 0 {
			t.Errorf("%d credentials still sealed by an old key", stale)
		}
		newOnly, _ := secrets.NewKeyring(newKey)
		h.Store.Secrets = newOnly
		after, err := h.Store.CredentialValues(ctx, c.OrgID, creds[2])
		if err != nil || fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("values after rotation: %v %v", after, err)
		}
		if n, _ := h.Store.RotateSecrets(ctx); n != 0 {
			t.Errorf("a second rotation re-encrypted %d", n)
		}
	})
}

// testKeyBytes recovers nothing secret: tests cannot read a keyring's key, so the test keyring
// is rebuilt from the key testdb exposes for this purpose.
func testKeyBytes(t *testing.T) []byte {
	t.Helper()
	return testdb.KeyringKey
}
