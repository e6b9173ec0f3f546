// Package hooks receives the external system's webhook deliveries: it verifies each against
// its trigger's HMAC settings (verify.go) and serves POST /hooks/<id> (handler.go).
package hooks

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/plugboard/plugboard/internal/domain"
)

// Why a delivery is refused; all answer 401, and none says which secret was tried.
var (
	ErrNoSecret    = errors.New("no TRIGGER secret is set for this trigger")
	ErrNoSettings  = errors.New("the trigger's HMAC config has no hmac settings: set them with updateAuthSchemeConfig")
	ErrNoSignature = errors.New("the signature header is missing")
	// ErrMalformedSignature: the header is there, but holds no signature of the expected form
	// (prefix and encoding), e.g. Stripe's "t=,v1=".
	ErrMalformedSignature = errors.New("the signature header is malformed: no signature of the expected prefix and encoding")
	ErrBadSignature       = errors.New("the signature does not match")
	ErrTimestamp          = errors.New("the timestamp is missing or outside the replay window")
	ErrNoDeliveryID       = errors.New("the delivery id header is missing")
)

// MaxDeliveryIDBytes bounds a delivery id: providers' ids are well under it.
const MaxDeliveryIDBytes = 256

// ErrDeliveryID refuses a verified delivery whose id could not be stored and read back as
// text (PostgreSQL refuses invalid UTF-8 and NUL; JSON answers cannot carry invalid UTF-8).
var ErrDeliveryID = fmt.Errorf("the delivery id must be valid UTF-8 without control characters and at most %d bytes", MaxDeliveryIDBytes)

// CheckDeliveryID is the rule of a storable delivery id.
func CheckDeliveryID(id string) error {
	if len(id) > MaxDeliveryIDBytes || !utf8.ValidString(id) || strings.ContainsFunc(id, unicode.IsControl) {
		return ErrDeliveryID
	}
	return nil
}

// Delivery is a received request as verification sees it.
type Delivery struct {
	Header http.Header
	Body   []byte
	Now    time.Time
}

// Verify checks a delivery against settings with each of secrets (the current one, then the
// previous one during a rotation) and returns its delivery id ("" when it has none).
// Signatures are compared in constant time.
func Verify(s *domain.HmacSettings, secrets []string, d Delivery) (deliveryID string, err error) {
	if s == nil {
		return "", ErrNoSettings
	}
	if len(secrets) == 0 {
		return "", ErrNoSecret
	}
	values := d.Header.Values(s.SignatureHeader)
	candidates := signatures(s, values)
	if len(candidates) == 0 {
		if strings.TrimSpace(strings.Join(values, "")) != "" {
			return "", ErrMalformedSignature
		}
		return "", ErrNoSignature
	}
	var timestamp string
	if s.TimestampHeader != nil {
		timestamp = timestampOf(s, d.Header.Get(*s.TimestampHeader))
		ts, err := strconv.ParseInt(timestamp, 10, 64)
		if err != nil {
			return "", ErrTimestamp
		}
		tolerance := int64(domain.DefaultToleranceSeconds)
		if s.ToleranceSeconds != nil {
			tolerance = int64(*s.ToleranceSeconds)
		}
		if diff := d.Now.Unix() - ts; diff > tolerance || diff < -tolerance {
			return "", ErrTimestamp
		}
	}
	if s.DeliveryIDHeader != nil {
		deliveryID = strings.TrimSpace(d.Header.Get(*s.DeliveryIDHeader))
		if deliveryID == "" && strings.Contains(s.SignedPayload, domain.PlaceholderID) {
			return "", ErrNoDeliveryID
		}
	}
	payload := signedPayload(s.SignedPayload, d.Body, timestamp, deliveryID)
	newHash := hashOf(s.Algorithm)
	matched := false
	for _, secret := range secrets {
		key, err := s.Key(secret)
		if err != nil {
			continue
		}
		mac := hmac.New(newHash, key)
		mac.Write(payload)
		sum := mac.Sum(nil)
		// Every candidate is compared, so that the time taken does not say which matched.
		for _, c := range candidates {
			if hmac.Equal(sum, c) {
				matched = true
			}
		}
	}
	if !matched {
		return "", ErrBadSignature
	}
	if s.DeliveryIDFromBody() {
		deliveryID = bodyID(d.Body)
	}
	return deliveryID, nil
}

// Sign returns the encoded signature (without its prefix) of a delivery: what a provider
// sends. Tests and the benchmark sign with it; Verify never does.
func Sign(s *domain.HmacSettings, secret string, body []byte, timestamp, id string) string {
	key, err := s.Key(secret)
	if err != nil {
		key = []byte(secret)
	}
	mac := hmac.New(hashOf(s.Algorithm), key)
	mac.Write(signedPayload(s.SignedPayload, body, timestamp, id))
	if s.Encoding == domain.EncodingBase64 {
		return base64.StdEncoding.EncodeToString(mac.Sum(nil))
	}
	return hex.EncodeToString(mac.Sum(nil))
}

// signatures returns the decoded signatures among a header's values: items separated by
// spaces (Standard Webhooks: "v1,a v1,b") or, when the prefix holds no comma, by commas
// (Stripe: "t=…,v1=a,v1=b"), that start with the prefix.
func signatures(s *domain.HmacSettings, values []string) [][]byte {
	var out [][]byte
	for _, v := range values {
		for _, item := range strings.Fields(v) {
			parts := []string{item}
			if !strings.Contains(s.SignaturePrefix, ",") {
				parts = strings.Split(item, ",")
			}
			for _, p := range parts {
				sig, ok := strings.CutPrefix(p, s.SignaturePrefix)
				if !ok || sig == "" {
					continue
				}
				if b := decode(s.Encoding, sig); b != nil {
					out = append(out, b)
				}
			}
		}
	}
	return out
}

func decode(enc domain.SignatureEncoding, s string) []byte {
	var (
		b   []byte
		err error
	)
	if enc == domain.EncodingBase64 {
		b, err = base64.StdEncoding.DecodeString(s)
		if err != nil {
			b, err = base64.RawStdEncoding.DecodeString(s)
		}
	} else {
		b, err = hex.DecodeString(s)
	}
	if err != nil {
		return nil
	}
	return b
}

// timestampOf reads the timestamp from its header; when that is the signature header, the
// timestamp is its t= item (Stripe).
func timestampOf(s *domain.HmacSettings, value string) string {
	value = strings.TrimSpace(value)
	if !strings.EqualFold(*s.TimestampHeader, s.SignatureHeader) {
		return value
	}
	for _, item := range strings.Split(value, ",") {
		if t, ok := strings.CutPrefix(strings.TrimSpace(item), "t="); ok {
			return t
		}
	}
	return ""
}

// signedPayload fills the template piece by piece: a body holding "{timestamp}" stays as sent.
func signedPayload(template string, body []byte, timestamp, id string) []byte {
	out := make([]byte, 0, len(template)+len(body)+len(timestamp)+len(id))
	for template != "" {
		i := strings.IndexByte(template, '{')
		if i < 0 {
			out = append(out, template...)
			break
		}
		out = append(out, template[:i]...)
		template = template[i:]
		switch {
		case strings.HasPrefix(template, domain.PlaceholderBody):
			out = append(out, body...)
			template = template[len(domain.PlaceholderBody):]
		case strings.HasPrefix(template, domain.PlaceholderTimestamp):
			out = append(out, timestamp...)
			template = template[len(domain.PlaceholderTimestamp):]
		case strings.HasPrefix(template, domain.PlaceholderID):
			out = append(out, id...)
			template = template[len(domain.PlaceholderID):]
		default:
			out = append(out, '{')
			template = template[1:]
		}
	}
	return out
}

func hashOf(a domain.HmacAlgorithm) func() hash.Hash {
	switch a {
	case domain.HmacSHA1:
		return sha1.New
	case domain.HmacSHA512:
		return sha512.New
	}
	return sha256.New
}

// bodyID is the top-level "id" of a JSON body, "" when there is none.
func bodyID(body []byte) string {
	var v struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(body, &v) != nil || len(v.ID) == 0 {
		return ""
	}
	var id string
	if json.Unmarshal(v.ID, &id) != nil {
		return ""
	}
	return id
}
