package hooks

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/plugboard/plugboard/internal/domain"
)

func preset(t *testing.T, p domain.HmacPreset) *domain.HmacSettings {
	t.Helper()
	s, err := domain.HmacOverrides{Preset: p}.Settings()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// The vectors below are the ones the providers publish in their documentation.
const (
	// https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
	githubSecret    = "It's a Secret to Everybody"
	githubBody      = "Hello, World!"
	githubSignature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	// https://api.slack.com/authentication/verifying-requests-from-slack
	slackSecret    = "8f742231b10e8888abcd99yyyzzz85a5"
	slackTimestamp = "1531420618"
	slackBody      = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	slackSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
	// https://github.com/standard-webhooks/standard-webhooks (the libraries' shared test vector)
	swSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	swID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	swTimestamp = "1614265330"
	swBody      = `{"test": 2432232314}`
	swSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestDocumentedVectors(t *testing.T) {
	slackTime := time.Unix(1531420618, 0)
	swTime := time.Unix(1614265330, 0)
	tests := []struct {
		name    string
		preset  domain.HmacPreset
		secrets []string
		d       Delivery
		id      string
		err     error
	}{
		{"github", domain.PresetGitHub, []string{githubSecret},
			Delivery{header("X-Hub-Signature-256", githubSignature, "X-GitHub-Delivery", "d1"), []byte(githubBody), time.Now()}, "d1", nil},
		{"github previous secret", domain.PresetGitHub, []string{"new secret", githubSecret},
			Delivery{header("X-Hub-Signature-256", githubSignature), []byte(githubBody), time.Now()}, "", nil},
		{"github wrong secret", domain.PresetGitHub, []string{"nope"},
			Delivery{header("X-Hub-Signature-256", githubSignature), []byte(githubBody), time.Now()}, "", ErrBadSignature},
		{"github body changed", domain.PresetGitHub, []string{githubSecret},
			Delivery{header("X-Hub-Signature-256", githubSignature), []byte(githubBody + " "), time.Now()}, "", ErrBadSignature},
		{"github no header", domain.PresetGitHub, []string{githubSecret},
			Delivery{header(), []byte(githubBody), time.Now()}, "", ErrNoSignature},
		{"github no secret", domain.PresetGitHub, nil,
			Delivery{header("X-Hub-Signature-256", githubSignature), []byte(githubBody), time.Now()}, "", ErrNoSecret},
		{"slack", domain.PresetSlack, []string{slackSecret},
			Delivery{header("X-Slack-Signature", slackSignature, "X-Slack-Request-Timestamp", slackTimestamp), []byte(slackBody), slackTime.Add(299 * time.Second)}, "", nil},
		{"slack stale", domain.PresetSlack, []string{slackSecret},
			Delivery{header("X-Slack-Signature", slackSignature, "X-Slack-Request-Timestamp", slackTimestamp), []byte(slackBody), slackTime.Add(301 * time.Second)}, "", ErrTimestamp},
		{"slack from the future", domain.PresetSlack, []string{slackSecret},
			Delivery{header("X-Slack-Signature", slackSignature, "X-Slack-Request-Timestamp", slackTimestamp), []byte(slackBody), slackTime.Add(-301 * time.Second)}, "", ErrTimestamp},
		{"slack timestamp changed", domain.PresetSlack, []string{slackSecret},
			Delivery{header("X-Slack-Signature", slackSignature, "X-Slack-Request-Timestamp", "1531420619"), []byte(slackBody), slackTime}, "", ErrBadSignature},
		{"standard webhooks", domain.PresetStandardWebhooks, []string{swSecret},
			Delivery{header("webhook-id", swID, "webhook-timestamp", swTimestamp, "webhook-signature", "v1,bm9wZQ== "+swSignature), []byte(swBody), swTime}, swID, nil},
		{"standard webhooks id changed", domain.PresetStandardWebhooks, []string{swSecret},
			Delivery{header("webhook-id", swID+"x", "webhook-timestamp", swTimestamp, "webhook-signature", swSignature), []byte(swBody), swTime}, "", ErrBadSignature},
		{"standard webhooks no id", domain.PresetStandardWebhooks, []string{swSecret},
			Delivery{header("webhook-timestamp", swTimestamp, "webhook-signature", swSignature), []byte(swBody), swTime}, "", ErrNoDeliveryID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := Verify(preset(t, tt.preset), tt.secrets, tt.d)
			if !errors.Is(err, tt.err) || (err == nil && id != tt.id) {
				t.Fatalf("Verify = %q, %v; want %q, %v", id, err, tt.id, tt.err)
			}
		})
	}
}

func TestSignedPayloadKeepsBraces(t *testing.T) {
	got := string(signedPayload("{id}.{timestamp}.{body}{x}", []byte("{timestamp}"), "1", "a"))
	if want := "a.1.{timestamp}{x}"; got != want {
		t.Fatalf("signedPayload = %q, want %q", got, want)
	}
}

func TestStripe(t *testing.T) {
	s := preset(t, domain.PresetStripe)
	// Stripe signs with the whole whsec_ text (stripe-go: hmac.New(sha256.New, []byte(secret))).
	secret := "whsec_test_secret"
	now := time.Unix(1700000000, 0)
	body := []byte(`{"id":"evt_1","object":"event","data":{"id":"nested"}}`)
	sig := Sign(s, secret, body, "1700000000", "")
	h := header("Stripe-Signature", "t=1700000000,v1=00"+sig[2:]+",v1="+sig+",v0=deadbeef")
	id, err := Verify(s, []string{secret}, Delivery{h, body, now})
	if err != nil || id != "evt_1" {
		t.Fatalf("Verify = %q, %v; want evt_1", id, err)
	}
	if _, err := Verify(s, []string{secret}, Delivery{h, body, now.Add(301 * time.Second)}); !errors.Is(err, ErrTimestamp) {
		t.Fatalf("stale: %v", err)
	}
	h = header("Stripe-Signature", "t=1700000001,v1="+sig)
	if _, err := Verify(s, []string{secret}, Delivery{h, body, now}); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("timestamp changed: %v", err)
	}
}
