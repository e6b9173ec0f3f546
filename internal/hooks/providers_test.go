package hooks_test

import (
	"encoding/hex"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stripe/stripe-go/v84/webhook"

	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/hooks"
)

// The presets checked against the providers' own Go libraries, both ways: what the library
// signs, Plugboard verifies; what Plugboard would accept, the library accepts too.

func settings(t *testing.T, p domain.HmacPreset) *domain.HmacSettings {
	t.Helper()
	s, err := domain.HmacOverrides{Preset: p}.Settings()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStripeGo(t *testing.T) {
	s := settings(t, domain.PresetStripe)
	secret := "whsec_test_1234567890abcdef" // Stripe's secrets start whsec_ and are used as text
	body := []byte(`{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","type":"invoice.paid"}`)
	now := time.Now()
	header := "t=" + strconv.FormatInt(now.Unix(), 10) + ",v1=" + hex.EncodeToString(webhook.ComputeSignature(now, body, secret))
	id, err := hooks.Verify(s, []string{secret}, hooks.Delivery{Header: http.Header{"Stripe-Signature": {header}}, Body: body, Now: now})
	if err != nil || id != "evt_1NG8Du2eZvKYlo2CUI79vXWy" {
		t.Fatalf("stripe-go's signature: %q, %v", id, err)
	}
	ours := "t=" + strconv.FormatInt(now.Unix(), 10) + ",v1=" + hooks.Sign(s, secret, body, strconv.FormatInt(now.Unix(), 10), "")
	if err := webhook.ValidatePayload(body, ours, secret); err != nil {
		t.Fatalf("stripe-go refuses what the preset accepts: %v", err)
	}
	// stripe-go's tolerance is Plugboard's: five minutes.
	old := now.Add(-301 * time.Second)
	stale := "t=" + strconv.FormatInt(old.Unix(), 10) + ",v1=" + hex.EncodeToString(webhook.ComputeSignature(old, body, secret))
	if webhook.ValidatePayload(body, stale, secret) == nil {
		t.Fatal("stripe-go accepted a stale delivery")
	}
	if _, err := hooks.Verify(s, []string{secret}, hooks.Delivery{Header: http.Header{"Stripe-Signature": {stale}}, Body: body, Now: now}); err == nil {
		t.Fatal("a stale delivery verified")
	}
}

func TestSlackGo(t *testing.T) {
	s := settings(t, domain.PresetSlack)
	secret := "8f742231b10e8888abcd99yyyzzz85a5"
	body := []byte(`{"type":"event_callback","event_id":"Ev1"}`)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", ts)
	h.Set("X-Slack-Signature", "v0="+hooks.Sign(s, secret, body, ts, ""))
	sv, err := slack.NewSecretsVerifier(h, secret)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = sv.Write(body)
	if err := sv.Ensure(); err != nil {
		t.Fatalf("slack-go's SecretsVerifier refuses what the preset signs: %v", err)
	}
	if _, err := hooks.Verify(s, []string{secret}, hooks.Delivery{Header: h, Body: body, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	h.Set("X-Slack-Signature", "v0="+hooks.Sign(s, "another secret", body, ts, ""))
	sv, _ = slack.NewSecretsVerifier(h, secret)
	_, _ = sv.Write(body)
	if sv.Ensure() == nil {
		t.Fatal("slack-go accepted another secret's signature")
	}
	if _, err := hooks.Verify(s, []string{secret}, hooks.Delivery{Header: h, Body: body, Now: time.Now()}); err == nil {
		t.Fatal("another secret's signature verified")
	}
}
