package domain

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// HmacPreset names a provider's way of signing webhook deliveries.
type HmacPreset string

// The presets; CUSTOM fills nothing and needs signatureHeader and signedPayload.
const (
	PresetGitHub           HmacPreset = "GITHUB"
	PresetStripe           HmacPreset = "STRIPE"
	PresetSlack            HmacPreset = "SLACK"
	PresetStandardWebhooks HmacPreset = "STANDARD_WEBHOOKS"
	PresetCustom           HmacPreset = "CUSTOM"
)

// HmacAlgorithm is the hash of an HMAC.
type HmacAlgorithm string

// The HMAC algorithms.
const (
	HmacSHA256 HmacAlgorithm = "SHA256"
	HmacSHA1   HmacAlgorithm = "SHA1"
	HmacSHA512 HmacAlgorithm = "SHA512"
)

// SignatureEncoding is how a signature is written in its header.
type SignatureEncoding string

// The signature encodings.
const (
	EncodingHex    SignatureEncoding = "HEX"
	EncodingBase64 SignatureEncoding = "BASE64"
)

// The placeholders of a signed-payload template.
const (
	PlaceholderBody      = "{body}"
	PlaceholderTimestamp = "{timestamp}"
	PlaceholderID        = "{id}"
)

// DefaultToleranceSeconds is the replay window of a signed timestamp: five minutes.
const DefaultToleranceSeconds = 300

// HmacSettings say how a webhook delivery is verified. Stored and read back with every value
// filled in (the preset's, overridden by the fields given), so that what verifies a delivery is
// what a client reads.
type HmacSettings struct {
	Preset          HmacPreset        `json:"preset"`
	Algorithm       HmacAlgorithm     `json:"algorithm"`
	SignatureHeader string            `json:"signatureHeader"`
	Encoding        SignatureEncoding `json:"encoding"`
	// SignaturePrefix marks a signature among the header's values ("sha256=", "v1,").
	SignaturePrefix string `json:"signaturePrefix"`
	// SignedPayload is the template of the signed bytes over {body}, {timestamp} and {id}.
	SignedPayload string `json:"signedPayload"`
	// TimestampHeader carries the delivery's Unix time; when it is the signature header
	// itself (Stripe), the time is its t= item.
	TimestampHeader  *string `json:"timestampHeader,omitempty"`
	ToleranceSeconds *int    `json:"toleranceSeconds,omitempty"`
	// DeliveryIDHeader carries the delivery's id, by which repeats are stored once. Stripe
	// has none: its id is the body's top-level "id".
	DeliveryIDHeader *string `json:"deliveryIdHeader,omitempty"`
}

func ptr[T any](v T) *T { return &v }

// presets are the documented schemes of each provider.
var presets = map[HmacPreset]HmacSettings{
	// https://docs.github.com/webhooks/using-webhooks/validating-webhook-deliveries
	PresetGitHub: {Algorithm: HmacSHA256, SignatureHeader: "X-Hub-Signature-256", Encoding: EncodingHex,
		SignaturePrefix: "sha256=", SignedPayload: PlaceholderBody, DeliveryIDHeader: ptr("X-GitHub-Delivery")},
	// https://docs.stripe.com/webhooks#verify-manually
	PresetStripe: {Algorithm: HmacSHA256, SignatureHeader: "Stripe-Signature", Encoding: EncodingHex,
		SignaturePrefix: "v1=", SignedPayload: PlaceholderTimestamp + "." + PlaceholderBody,
		TimestampHeader: ptr("Stripe-Signature"), ToleranceSeconds: ptr(DefaultToleranceSeconds)},
	// https://api.slack.com/authentication/verifying-requests-from-slack
	PresetSlack: {Algorithm: HmacSHA256, SignatureHeader: "X-Slack-Signature", Encoding: EncodingHex,
		SignaturePrefix: "v0=", SignedPayload: "v0:" + PlaceholderTimestamp + ":" + PlaceholderBody,
		TimestampHeader: ptr("X-Slack-Request-Timestamp"), ToleranceSeconds: ptr(DefaultToleranceSeconds)},
	// https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
	PresetStandardWebhooks: {Algorithm: HmacSHA256, SignatureHeader: "webhook-signature", Encoding: EncodingBase64,
		SignaturePrefix: "v1,", SignedPayload: PlaceholderID + "." + PlaceholderTimestamp + "." + PlaceholderBody,
		TimestampHeader: ptr("webhook-timestamp"), ToleranceSeconds: ptr(DefaultToleranceSeconds), DeliveryIDHeader: ptr("webhook-id")},
	PresetCustom: {Algorithm: HmacSHA256, Encoding: EncodingHex},
}

// HmacOverrides are the fields given beside a preset; nil keeps the preset's value.
type HmacOverrides struct {
	Preset           HmacPreset
	Algorithm        *HmacAlgorithm
	SignatureHeader  *string
	Encoding         *SignatureEncoding
	SignaturePrefix  *string
	SignedPayload    *string
	TimestampHeader  *string
	ToleranceSeconds *int
	DeliveryIDHeader *string
}

// Limits of HMAC settings.
const (
	MaxSignaturePrefix   = 32
	MaxSignedPayload     = 256
	MaxToleranceSeconds  = 86400
	maxHeaderNameInField = 128
)

// Settings applies the overrides to the preset and validates the result; fields are named
// relative to hmac.
func (o HmacOverrides) Settings() (*HmacSettings, error) {
	base, ok := presets[o.Preset]
	if !ok {
		return nil, Invalid("preset", "must be GITHUB, STRIPE, SLACK, STANDARD_WEBHOOKS or CUSTOM")
	}
	s := base
	s.Preset = o.Preset
	if o.Algorithm != nil {
		s.Algorithm = *o.Algorithm
	}
	if o.SignatureHeader != nil {
		s.SignatureHeader = strings.TrimSpace(*o.SignatureHeader)
	}
	if o.Encoding != nil {
		s.Encoding = *o.Encoding
	}
	if o.SignaturePrefix != nil {
		s.SignaturePrefix = *o.SignaturePrefix
	}
	if o.SignedPayload != nil {
		s.SignedPayload = *o.SignedPayload
	}
	if o.TimestampHeader != nil {
		s.TimestampHeader = trimOptional(o.TimestampHeader)
	}
	if o.ToleranceSeconds != nil {
		s.ToleranceSeconds = ptr(*o.ToleranceSeconds)
	}
	if o.DeliveryIDHeader != nil {
		s.DeliveryIDHeader = trimOptional(o.DeliveryIDHeader)
	}
	if s.TimestampHeader != nil && s.ToleranceSeconds == nil {
		s.ToleranceSeconds = ptr(DefaultToleranceSeconds)
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// Overrides are the overrides that give back s from its preset: every value given, and a
// header the preset names but s does not given empty (which clears it). Documents carry
// settings this way, so that applying one gives exactly the settings exported.
func (s *HmacSettings) Overrides() HmacOverrides {
	o := HmacOverrides{Preset: s.Preset, Algorithm: ptr(s.Algorithm), SignatureHeader: ptr(s.SignatureHeader), Encoding: ptr(s.Encoding),
		SignaturePrefix: ptr(s.SignaturePrefix), SignedPayload: ptr(s.SignedPayload), TimestampHeader: s.TimestampHeader,
		ToleranceSeconds: s.ToleranceSeconds, DeliveryIDHeader: s.DeliveryIDHeader}
	preset := presets[s.Preset]
	if s.TimestampHeader == nil && preset.TimestampHeader != nil {
		o.TimestampHeader = ptr("")
	}
	if s.DeliveryIDHeader == nil && preset.DeliveryIDHeader != nil {
		o.DeliveryIDHeader = ptr("")
	}
	return o
}

func (s *HmacSettings) validate() error {
	switch s.Algorithm {
	case HmacSHA256, HmacSHA1, HmacSHA512:
	default:
		return Invalid("algorithm", "must be SHA256, SHA1 or SHA512")
	}
	switch s.Encoding {
	case EncodingHex, EncodingBase64:
	default:
		return Invalid("encoding", "must be HEX or BASE64")
	}
	if s.SignatureHeader == "" {
		return Invalid("signatureHeader", "is required with the %s preset", s.Preset)
	}
	if err := checkHookHeader("signatureHeader", s.SignatureHeader); err != nil {
		return err
	}
	if len(s.SignaturePrefix) > MaxSignaturePrefix || strings.ContainsAny(s.SignaturePrefix, " \t\r\n") {
		return Invalid("signaturePrefix", "must be at most %d characters without spaces", MaxSignaturePrefix)
	}
	if strings.TrimSpace(s.SignedPayload) == "" {
		return Invalid("signedPayload", "is required with the %s preset: a template over {body}, {timestamp} and {id}", s.Preset)
	}
	if len(s.SignedPayload) > MaxSignedPayload {
		return Invalid("signedPayload", "must be at most %d characters", MaxSignedPayload)
	}
	if strings.Count(s.SignedPayload, PlaceholderBody) != 1 {
		return Invalid("signedPayload", "must hold {body} exactly once: a signature that does not cover the body proves nothing about it")
	}
	rest := strings.NewReplacer(PlaceholderBody, "", PlaceholderTimestamp, "", PlaceholderID, "").Replace(s.SignedPayload)
	if strings.ContainsAny(rest, "{}") {
		return Invalid("signedPayload", "may use only the placeholders {body}, {timestamp} and {id}")
	}
	for _, h := range []struct {
		field string
		value *string
	}{{"timestampHeader", s.TimestampHeader}, {"deliveryIdHeader", s.DeliveryIDHeader}} {
		if h.value != nil {
			if err := checkHookHeader(h.field, *h.value); err != nil {
				return err
			}
		}
	}
	if strings.Contains(s.SignedPayload, PlaceholderTimestamp) && s.TimestampHeader == nil {
		return Invalid("timestampHeader", "is required: signedPayload uses {timestamp}")
	}
	if strings.Contains(s.SignedPayload, PlaceholderID) && s.DeliveryIDHeader == nil {
		return Invalid("deliveryIdHeader", "is required: signedPayload uses {id}")
	}
	if t := s.ToleranceSeconds; t != nil && (*t < 1 || *t > MaxToleranceSeconds) {
		return Invalid("toleranceSeconds", "must be between 1 and %d", MaxToleranceSeconds)
	}
	return nil
}

// DeliveryIDFromBody tells whether the delivery id is the body's top-level "id" (Stripe).
func (s *HmacSettings) DeliveryIDFromBody() bool {
	return s.Preset == PresetStripe && s.DeliveryIDHeader == nil
}

// validationMessages say what an HMAC config leaves unprotected.
func (s *HmacSettings) validationMessages() []string {
	var msgs []string
	if s.TimestampHeader == nil {
		msgs = append(msgs, "No timestamp is signed: a captured delivery can be replayed (within the delivery-id deduplication only).")
	}
	if s.DeliveryIDHeader == nil && !s.DeliveryIDFromBody() {
		msgs = append(msgs, "No delivery id: a delivery sent again is stored again.")
	}
	if s.Algorithm == HmacSHA1 {
		msgs = append(msgs, "SHA1 is a weak hash: prefer SHA256 when the provider offers it.")
	}
	return msgs
}

// Credential fields of an HMAC config's TRIGGER credential.
const (
	FieldSecret         = "secret"
	FieldPreviousSecret = "previousSecret"
)

// StandardWebhooksSecretPrefix starts a secret whose key is the base64 after it.
const StandardWebhooksSecretPrefix = "whsec_"

// Key returns the HMAC key of a secret: base64 after "whsec_" (Standard Webhooks), else its
// UTF-8 bytes. Stripe's secrets also start "whsec_" but Stripe signs with the whole text, so
// the STRIPE preset takes every secret as text.
func (s *HmacSettings) Key(secret string) ([]byte, error) {
	if s != nil && s.Preset == PresetStripe {
		return []byte(secret), nil
	}
	if rest, ok := strings.CutPrefix(secret, StandardWebhooksSecretPrefix); ok {
		key, err := decodeBase64(rest)
		if err != nil || len(key) == 0 {
			return nil, fmt.Errorf("a %s secret must be base64 after the prefix", StandardWebhooksSecretPrefix)
		}
		return key, nil
	}
	return []byte(secret), nil
}

// decodeBase64 accepts padded and unpadded standard base64.
func decodeBase64(s string) ([]byte, error) {
	return base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
}

// checkHookHeader is the rule of a header an HMAC config reads: a valid name, and none of the
// credentials headers, which /hooks ignores and never stores (a config reading them would
// never verify, or would keep a caller's credentials with the event).
func checkHookHeader(field, name string) error {
	if !tokenPattern.MatchString(name) {
		return Invalid(field, "must be a valid header name")
	}
	for _, refused := range []string{"Authorization", "Proxy-Authorization", "Cookie"} {
		if strings.EqualFold(name, refused) {
			return Invalid(field, "cannot be %s: /hooks ignores credentials headers and never stores them", refused)
		}
	}
	return nil
}
