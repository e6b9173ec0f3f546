package document_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/internal/document"
	"github.com/plugboard/plugboard/internal/domain"
)

func ptr[T any](v T) *T { return &v }

// TestHmacSettingsTravel: the settings an HMAC config reads back are written into a document
// and applied back to the same settings, whatever was overridden or cleared; a hand-written
// document may give the preset alone.
func TestHmacSettingsTravel(t *testing.T) {
	algorithm, encoding := domain.HmacSHA1, domain.EncodingBase64
	for name, in := range map[string]domain.HmacOverrides{
		"github":            {Preset: domain.PresetGitHub},
		"stripe":            {Preset: domain.PresetStripe},
		"slack":             {Preset: domain.PresetSlack},
		"standard webhooks": {Preset: domain.PresetStandardWebhooks, ToleranceSeconds: ptr(60)},
		"custom":            {Preset: domain.PresetCustom, SignatureHeader: ptr("X-Sig"), SignedPayload: ptr("{body}"), Algorithm: &algorithm, Encoding: &encoding},
		"headers cleared":   {Preset: domain.PresetSlack, TimestampHeader: ptr(""), SignedPayload: ptr("{body}")},
		"github no id":      {Preset: domain.PresetGitHub, DeliveryIDHeader: ptr(""), SignaturePrefix: ptr("")},
	} {
		t.Run(name, func(t *testing.T) {
			want, err := in.Settings()
			if err != nil {
				t.Fatal(err)
			}
			c := &domain.Connector{ConnectorFields: domain.ConnectorFields{Name: "C", ProtocolType: domain.ProtocolHTTP},
				AuthSchemeConfigs: []domain.AuthSchemeConfig{{Key: "hook", GlobalID: "C.1", SchemeType: domain.SchemeHMAC, HMAC: want}}}
			v := &domain.ConnectorVersion{Name: "1"}
			b, err := document.Render(document.Of(c, v, []domain.Trigger{{Name: "t", AuthSchemeConfigID: "C.1"}}), document.YAML)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), "C.1") || !strings.Contains(string(b), "authSchemeConfig: hook") {
				t.Errorf("a trigger names its config by key, never by id:\n%s", b)
			}
			d, err := document.Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			spec := d.Spec()
			cfg := spec.AuthSchemeConfigs[0]
			if err := cfg.Normalize(); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cfg.HMAC, want) {
				t.Errorf("applied settings %+v, want %+v\n%s", cfg.HMAC, want, b)
			}
			if got := spec.Version.Triggers; len(got) != 1 || got[0].AuthSchemeConfigID != "hook" {
				t.Errorf("triggers: %+v", got)
			}
		})
	}
	d, err := document.Parse([]byte("apiVersion: plugboard/v1\nkind: Connector\nconnector:\n  name: C\n  protocolType: HTTP\n  authSchemeConfigs:\n    - key: gh\n      schemeType: HMAC\n      hmac: {preset: GITHUB}\n      verifySSL: true\nversion:\n  name: '1'\n  published: false\n  actions: []\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := d.Spec().AuthSchemeConfigs[0]
	if err := cfg.Normalize(); err != nil || cfg.HMAC.SignatureHeader != "X-Hub-Signature-256" || cfg.HMAC.DeliveryIDHeader == nil {
		t.Errorf("a preset alone gives the preset's settings: %v %+v", err, cfg.HMAC)
	}
}
