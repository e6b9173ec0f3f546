package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const appliedDocument = `apiVersion: plugboard/v1
kind: Connector
connector:
  name: Weather
  protocolType: HTTP
  baseURL: https://weather.example.com
  authSchemeConfigs:
    - key: token
      schemeType: BEARER
      verifySSL: true
    - key: alerts
      schemeType: HMAC
      hmac:
        preset: STANDARD_WEBHOOKS
        algorithm: SHA256
        signatureHeader: webhook-signature
        encoding: BASE64
        signaturePrefix: v1,
        signedPayload: '{id}.{timestamp}.{body}'
        timestampHeader: webhook-timestamp
        toleranceSeconds: 60
        deliveryIdHeader: webhook-id
      verifySSL: true
  connectionVariables:
    - name: units
      value: metric
version:
  name: "1.0"
  published: true
  triggers:
    - name: storm warning
      description: A storm is coming
      authSchemeConfig: alerts
  actions:
    - name: forecast
      purpose: Read
      method: GET
      path: /forecast?city={{city}}&days={{days?}}
      headers: []
`

// TestConnectorApplyAndExport: apply creates, apply again writes nothing, export prints the
// same document, and export into another organisation gives the same bytes.
func TestConnectorApplyAndExport(t *testing.T) {
	eachDatabase(t, func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "weather.yaml")
		if err := os.WriteFile(file, []byte(appliedDocument), 0o600); err != nil {
			t.Fatal(err)
		}
		org1, _, _ := run(t, "org", "create", "One")
		org2, _, _ := run(t, "org", "create", "Two")
		org1, org2 = strings.TrimSpace(org1), strings.TrimSpace(org2)

		id, stderr, code := run(t, "connector", "apply", "--org", org1, "-f", file)
		if code != 0 || !idLine.MatchString(id) || !strings.Contains(stderr, "revision 1") {
			t.Fatalf("apply: %d %q %q", code, id, stderr)
		}
		again, stderr, code := run(t, "connector", "apply", "--org", org1, "-f", file)
		if code != 0 || again != id || !strings.Contains(stderr, "nothing written") {
			t.Errorf("apply twice: %d %q %q", code, again, stderr)
		}
		exported, stderr, code := run(t, "connector", "export", strings.TrimSpace(id))
		if code != 0 || exported != appliedDocument {
			t.Errorf("export of the default version: %d %s\n%s", code, stderr, exported)
		}
		if err := os.WriteFile(file, []byte(exported), 0o600); err != nil {
			t.Fatal(err)
		}
		other, _, code := run(t, "connector", "apply", "--org", org2, "-f", file)
		if code != 0 || other == id {
			t.Fatalf("apply into another organisation: %d %q", code, other)
		}
		if round, _, _ := run(t, "connector", "export", strings.TrimSpace(other), "--version", "1.0"); round != exported {
			t.Errorf("round trip differs:\n%s\n%s", exported, round)
		}

		changed := strings.Replace(appliedDocument, "/forecast?", "/v2/forecast?", 1)
		if err := os.WriteFile(file, []byte(changed), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, stderr, code := run(t, "connector", "apply", "--org", org1, "-f", file); code == 0 || out != "" || !strings.Contains(stderr, "published") {
			t.Errorf("a published version that differs: %d %q %q", code, out, stderr)
		}
		draftOnly := strings.Replace(strings.Replace(appliedDocument, "published: true", "published: false", 1), "name: Weather", "name: Draft only", 1)
		if err := os.WriteFile(file, []byte(draftOnly), 0o600); err != nil {
			t.Fatal(err)
		}
		draft, _, _ := run(t, "connector", "apply", "--org", org1, "-f", file)
		if out, stderr, code := run(t, "connector", "export", strings.TrimSpace(draft)); code != 1 || out != "" || !strings.Contains(stderr, "no published default") {
			t.Errorf("export without a default version: %d %q %q", code, out, stderr)
		}
	})
}

// TestConnectorApplyOmittedMeansDefault: a field the document leaves out gets the default the
// API gives it (verifySSL: true), not Go's zero value.
func TestConnectorApplyOmittedMeansDefault(t *testing.T) {
	eachDatabase(t, func(t *testing.T) {
		doc := strings.Replace(appliedDocument, "      verifySSL: true\n", "", 1)
		file := filepath.Join(t.TempDir(), "weather.yaml")
		if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		org, _, _ := run(t, "org", "create", "One")
		id, stderr, code := run(t, "connector", "apply", "--org", strings.TrimSpace(org), "-f", file)
		if code != 0 {
			t.Fatalf("apply: %d %q", code, stderr)
		}
		exported, stderr, code := run(t, "connector", "export", strings.TrimSpace(id))
		if code != 0 || exported != appliedDocument {
			t.Errorf("export after applying without verifySSL: %d %s\n%s", code, stderr, exported)
		}
	})
}

// TestConnectorApplyNUL: a "\0" escape in a YAML document is refused on both databases (it
// reached PostgreSQL as an internal error, and SQLite stored it), saying where.
func TestConnectorApplyNUL(t *testing.T) {
	eachDatabase(t, func(t *testing.T) {
		doc := strings.Replace(appliedDocument, "name: Weather", `name: "Wea\0ther"`, 1)
		file := filepath.Join(t.TempDir(), "weather.yaml")
		if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		org, _, _ := run(t, "org", "create", "One")
		out, stderr, code := run(t, "connector", "apply", "--org", strings.TrimSpace(org), "-f", file)
		if code == 0 || out != "" || !strings.Contains(stderr, "connector.name") || !strings.Contains(stderr, "NUL") {
			t.Errorf("apply with a NUL: %d %q %q", code, out, stderr)
		}
	})
}

// TestConnectorApplyMessages: errors name the document's path, an unknown field is worded
// for a YAML author, and published: false against a published version is a conflict, not a
// silent success.
func TestConnectorApplyMessages(t *testing.T) {
	eachDatabase(t, func(t *testing.T) {
		org, _, _ := run(t, "org", "create", "One")
		org = strings.TrimSpace(org)
		apply := func(doc string) (string, string, int) {
			file := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
				t.Fatal(err)
			}
			return run(t, "connector", "apply", "--org", org, "-f", file)
		}
		for _, tc := range []struct{ doc, want string }{
			{strings.Replace(appliedDocument, "baseURL: https://weather.example.com", "baseURL: ftp://weather.example.com", 1), "connector.baseURL"},
			{strings.Replace(appliedDocument, "name: Weather", `name: ""`, 1), "connector.name"},
			{strings.Replace(appliedDocument, "  protocolType: HTTP\n", "  protocolType: HTTP\n  colour: blue\n", 1), `unknown field "colour" in the document`},
		} {
			if out, stderr, code := apply(tc.doc); code == 0 || out != "" || !strings.Contains(stderr, tc.want) || strings.Contains(stderr, "json:") {
				t.Errorf("want %q: %d %q %q", tc.want, code, out, stderr)
			}
		}
		if _, stderr, code := apply(appliedDocument); code != 0 {
			t.Fatalf("apply: %d %q", code, stderr)
		}
		unpublished := strings.Replace(appliedDocument, "published: true", "published: false", 1)
		if out, stderr, code := apply(unpublished); code == 0 || out != "" || !strings.Contains(stderr, "published") {
			t.Errorf("published: false against a published version: %d %q %q", code, out, stderr)
		}
	})
}
