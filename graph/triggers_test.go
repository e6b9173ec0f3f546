package graph_test

import (
	"context"
	"encoding/base64"

	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plugboard/plugboard/internal/apitest"
	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/hooks"
	"github.com/plugboard/plugboard/internal/store"
	"github.com/plugboard/plugboard/internal/testdb"
)

const (
	hmacFields         = `hmac { preset algorithm signatureHeader encoding signaturePrefix signedPayload timestampHeader toleranceSeconds deliveryIdHeader }`
	createHmacConfig   = `mutation($c: ID!, $in: AuthSchemeConfigInput!) { createAuthSchemeConfig(connectorId: $c, input: $in) { id key schemeType validationMessages ` + hmacFields + ` } }`
	updateHmacConfig   = `mutation($c: ID!, $id: ID!, $in: AuthSchemeConfigInput!) { updateAuthSchemeConfig(connectorId: $c, id: $id, input: $in) { id schemeType ` + hmacFields + ` } }`
	deleteHmacConfig   = `mutation($c: ID!, $id: ID!) { deleteAuthSchemeConfig(connectorId: $c, id: $id) }`
	triggerFields      = `triggers { name description authSchemeConfigId authSchemeConfig { key schemeType } }`
	createTriggered    = `mutation($c: ID!, $in: CreateVersionInput!) { createVersion(connectorId: $c, input: $in) { id ` + triggerFields + ` } }`
	updateTriggered    = `mutation($id: ID!, $in: UpdateVersionInput!) { updateVersion(id: $id, input: $in) { id ` + triggerFields + ` } }`
	setTriggerSecret   = `mutation($conn: ID!, $in: CredentialInput!) { setCredential(connectionId: $conn, input: $in) { id kind fieldsSet hints { field } } }`
	webhookURLQuery    = `query($id: ID!, $t: String!) { connection(id: $id) { webhookURL(trigger: $t) } }`
	eventFields        = `id trigger deliveryId receivedAt headers { name value } body bodyBase64`
	eventsQuery        = `query($id: ID!, $first: Int, $after: String, $t: String) { connection(id: $id) { events(first: $first, after: $after, trigger: $t) { edges { cursor node { ` + eventFields + ` } } pageInfo { hasNextPage endCursor } } } }`
	githubSecretForTry = "It's a Secret to Everybody"
)

func TestHmacConfigs(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		connector := mustCreate(t, c, map[string]any{"name": testdb.RandomName("Hooks"), "protocolType": "HTTP"}).String("createConnector.id")
		presets := map[string]string{
			"GITHUB":            `{"algorithm":"SHA256","deliveryIdHeader":"X-GitHub-Delivery","encoding":"HEX","preset":"GITHUB","signatureHeader":"X-Hub-Signature-256","signaturePrefix":"sha256=","signedPayload":"{body}","timestampHeader":null,"toleranceSeconds":null}`,
			"STRIPE":            `{"algorithm":"SHA256","deliveryIdHeader":null,"encoding":"HEX","preset":"STRIPE","signatureHeader":"Stripe-Signature","signaturePrefix":"v1=","signedPayload":"{timestamp}.{body}","timestampHeader":"Stripe-Signature","toleranceSeconds":300}`,
			"SLACK":             `{"algorithm":"SHA256","deliveryIdHeader":null,"encoding":"HEX","preset":"SLACK","signatureHeader":"X-Slack-Signature","signaturePrefix":"v0=","signedPayload":"v0:{timestamp}:{body}","timestampHeader":"X-Slack-Request-Timestamp","toleranceSeconds":300}`,
			"STANDARD_WEBHOOKS": `{"algorithm":"SHA256","deliveryIdHeader":"webhook-id","encoding":"BASE64","preset":"STANDARD_WEBHOOKS","signatureHeader":"webhook-signature","signaturePrefix":"v1,","signedPayload":"{id}.{timestamp}.{body}","timestampHeader":"webhook-timestamp","toleranceSeconds":300}`,
		}
		for preset, want := range presets {
			r := c.Do(t, createHmacConfig, map[string]any{"c": connector, "in": map[string]any{"id": strings.ToLower(preset), "schemeType": "HMAC", "hmac": map[string]any{"preset": preset}}}).OK(t)
			if got := r.JSON("createAuthSchemeConfig.hmac"); got != want {
				t.Errorf("%s reads back\n got %s\nwant %s", preset, got, want)
			}
		}
		r := c.Do(t, `query($c: ID!) { connector(id: $c) { authSchemeConfigs { key validationMessages } } }`, map[string]any{"c": connector}).OK(t)
		msgs := map[string]string{}
		for i := range r.List("connector.authSchemeConfigs") {
			msgs[r.String(fmt.Sprintf("connector.authSchemeConfigs.%d.key", i))] = r.JSON(fmt.Sprintf("connector.authSchemeConfigs.%d.validationMessages", i))
		}
		if !strings.Contains(msgs["github"], "replayed") || msgs["standard_webhooks"] != "[]" || !strings.Contains(msgs["slack"], "stored again") {
			t.Errorf("validationMessages say what a preset leaves open: %v", msgs)
		}

		// CUSTOM: overrides, defaults, and what it needs.
		r = c.Do(t, createHmacConfig, map[string]any{"c": connector, "in": map[string]any{"id": "custom", "schemeType": "HMAC", "hmac": map[string]any{
			"preset": "CUSTOM", "signatureHeader": "X-Sig", "signedPayload": "{timestamp}:{body}", "timestampHeader": "X-Time",
		}}}).OK(t)
		if got, want := r.JSON("createAuthSchemeConfig.hmac"), `{"algorithm":"SHA256","deliveryIdHeader":null,"encoding":"HEX","preset":"CUSTOM","signatureHeader":"X-Sig","signaturePrefix":"","signedPayload":"{timestamp}:{body}","timestampHeader":"X-Time","toleranceSeconds":300}`; got != want {
			t.Errorf("CUSTOM reads back\n got %s\nwant %s", got, want)
		}
		bad := []struct {
			in    map[string]any
			field string
		}{
			{map[string]any{"id": "x", "schemeType": "HMAC", "hmac": map[string]any{"preset": "CUSTOM", "signedPayload": "{body}"}}, "hmac.signatureHeader"},
			{map[string]any{"id": "x", "schemeType": "HMAC", "hmac": map[string]any{"preset": "CUSTOM", "signatureHeader": "X-Sig"}}, "hmac.signedPayload"},
			{map[string]any{"id": "x", "schemeType": "HMAC", "hmac": map[string]any{"preset": "GITHUB", "signedPayload": "{timestamp}"}}, "hmac.signedPayload"},
			{map[string]any{"id": "x", "schemeType": "HMAC", "hmac": map[string]any{"preset": "GITHUB", "signedPayload": "{timestamp}.{body}"}}, "hmac.timestampHeader"},
			{map[string]any{"id": "x", "schemeType": "HMAC", "hmac": map[string]any{"preset": "GITHUB", "signedPayload": "{body}{nonce}"}}, "hmac.signedPayload"},
			{map[string]any{"id": "x", "schemeType": "HMAC", "hmac": map[string]any{"preset": "SLACK", "toleranceSeconds": 0}}, "hmac.toleranceSeconds"},
			{map[string]any{"id": "x", "schemeType": "HMAC", "hmac": map[string]any{"preset": "SLACK", "signatureHeader": "bad header"}}, "hmac.signatureHeader"},
			{map[string]any{"id": "x", "schemeType": "BEARER", "hmac": map[string]any{"preset": "SLACK"}}, "hmac"},
			{map[string]any{"id": "x", "schemeType": "HMAC", "hmac": map[string]any{"preset": "CUSTOM", "signatureHeader": "Authorization", "signedPayload": "{body}"}}, "hmac.signatureHeader"},
			{map[string]any{"id": "x", "schemeType": "HMAC", "hmac": map[string]any{"preset": "GITHUB", "signatureHeader": "cookie"}}, "hmac.signatureHeader"},
			{map[string]any{"id": "x", "schemeType": "HMAC", "hmac": map[string]any{"preset": "SLACK", "timestampHeader": "Proxy-Authorization"}}, "hmac.timestampHeader"},
			{map[string]any{"id": "x", "schemeType": "HMAC", "hmac": map[string]any{"preset": "GITHUB", "deliveryIdHeader": "AUTHORIZATION"}}, "hmac.deliveryIdHeader"},
		}
		for _, b := range bad {
			c.Do(t, createHmacConfig, map[string]any{"c": connector, "in": b.in}).ExpectError(t, "BAD_USER_INPUT", b.field)
		}

		// Full replace: an update without hmac clears it, and the audit trail says so.
		r = c.Do(t, updateHmacConfig, map[string]any{"c": connector, "id": "custom", "in": map[string]any{"id": "custom", "schemeType": "HMAC"}}).OK(t)
		if r.Get("updateAuthSchemeConfig.hmac") != nil {
			t.Errorf("updateAuthSchemeConfig without hmac clears it: %s", r.Body)
		}
		r = c.Do(t, `{ auditEvents(first: 1, filter: {action: "authSchemeConfig.update"}) { nodes { changedFields } } }`, nil).OK(t)
		if got := r.JSON("auditEvents.nodes.0.changedFields"); !strings.Contains(got, `"hmac"`) {
			t.Errorf("the audit event names hmac: %s", got)
		}
	})
}

// hooked is a connection whose published version has triggers verified by HMAC configs, with
// their TRIGGER secrets set.
type hooked struct {
	connector, version, connection string
}

func newHooked(t *testing.T, c *apitest.Client) hooked {
	t.Helper()
	var x hooked
	x.connector = mustCreate(t, c, map[string]any{"name": testdb.RandomName("Hooked"), "protocolType": "HTTP"}).String("createConnector.id")
	for key, preset := range map[string]string{"gh": "GITHUB", "sw": "STANDARD_WEBHOOKS", "stripe": "STRIPE", "slack": "SLACK"} {
		c.Do(t, createHmacConfig, map[string]any{"c": x.connector, "in": map[string]any{"id": key, "schemeType": "HMAC", "hmac": map[string]any{"preset": preset}}}).OK(t)
	}
	c.Do(t, createHmacConfig, map[string]any{"c": x.connector, "in": map[string]any{"id": "bearer", "schemeType": "BEARER"}}).OK(t)
	r := c.Do(t, createTriggered, map[string]any{"c": x.connector, "in": map[string]any{"name": "1", "triggers": []any{
		map[string]any{"name": "push", "description": "GitHub pushes", "authSchemeConfigId": "gh"},
		map[string]any{"name": "sw", "authSchemeConfigId": "sw"},
		map[string]any{"name": "stripe", "authSchemeConfigId": "stripe"},
		map[string]any{"name": "slack", "authSchemeConfigId": "slack"},
	}}}).OK(t)
	x.version = r.String("createVersion.id")
	c.Do(t, publishVersion, map[string]any{"id": x.version}).OK(t)
	x.connection = c.Do(t, `mutation($c: ID!) { createConnection(connectorId: $c, input: {name: "main"}) { id } }`, map[string]any{"c": x.connector}).OK(t).String("createConnection.id")
	for config, values := range map[string][]any{
		"gh":     {map[string]any{"name": "secret", "value": "new secret"}, map[string]any{"name": "previousSecret", "value": githubSecretForTry}},
		"sw":     {map[string]any{"name": "secret", "value": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}},
		"stripe": {map[string]any{"name": "secret", "value": "whsec_stripe-text-secret"}},
		"slack":  {map[string]any{"name": "secret", "value": "8f742231b10e8888abcd99yyyzzz85a5"}},
	} {
		c.Do(t, setTriggerSecret, map[string]any{"conn": x.connection, "in": map[string]any{"authSchemeConfigId": config, "kind": "TRIGGER", "values": values}}).OK(t)
	}
	return x
}

func TestVersionTriggers(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		x := newHooked(t, c)
		r := c.Do(t, `query($c: ID!) { connector(id: $c) { version(name: "1") { `+triggerFields+` } } }`, map[string]any{"c": x.connector}).OK(t)
		if r.String("connector.version.triggers.0.name") != "push" || r.String("connector.version.triggers.0.authSchemeConfig.key") != "gh" ||
			!strings.HasPrefix(r.String("connector.version.triggers.0.authSchemeConfigId"), x.connector+".") {
			t.Errorf("triggers read back with their config's global id: %s", r.Body)
		}
		draft := c.Do(t, createTriggered, map[string]any{"c": x.connector, "in": map[string]any{"name": "2", "triggers": []any{
			map[string]any{"name": "push", "authSchemeConfigId": "gh"},
		}}}).OK(t).String("createVersion.id")
		bad := []struct {
			triggers []any
			field    string
		}{
			{[]any{map[string]any{"name": "a", "authSchemeConfigId": "gh"}, map[string]any{"name": "b", "authSchemeConfigId": "nope"}}, "triggers[1].authSchemeConfigId"},
			{[]any{map[string]any{"name": "a", "authSchemeConfigId": "bearer"}}, "triggers[0].authSchemeConfigId"},
			{[]any{map[string]any{"name": "a", "authSchemeConfigId": "gh"}, map[string]any{"name": "A", "authSchemeConfigId": "gh"}}, "triggers[1].name"},
			{[]any{map[string]any{"name": " ", "authSchemeConfigId": "gh"}}, "triggers[0].name"},
		}
		for _, b := range bad {
			c.Do(t, updateTriggered, map[string]any{"id": draft, "in": map[string]any{"name": "2", "triggers": b.triggers}}).ExpectError(t, "BAD_USER_INPUT", b.field)
			c.Do(t, createTriggered, map[string]any{"c": x.connector, "in": map[string]any{"name": "3", "triggers": b.triggers}}).ExpectError(t, "BAD_USER_INPUT", b.field)
		}
		// Full replace: without triggers, none, and the audit trail says so.
		if r := c.Do(t, updateTriggered, map[string]any{"id": draft, "in": map[string]any{"name": "2"}}).OK(t); r.JSON("updateVersion.triggers") != "[]" {
			t.Errorf("updateVersion without triggers clears them: %s", r.Body)
		}
		r = c.Do(t, `query($id: ID) { auditEvents(first: 1, filter: {action: "version.update", resourceId: $id}) { nodes { changedFields } } }`, map[string]any{"id": draft}).OK(t)
		if got := r.JSON("auditEvents.nodes.0.changedFields"); got != `["triggers"]` {
			t.Errorf("the audit event names triggers: %s", got)
		}
		// Published: immutable.
		c.Do(t, updateTriggered, map[string]any{"id": x.version, "in": map[string]any{"name": "1"}}).ExpectError(t, "CONFLICT", "")
		// A config a trigger names stays, with its type.
		c.Do(t, setTriggerSecret, map[string]any{"conn": x.connection, "in": map[string]any{"authSchemeConfigId": "bearer", "kind": "TRIGGER", "values": []any{map[string]any{"name": "token", "value": "t"}}}}).OK(t)
		c.Do(t, `mutation($id: ID!) { deleteConnection(id: $id) }`, map[string]any{"id": x.connection}).OK(t)
		c.Do(t, deleteHmacConfig, map[string]any{"c": x.connector, "id": "gh"}).ExpectError(t, "CONFLICT", "")
		c.Do(t, updateHmacConfig, map[string]any{"c": x.connector, "id": "gh", "in": map[string]any{"id": "gh", "schemeType": "BEARER"}}).ExpectError(t, "CONFLICT", "")
		// Renaming its key keeps the trigger pointing at it (global id).
		c.Do(t, updateHmacConfig, map[string]any{"c": x.connector, "id": "gh", "in": map[string]any{"id": "github", "schemeType": "HMAC", "hmac": map[string]any{"preset": "GITHUB"}}}).OK(t)
		r = c.Do(t, `query($c: ID!) { connector(id: $c) { version(name: "1") { `+triggerFields+` } } }`, map[string]any{"c": x.connector}).OK(t)
		if r.String("connector.version.triggers.0.authSchemeConfig.key") != "github" {
			t.Errorf("a renamed config is still the trigger's: %s", r.Body)
		}
	})
}

// TestCompareVersionTriggers: a trigger removed, or verified by another config, breaks the
// providers pointed at its webhook URLs; one added breaks nothing. setDefaultVersion uses the
// same comparison.
func TestCompareVersionTriggers(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		x := newHooked(t, c) // version 1, the default, followed by connection "main"
		trigger := func(name, config string) map[string]any {
			return map[string]any{"name": name, "authSchemeConfigId": config}
		}
		v2 := c.Do(t, createTriggered, map[string]any{"c": x.connector, "in": map[string]any{"name": "2", "triggers": []any{
			trigger("push", "sw"), trigger("stripe", "stripe"), map[string]any{"name": "slack", "description": "Slack events", "authSchemeConfigId": "slack"}, trigger("release", "gh"),
		}}}).OK(t).String("createVersion.id")
		c.Do(t, publishVersion, map[string]any{"id": v2}).OK(t)
		d := c.Do(t, compareVersions, map[string]any{"c": x.connector, "from": "default", "to": "latest"}).OK(t)
		got := map[string]bool{}
		for _, ch := range d.List("compareVersions.changes") {
			m := ch.(map[string]any)
			got[m["kind"].(string)+" "+m["path"].(string)] = m["breaking"].(bool)
		}
		want := map[string]bool{
			`CHANGED triggers["push"].authSchemeConfig`: true,
			`CHANGED triggers["push"].description`:      false,
			`REMOVED triggers["sw"]`:                    true,
			`CHANGED triggers["slack"].description`:     false,
			`ADDED triggers["release"]`:                 false,
		}
		if fmt.Sprint(got) != fmt.Sprint(want) || d.Get("compareVersions.breaking") != true {
			t.Errorf("changes %v, want %v", got, want)
		}
		if !strings.Contains(d.Body, `verified by auth scheme config \"sw\" instead of \"gh\"`) {
			t.Errorf("the change names the configs by key: %s", d.Body)
		}
		r := c.Do(t, `mutation($id: ID!) { setDefaultVersion(id: $id) { isDefault } }`, map[string]any{"id": v2}).ExpectError(t, "CONFLICT", "")
		if msg := r.Message(); !strings.Contains(msg, `triggers["sw"] removed`) || !strings.Contains(msg, `triggers["push"].authSchemeConfig changed`) {
			t.Errorf("the CONFLICT names the triggers: %s", msg)
		}
		c.Do(t, `mutation($id: ID!) { setDefaultVersion(id: $id, force: true) { isDefault } }`, map[string]any{"id": v2}).OK(t)
		// Only a trigger added: not breaking, the default moves without force.
		v3 := c.Do(t, createTriggered, map[string]any{"c": x.connector, "in": map[string]any{"name": "3", "triggers": []any{
			trigger("push", "sw"), trigger("stripe", "stripe"), map[string]any{"name": "slack", "description": "Slack events", "authSchemeConfigId": "slack"}, trigger("release", "gh"), trigger("ping", "gh"),
		}}}).OK(t).String("createVersion.id")
		c.Do(t, publishVersion, map[string]any{"id": v3}).OK(t)
		if d := c.Do(t, compareVersions, map[string]any{"c": x.connector, "from": "2", "to": "3"}).OK(t); d.JSON("compareVersions.changes") != `[{"breaking":false,"description":"trigger \"ping\" is added, verified by auth scheme config \"gh\"","kind":"ADDED","path":"triggers[\"ping\"]"}]` {
			t.Errorf("2 → 3: %s", d.Body)
		}
		c.Do(t, `mutation($id: ID!) { setDefaultVersion(id: $id) { isDefault } }`, map[string]any{"id": v3}).OK(t)
		c.Do(t, compareVersions, map[string]any{"c": x.connector, "from": "2", "to": "9"}).ExpectError(t, "NOT_FOUND", "")
	})
}

func TestTriggerCredentials(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		x := newHooked(t, c)
		set := func(kind string, values ...any) *apitest.Response {
			return c.Do(t, setTriggerSecret, map[string]any{"conn": x.connection, "in": map[string]any{"authSchemeConfigId": "sw", "kind": kind, "values": values}})
		}
		set("ACTION", map[string]any{"name": "secret", "value": "s"}).ExpectError(t, "BAD_USER_INPUT", "kind")
		set("TRIGGER", map[string]any{"name": "previousSecret", "value": "s"}).ExpectError(t, "BAD_USER_INPUT", "values")
		set("TRIGGER", map[string]any{"name": "secret", "value": "whsec_not base64!"}).ExpectError(t, "BAD_USER_INPUT", "values[0].value")
		set("TRIGGER", map[string]any{"name": "token", "value": "s"}).ExpectError(t, "BAD_USER_INPUT", "values[0].name")
		r := c.Do(t, `query($id: ID!) { connection(id: $id) { credentials(kind: TRIGGER) { authSchemeConfig { key } fieldsSet hints { field } } } }`, map[string]any{"id": x.connection}).OK(t)
		if !strings.Contains(r.Body, `"fieldsSet":["previousSecret","secret"]`) || strings.Contains(r.Body, "It's a Secret") || strings.Contains(r.Body, "whsec_") {
			t.Errorf("trigger secrets are write-only: %s", r.Body)
		}
	})
}

// deliver POSTs body to url with headers and returns the status and answer.
func deliver(t *testing.T, url, body string, headers map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func hookURL(t *testing.T, c *apitest.Client, connection, trigger string) string {
	t.Helper()
	return c.Do(t, webhookURLQuery, map[string]any{"id": connection, "t": trigger}).OK(t).String("connection.webhookURL")
}

func githubHeaders(body, delivery string) map[string]string {
	return githubHeadersWith(githubSecretForTry, body, delivery)
}

func githubHeadersWith(secret, body, delivery string) map[string]string {
	s, _ := domain.HmacOverrides{Preset: domain.PresetGitHub}.Settings()
	return map[string]string{"X-Hub-Signature-256": "sha256=" + hooks.Sign(s, secret, []byte(body), "", ""),
		"X-GitHub-Delivery": delivery, "X-GitHub-Event": "push", "Content-Type": "application/json"}
}

func eventCount(t *testing.T, c *apitest.Client, connection string) int {
	t.Helper()
	return len(c.Do(t, eventsQuery, map[string]any{"id": connection, "first": 100}).OK(t).List("connection.events.edges"))
}

func TestWebhookDeliveries(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		x := newHooked(t, c)
		url := hookURL(t, c, x.connection, "push")
		if !strings.HasPrefix(url, h.Server.URL+"/hooks/") || len(strings.TrimPrefix(url, h.Server.URL+"/hooks/")) < 40 {
			t.Fatalf("webhookURL = %q", url)
		}
		if again := hookURL(t, c, x.connection, "push"); again != url {
			t.Errorf("the hook is stable: %q then %q", url, again)
		}
		r := c.Do(t, webhookURLQuery, map[string]any{"id": x.connection, "t": "nope"}).ExpectError(t, "NOT_FOUND", "")
		if r.Get("connection.webhookURL") != nil {
			t.Errorf("webhookURL of a missing trigger is null: %s", r.Body)
		}

		// A delivery signed with the previous secret, an Authorization header riding along.
		body := `{"ref":"refs/heads/main","n":1}`
		headers := githubHeaders(body, "d-1")
		headers["Authorization"] = "Bearer pb_should_never_be_stored"
		headers["Cookie"] = "session=1"
		if status, answer := deliver(t, url, body, headers); status != http.StatusAccepted {
			t.Fatalf("verified delivery: %d %s", status, answer)
		}
		// The same delivery id again: accepted, stored once.
		if status, answer := deliver(t, url, body, headers); status != http.StatusAccepted || !strings.Contains(answer, "duplicate") {
			t.Fatalf("repeated delivery: %d %s", status, answer)
		}
		// Refused, nothing stored.
		refused := []struct {
			name    string
			url     string
			body    string
			headers map[string]string
			status  int
		}{
			{"bad signature", url, body + " ", githubHeaders(body, "d-2"), http.StatusUnauthorized},
			{"no signature", url, body, map[string]string{"X-GitHub-Delivery": "d-3"}, http.StatusUnauthorized},
			{"unknown hook", url + "x", body, githubHeaders(body, "d-4"), http.StatusNotFound},
			{"oversized", url, strings.Repeat("a", 1<<20+1), githubHeaders(strings.Repeat("a", 1<<20+1), "d-5"), http.StatusRequestEntityTooLarge},
			{"bearer instead of a signature", url, body, map[string]string{"Authorization": "Bearer " + c.Token}, http.StatusUnauthorized},
		}
		for _, b := range refused {
			if status, answer := deliver(t, b.url, b.body, b.headers); status != b.status {
				t.Errorf("%s: %d %s, want %d", b.name, status, answer, b.status)
			}
		}
		if status, _ := deliver(t, h.Server.URL+"/hooks/"+strings.Repeat("A", 43), body, githubHeaders(body, "d-6")); status != http.StatusNotFound {
			t.Errorf("a guessed hook: %d", status)
		}
		r = c.Do(t, eventsQuery, map[string]any{"id": x.connection, "first": 10}).OK(t)
		if n := len(r.List("connection.events.edges")); n != 1 {
			t.Fatalf("one event stored, got %d: %s", n, r.Body)
		}
		if r.String("connection.events.edges.0.node.body") != body || r.String("connection.events.edges.0.node.deliveryId") != "d-1" ||
			r.String("connection.events.edges.0.node.trigger") != "push" {
			t.Errorf("event as received: %s", r.Body)
		}
		headersJSON := r.JSON("connection.events.edges.0.node.headers")
		if strings.Contains(headersJSON, "Authorization") || strings.Contains(headersJSON, "pb_should") || strings.Contains(headersJSON, "Cookie") ||
			!strings.Contains(headersJSON, `"X-Github-Event"`) {
			t.Errorf("headers allow-listed: %s", headersJSON)
		}

		// Standard Webhooks: the documented vector inside its window; stale outside it.
		sw := hookURL(t, c, x.connection, "sw")
		swSettings, _ := domain.HmacOverrides{Preset: domain.PresetStandardWebhooks}.Settings()
		now := strconv.FormatInt(time.Now().Unix(), 10)
		swBody := []byte{0xff, 0xfe, 'x'} // not UTF-8: kept byte for byte
		swHeaders := func(ts, id string) map[string]string {
			return map[string]string{"webhook-id": id, "webhook-timestamp": ts,
				"webhook-signature": "v1," + hooks.Sign(swSettings, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", swBody, ts, id)}
		}
		if status, answer := deliver(t, sw, string(swBody), swHeaders(now, "msg_1")); status != http.StatusAccepted {
			t.Fatalf("standard webhooks: %d %s", status, answer)
		}
		stale := strconv.FormatInt(time.Now().Add(-6*time.Minute).Unix(), 10)
		if status, _ := deliver(t, sw, string(swBody), swHeaders(stale, "msg_2")); status != http.StatusUnauthorized {
			t.Errorf("stale timestamp: %d", status)
		}
		r = c.Do(t, eventsQuery, map[string]any{"id": x.connection, "first": 10, "t": "sw"}).OK(t)
		if r.Get("connection.events.edges.0.node.body") != nil || r.String("connection.events.edges.0.node.bodyBase64") != base64.StdEncoding.EncodeToString(swBody) {
			t.Errorf("a body that is not UTF-8 reads back in bodyBase64 only: %s", r.Body)
		}

		// Stripe: the delivery id is the body's id.
		stripeURL := hookURL(t, c, x.connection, "stripe")
		stripeSettings, _ := domain.HmacOverrides{Preset: domain.PresetStripe}.Settings()
		stripeBody := `{"id":"evt_123","type":"invoice.paid"}`
		stripeSig := "t=" + now + ",v1=" + hooks.Sign(stripeSettings, "whsec_stripe-text-secret", []byte(stripeBody), now, "")
		for range 2 {
			if status, answer := deliver(t, stripeURL, stripeBody, map[string]string{"Stripe-Signature": stripeSig}); status != http.StatusAccepted {
				t.Fatalf("stripe: %d %s", status, answer)
			}
		}
		r = c.Do(t, eventsQuery, map[string]any{"id": x.connection, "first": 10, "t": "stripe"}).OK(t)
		if len(r.List("connection.events.edges")) != 1 || r.String("connection.events.edges.0.node.deliveryId") != "evt_123" {
			t.Errorf("stripe's delivery stored once under its id: %s", r.Body)
		}

		// Newest first, paginated.
		for i := range 3 {
			b := fmt.Sprintf(`{"n":%d}`, i+2)
			if status, _ := deliver(t, url, b, githubHeaders(b, fmt.Sprintf("p-%d", i))); status != http.StatusAccepted {
				t.Fatal("delivery refused")
			}
		}
		r = c.Do(t, eventsQuery, map[string]any{"id": x.connection, "first": 2, "t": "push"}).OK(t)
		if r.String("connection.events.edges.0.node.deliveryId") != "p-2" || r.Get("connection.events.pageInfo.hasNextPage") != true {
			t.Errorf("newest first: %s", r.Body)
		}
		r = c.Do(t, eventsQuery, map[string]any{"id": x.connection, "first": 5, "t": "push", "after": r.String("connection.events.pageInfo.endCursor")}).OK(t)
		if n := len(r.List("connection.events.edges")); n != 2 || r.String("connection.events.edges.1.node.deliveryId") != "d-1" {
			t.Errorf("second page: %s", r.Body)
		}
		// The event is a node; another organisation sees nothing.
		id := r.String("connection.events.edges.1.node.id")
		if got := c.Do(t, `query($id: ID!) { node(id: $id) { id ... on Event { trigger } } }`, map[string]any{"id": id}).OK(t).String("node.trigger"); got != "push" {
			t.Errorf("node(event) = %q", got)
		}
		other := h.NewOrg(t)
		other.Do(t, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id}).ExpectError(t, "NOT_FOUND", "")
		other.Do(t, eventsQuery, map[string]any{"id": x.connection, "first": 5}).ExpectError(t, "NOT_FOUND", "")
		other.Do(t, webhookURLQuery, map[string]any{"id": x.connection, "t": "push"}).ExpectError(t, "NOT_FOUND", "")

		// A rotation works at once, though the hook's target was just verified (and cached).
		c.Do(t, setTriggerSecret, map[string]any{"conn": x.connection, "in": map[string]any{"authSchemeConfigId": "gh", "kind": "TRIGGER", "values": []any{
			map[string]any{"name": "secret", "value": "rotated"}, map[string]any{"name": "previousSecret", "value": githubSecretForTry}}}}).OK(t)
		if status, answer := deliver(t, url, body, githubHeadersWith("rotated", body, "rot-1")); status != http.StatusAccepted {
			t.Errorf("signed with the new secret right after the rotation: %d %s", status, answer)
		}
		// Without a TRIGGER secret nothing verifies, once the verified target read last is
		// older than the hook's TargetTTL (1 s).
		c.Do(t, `mutation($id: ID!) { deleteCredential(id: $id) }`, map[string]any{"id": credentialID(t, c, x.connection, "gh")}).OK(t)
		for i, deadline := 0, time.Now().Add(10*time.Second); ; i++ {
			b := fmt.Sprintf(`{"after":%d}`, i)
			status, _ := deliver(t, url, b, githubHeaders(b, fmt.Sprintf("gone-%d", i)))
			if status == http.StatusUnauthorized {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("a deleted secret still verifies after 10 s: %d", status)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}

func credentialID(t *testing.T, c *apitest.Client, connection, config string) string {
	t.Helper()
	r := c.Do(t, `query($id: ID!) { connection(id: $id) { credentials(kind: TRIGGER) { id authSchemeConfig { key } } } }`, map[string]any{"id": connection}).OK(t)
	for i := range r.List("connection.credentials") {
		if r.String(fmt.Sprintf("connection.credentials.%d.authSchemeConfig.key", i)) == config {
			return r.String(fmt.Sprintf("connection.credentials.%d.id", i))
		}
	}
	t.Fatalf("no credential for %s", config)
	return ""
}

// A sender trickling its body holds its slot for the read timeout at most, and stores nothing.
func TestWebhookSlowBody(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		h := apitest.NewWithOptions(t, st, apitest.Options{Hooks: hooks.Handler{ReadTimeout: 300 * time.Millisecond}})
		c := h.NewOrg(t)
		x := newHooked(t, c)
		url := hookURL(t, c, x.connection, "push")
		conn, err := net.Dial("tcp", strings.TrimPrefix(h.Server.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		body := `{"slow":true}`
		hdr := githubHeaders(body, "slow-1")
		path := strings.TrimPrefix(url, h.Server.URL)
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nX-Hub-Signature-256: %s\r\nX-GitHub-Delivery: slow-1\r\n\r\n{", path, len(body), hdr["X-Hub-Signature-256"])
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		answer, _ := io.ReadAll(conn)
		if !strings.HasPrefix(string(answer), "HTTP/1.1 408") {
			t.Errorf("a body not sent in time: %q", answer)
		}
		if n := eventCount(t, c, x.connection); n != 0 {
			t.Errorf("nothing stored, got %d events", n)
		}
	})
}

func TestPruneEvents(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		x := newHooked(t, c)
		url := hookURL(t, c, x.connection, "push")
		for i := range 5 {
			b := fmt.Sprintf(`{"n":%d}`, i)
			if status, _ := deliver(t, url, b, githubHeaders(b, fmt.Sprintf("r-%d", i))); status != http.StatusAccepted {
				t.Fatal("delivery refused")
			}
		}
		// The database may hold other tests' events: counts are at least ours.
		_, err := h.Store.PruneEvents(context.Background(), time.Now().Add(-time.Hour), 2)
		if err != nil || eventCount(t, c, x.connection) != 5 {
			t.Fatalf("recent events stay: %v", err)
		}
		n, err := h.Store.PruneEvents(context.Background(), time.Now().Add(time.Hour), 2)
		if err != nil || n < 5 || eventCount(t, c, x.connection) != 0 {
			t.Fatalf("old events pruned in batches of 2: %d, %v", n, err)
		}
	})
}

// One answer holds at most EventBytesPerAnswer bytes of events, whatever the page size and
// however many lists the operation reads, and a page holds at most 100 events.
func TestEventsAnswerIsBounded(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		x := newHooked(t, c)
		url := hookURL(t, c, x.connection, "push")
		big := strings.Repeat("x", 1<<20-64)
		for i := range 10 {
			b := fmt.Sprintf(`"%d%s"`, i, big)
			if status, answer := deliver(t, url, b, githubHeaders(b, fmt.Sprintf("big-%d", i))); status != http.StatusAccepted {
				t.Fatalf("delivery %d: %d %s", i, status, answer)
			}
		}
		const q = `query($id: ID!, $first: Int, $last: Int) { connection(id: $id) { events(first: $first, last: $last) { nodes { id body bodyBase64 } pageInfo { hasNextPage } } } }`
		r := c.Do(t, q, map[string]any{"id": x.connection, "first": 10}).ExpectError(t, "BAD_USER_INPUT", "first")
		if !strings.Contains(r.Message(), "smaller first") || r.Get("connection") != nil || len(r.Body) > 64<<10 {
			t.Errorf("10 MiB of events refused with a hint, nothing read: %.300s", r.Body)
		}
		r = c.Do(t, q, map[string]any{"id": x.connection, "first": 7}).OK(t)
		if len(r.List("connection.events.nodes")) != 7 || r.Get("connection.events.pageInfo.hasNextPage") != true {
			t.Errorf("7 MiB fit: %.300s", r.Body)
		}
		c.Do(t, q, map[string]any{"id": x.connection, "last": 9}).ExpectError(t, "BAD_USER_INPUT", "last")
		// Aliases share the answer's budget.
		const two = `query($id: ID!) { connection(id: $id) { a: events(first: 5) { nodes { body } } b: events(first: 5) { nodes { bodyBase64 } } } }`
		c.Do(t, two, map[string]any{"id": x.connection}).ExpectError(t, "BAD_USER_INPUT", "first")
		for _, n := range []int{101, 200} {
			r := c.Do(t, eventsQuery, map[string]any{"id": x.connection, "first": n}).ExpectError(t, "BAD_USER_INPUT", "first")
			if !strings.Contains(r.Message(), "between 0 and 100") {
				t.Errorf("first: %d: %s", n, r.Message())
			}
		}
	})
}

// A verified delivery whose id could not be stored as text is refused with 400 and nothing
// stored: PostgreSQL refused it (503 on every retry) and SQLite stored what no JSON answer
// or subscriber could carry.
func TestWebhookDeliveryIDs(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		x := newHooked(t, c)
		url := hookURL(t, c, x.connection, "push")
		body := `{"n":1}`
		for name, id := range map[string]string{"latin-1 byte": "d-\xe9", "too long": strings.Repeat("d", 257)} {
			if status, answer := deliver(t, url, body, githubHeaders(body, id)); status != http.StatusBadRequest || !strings.Contains(answer, "delivery id") {
				t.Errorf("%s: %d %s", name, status, answer)
			}
		}
		stripeURL := hookURL(t, c, x.connection, "stripe")
		stripeSettings, _ := domain.HmacOverrides{Preset: domain.PresetStripe}.Settings()
		now := strconv.FormatInt(time.Now().Unix(), 10)
		stripeBody := `{"id":"evt_\u0000","type":"invoice.paid"}`
		sig := "t=" + now + ",v1=" + hooks.Sign(stripeSettings, "whsec_stripe-text-secret", []byte(stripeBody), now, "")
		if status, answer := deliver(t, stripeURL, stripeBody, map[string]string{"Stripe-Signature": sig}); status != http.StatusBadRequest {
			t.Errorf("a NUL in the body's id: %d %s", status, answer)
		}
		// A header byte over 0x7F is kept as U+FFFD: every answer stays UTF-8.
		headers := githubHeaders(body, "d-ok")
		headers["X-GitHub-Event"] = "push\xe9"
		if status, answer := deliver(t, url, body, headers); status != http.StatusAccepted {
			t.Fatalf("a valid delivery: %d %s", status, answer)
		}
		r := c.Do(t, eventsQuery, map[string]any{"id": x.connection, "first": 10}).OK(t)
		if n := len(r.List("connection.events.edges")); n != 1 || !strings.Contains(r.JSON("connection.events.edges.0.node.headers"), "push\uFFFD") {
			t.Errorf("only the valid delivery is stored, its header as UTF-8: %s", r.Body)
		}
	})
}

// One organisation's slow senders hold at most half of the hook slots: another organisation's
// deliveries go on. A malformed signature header is told apart from a missing one.
func TestWebhookShares(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		h := apitest.NewWithOptions(t, st, apitest.Options{Hooks: hooks.Handler{MaxConcurrent: 4, ReadTimeout: 20 * time.Second}})
		a, b := h.NewOrg(t), h.NewOrg(t)
		xa, xb := newHooked(t, a), newHooked(t, b)
		urlA, urlB := hookURL(t, a, xa.connection, "push"), hookURL(t, b, xb.connection, "push")
		for range 4 {
			conn, err := net.Dial("tcp", strings.TrimPrefix(h.Server.URL, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{", strings.TrimPrefix(urlA, h.Server.URL))
		}
		body := `{"n":1}`
		for deadline := time.Now().Add(10 * time.Second); ; {
			status, _ := deliver(t, urlA, body, map[string]string{"X-Hub-Signature-256": "sha256=00"})
			if status == http.StatusServiceUnavailable {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("A's slow senders never filled its share: %d", status)
			}
			time.Sleep(10 * time.Millisecond)
		}
		// A's senders over its share are refused as they arrive, holding a slot only meanwhile:
		// B's delivery goes through once they have been (before shares, never within 20 s).
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			status, answer := deliver(t, urlB, body, githubHeaders(body, "b-1"))
			if status == http.StatusAccepted {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("B beside A's slow senders: %d %s", status, answer)
			}
		}
		stripeURL := hookURL(t, b, xb.connection, "stripe")
		status, answer := deliver(t, stripeURL, body, map[string]string{"Stripe-Signature": "t=,v1="})
		if status != http.StatusUnauthorized || !strings.Contains(answer, "malformed") {
			t.Errorf("t=,v1=: %d %s", status, answer)
		}
	})
}

// A delivery to a trigger whose HMAC config lost its settings (an update without hmac clears
// them) says so, not that the secret is missing.
func TestWebhookWithoutSettings(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		x := newHooked(t, c)
		url := hookURL(t, c, x.connection, "push")
		c.Do(t, updateHmacConfig, map[string]any{"c": x.connector, "id": "gh", "in": map[string]any{"id": "gh", "schemeType": "HMAC"}}).OK(t)
		body := `{"n":1}`
		status, answer := deliver(t, url, body, githubHeaders(body, "s-1"))
		if status != http.StatusUnauthorized || !strings.Contains(answer, "no hmac settings") {
			t.Errorf("a config without settings: %d %s", status, answer)
		}
	})
}
