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
