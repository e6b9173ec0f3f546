package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/notify"
)

// APIKeyPrefix starts every API-key secret, so that secret scanners recognise leaked keys.
const APIKeyPrefix = "pb_"

const (
	secretBytes = 32 // 256 bits of entropy, 43 URL-safe characters
	// shownPrefixLen is how much of the secret a key list shows: the fixed prefix and 8
	// characters, enough to tell keys apart, far too little to guess the rest.
	shownPrefixLen = len(APIKeyPrefix) + 8
)

// NewSecret returns a fresh API-key secret, the prefix shown in lists, and the hash to store.
func NewSecret() (secret, shownPrefix string, hash []byte) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	secret = APIKeyPrefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, secret[:shownPrefixLen], HashSecret(secret)
}

// HashSecret hashes an API-key secret for storage and lookup. Secrets carry 256 random bits,
// so a plain SHA-256 cannot be brute-forced and lets a key be found by its hash in one query.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// Keys creates and verifies API keys. Verified keys are cached briefly, so a request costs no
// database read; a revocation made through Keys takes effect at once on this replica, on the
// others as soon as the cross-server bus tells them (Follow), and within CacheTTL at worst
// (while the bus is down). Use is recorded at most once per TouchInterval per key.
type Keys struct {
	Store         domain.APIKeyStore
	Now           func() time.Time
	CacheTTL      time.Duration
	TouchInterval time.Duration
	Logger        *slog.Logger

	mu      sync.Mutex
	cache   map[string]cachedKey // by secret hash
	touched map[string]time.Time // by key id: when this replica last recorded a use
	// gen counts invalidations: a database read that an invalidation overtook may hold the
	// row as it was before the change, so its result is not cached (see lookup).
	gen uint64
	// flight makes concurrent requests with the same expired key share one database read.
	flight singleflight.Group
}

type cachedKey struct {
	key     *domain.APIKey
	fetched time.Time
}

// NewKeys returns a Keys with default timings: a 5 s cache and one use record a minute.
func NewKeys(store domain.APIKeyStore, logger *slog.Logger) *Keys {
	return &Keys{Store: store, Now: time.Now, CacheTTL: 5 * time.Second, TouchInterval: time.Minute, Logger: logger}
}

// Create makes a key for orgID and returns it with its secret, which is never available again.
func (k *Keys) Create(ctx context.Context, orgID string, in domain.NewAPIKey) (*domain.APIKey, string, error) {
	secret, prefix, hash := NewSecret()
	key, err := k.Store.CreateAPIKey(ctx, orgID, in, prefix, hash)
	if err != nil {
		return nil, "", err
	}
	return key, secret, nil
}

// Revoke revokes a key of orgID (any organisation when orgID is empty) and drops it from the cache.
func (k *Keys) Revoke(ctx context.Context, orgID, id string) (*domain.APIKey, error) {
	key, err := k.Store.RevokeAPIKey(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	// At once on this replica, without waiting for the bus to bring the news back.
	k.invalidate(notify.Event{Topic: notify.TopicAPIKeys, ID: id})
	return key, nil
}

var errInvalidKey = domain.Errorf(domain.CodeUnauthenticated, "invalid API key")

// Authenticate verifies an API-key secret and returns its principal.
func (k *Keys) Authenticate(ctx context.Context, secret string) (*Principal, error) {
	if !strings.HasPrefix(secret, APIKeyPrefix) || len(secret) < len(APIKeyPrefix)+32 {
		return nil, errInvalidKey
	}
	now := k.Now()
	hash := HashSecret(secret)
	key, err := k.lookup(ctx, string(hash), hash, now)
	if err != nil {
		return nil, err
	}
	switch {
	case key.RevokedAt != nil:
		return nil, domain.Errorf(domain.CodeUnauthenticated, "the API key is revoked")
	case key.ExpiresAt != nil && !now.Before(*key.ExpiresAt):
		return nil, domain.Errorf(domain.CodeUnauthenticated, "the API key has expired")
	}
	k.recordUse(key.ID, now)
	return &Principal{
		OrganisationID: key.OrganisationID,
		Scopes:         slices.Clone(key.Scopes),
		APIKeyID:       key.ID,
		Subject:        "key:" + key.ID,
	}, nil
}

func (k *Keys) lookup(ctx context.Context, cacheKey string, hash []byte, now time.Time) (*domain.APIKey, error) {
	k.mu.Lock()
	c, ok := k.cache[cacheKey]
	k.mu.Unlock()
	if ok && now.Sub(c.fetched) < k.CacheTTL {
		return c.key, nil
	}
	v, err, _ := k.flight.Do(cacheKey, func() (any, error) {
		k.mu.Lock()
		gen := k.gen
		k.mu.Unlock()
		// Detached from the first caller's context: its cancellation must not fail the others.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		key, err := k.Store.FindAPIKeyByHash(ctx, hash)
		if err != nil && domain.ErrorCode(err) != domain.CodeNotFound && ctx.Err() == nil {
			// One retry: a pooled connection broken by another request's cancellation fails
			// the first query on it (seen under load when clients hang up).
			key, err = k.Store.FindAPIKeyByHash(ctx, hash)
		}
		if err != nil {
			return nil, err
		}
		k.mu.Lock()
		// An invalidation during the read may be about this key, read before it changed:
		// caching it would undo the invalidation for a whole CacheTTL. The next request
		// reads again.
		if k.gen == gen {
			if k.cache == nil || len(k.cache) > 100_000 {
				k.cache = make(map[string]cachedKey)
			}
			k.cache[cacheKey] = cachedKey{key: key, fetched: now}
		}
		k.mu.Unlock()
		return key, nil
	})
	if domain.ErrorCode(err) == domain.CodeNotFound {
		return nil, errInvalidKey
	}
	if err != nil {
		return nil, err
	}
	return v.(*domain.APIKey), nil
}

// Follow keeps the cache coherent with the database through bus until the returned function
// is called: a key's change drops that key, an organisation's change drops its keys, and a
// Reset (the bus may have missed changes) drops them all.
func (k *Keys) Follow(bus *notify.Bus) (stop func()) {
	return bus.Subscribe(k.invalidate)
}

func (k *Keys) invalidate(ev notify.Event) {
	var drop func(c cachedKey) bool
	switch ev.Topic {
	case notify.Reset:
		drop = func(cachedKey) bool { return true }
	case notify.TopicAPIKeys:
		drop = func(c cachedKey) bool { return c.key.ID == ev.ID }
	case notify.TopicOrganisations:
		drop = func(c cachedKey) bool { return c.key.OrganisationID == ev.ID }
	default:
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.gen++
	maps.DeleteFunc(k.cache, func(_ string, c cachedKey) bool { return drop(c) })
}

// recordUse writes lastUsedAt in the background at most once per TouchInterval per key, so
// that requests never wait for a write.
func (k *Keys) recordUse(id string, now time.Time) {
	k.mu.Lock()
	if k.touched == nil {
		k.touched = make(map[string]time.Time)
	}
	last, ok := k.touched[id]
	due := !ok || now.Sub(last) >= k.TouchInterval
	if due {
		k.touched[id] = now
	}
	k.mu.Unlock()
	if !due {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := k.Store.TouchAPIKey(ctx, id, now, k.TouchInterval); err != nil && k.Logger != nil && !errors.Is(err, context.Canceled) {
			k.Logger.Warn("record api key use", "key_id", id, "error", err.Error())
		}
	}()
}
