package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/fairshare"
)

// Store is what the endpoint needs of the database.
type Store interface {
	HookTarget(ctx context.Context, hookID string) (*domain.HookTarget, error)
	StoreEvent(ctx context.Context, ev *domain.Event) (stored bool, err error)
}

// Handler serves POST /hooks/{id}: keyless (the hook id and the signature are the
// credentials), with its own caps, apart from the GraphQL admission slots.
type Handler struct {
	Store  Store
	Logger *slog.Logger
	// MaxBodyBytes caps a delivery's body (default 1 MiB): over it, 413.
	MaxBodyBytes int64
	// MaxConcurrent bounds the deliveries handled at once (default 64), of which one
	// organisation's hooks hold at most half: over either, 503 with Retry-After, which
	// providers retry. A tenant's own slow senders thus leave the other half to the others.
	MaxConcurrent int
	// ReadTimeout bounds reading one body (default 10 s): a sender trickling bytes holds a
	// slot that long at most.
	ReadTimeout time.Duration
	// Now is the clock of the replay window.
	Now func() time.Time
	// TargetTTL is how long a hook's verification target (trigger settings and secrets) is
	// reused from memory after a delivery verified with it (default 1 s; negative: never).
	// It saves the database reads of every delivery of a busy hook. A delivery that fails
	// verification always reads the target afresh, so a new secret works at once; a removed
	// one (or trigger) may still verify for up to TargetTTL.
	TargetTTL time.Duration

	slots   chan struct{}
	targets *targetCache

	// orgs holds each organisation's part of the slots: at most half (a pointer: Handler is
	// copied by value when configured).
	orgs *fairshare.Share
}

// NewHandler returns a handler with defaults filled in.
func NewHandler(h Handler) *Handler {
	if h.MaxBodyBytes <= 0 {
		h.MaxBodyBytes = 1 << 20
	}
	if h.MaxConcurrent <= 0 {
		h.MaxConcurrent = 64
	}
	if h.ReadTimeout <= 0 {
		h.ReadTimeout = 10 * time.Second
	}
	if h.Now == nil {
		h.Now = time.Now
	}
	if h.Logger == nil {
		h.Logger = slog.New(slog.DiscardHandler)
	}
	if h.TargetTTL == 0 {
		h.TargetTTL = time.Second
	}
	h.targets = &targetCache{ttl: h.TargetTTL, entries: map[string]cachedTarget{}}
	h.slots = make(chan struct{}, h.MaxConcurrent)
	h.orgs = fairshare.New(int64(h.MaxConcurrent), int64(h.MaxConcurrent/2))
	return &h
}

// storedHeaders are the headers kept with an event, beside the trigger's own (signature,
// timestamp, delivery id): what tells a consumer what the event is. Authorization, cookies and
// anything else a sender adds are never stored.
var storedHeaders = []string{
	"Content-Type", "User-Agent",
	"X-GitHub-Event", "X-GitHub-Delivery", "X-GitHub-Hook-ID", "X-GitHub-Hook-Installation-Target-ID", "X-GitHub-Hook-Installation-Target-Type",
	"X-Slack-Retry-Num", "X-Slack-Retry-Reason",
	"webhook-id", "webhook-timestamp",
}

func reply(w http.ResponseWriter, status int, body map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reply(w, http.StatusMethodNotAllowed, map[string]any{"error": "deliveries are POSTed"})
		return
	}
	select {
	case h.slots <- struct{}{}:
		defer func() { <-h.slots }()
	default:
		w.Header().Set("Retry-After", "1")
		reply(w, http.StatusServiceUnavailable, map[string]any{"error": "too many deliveries at once; retry"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.ReadTimeout+10*time.Second)
	defer cancel()
	id := r.PathValue("id")
	target, cached := h.targets.get(id, h.Now())
	if !cached {
		var ok bool
		if target, ok = h.resolve(ctx, w, id); !ok {
			return
		}
	}
	// The organisation's share is taken before the body is read, the slow part.
	org := target.Hook.OrganisationID
	release, err := h.orgs.TryAcquire(org)
	if err != nil {
		w.Header().Set("Retry-After", "1")
		reply(w, http.StatusServiceUnavailable, map[string]any{"error": "too many deliveries to this organisation at once; retry"})
		return
	}
	defer release()
	// A slow sender cannot hold the slot beyond the read timeout.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(h.ReadTimeout))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		reply(w, http.StatusRequestEntityTooLarge, map[string]any{"error": "the body is larger than the limit", "limit": h.MaxBodyBytes})
		return
	case errors.Is(err, os.ErrDeadlineExceeded):
		reply(w, http.StatusRequestTimeout, map[string]any{"error": "the body was not received within the read timeout", "timeoutSeconds": h.ReadTimeout.Seconds()})
		return
	case err != nil:
		reply(w, http.StatusBadRequest, map[string]any{"error": "the body could not be read"})
		return
	}
	delivery := Delivery{Header: r.Header, Body: body, Now: h.Now()}
	deliveryID, err := Verify(target.Settings, target.Secrets, delivery)
	if err != nil && cached {
		// The secret or the trigger may have changed since: check against what is stored.
		var ok bool
		if target, ok = h.resolve(ctx, w, id); !ok {
			return
		}
		deliveryID, err = Verify(target.Settings, target.Secrets, delivery)
	}
	if err != nil {
		h.targets.drop(id)
		reply(w, http.StatusUnauthorized, map[string]any{"error": err.Error()})
		return
	}
	h.targets.put(id, target, h.Now())
	// Checked once the sender is known to hold the secret: a 400 tells it that retrying the
	// same delivery is useless. Nothing is stored.
	if err := CheckDeliveryID(deliveryID); err != nil {
		reply(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
		return
	}
	ev := &domain.Event{
		OrganisationID: target.Hook.OrganisationID, ConnectionID: target.Hook.ConnectionID, Trigger: target.Hook.Trigger,
		Headers: keptHeaders(r.Header, target.Settings), Body: body,
	}
	if deliveryID != "" {
		ev.DeliveryID = &deliveryID
	}
	stored, err := h.Store.StoreEvent(ctx, ev)
	if err != nil {
		h.Logger.ErrorContext(ctx, "hook: store event", "error", err.Error())
		reply(w, http.StatusServiceUnavailable, map[string]any{"error": "temporarily unavailable; retry"})
		return
	}
	if !stored {
		reply(w, http.StatusAccepted, map[string]any{"status": "duplicate", "deliveryId": deliveryID})
		return
	}
	reply(w, http.StatusAccepted, map[string]any{"status": "accepted", "eventId": ev.ID})
}

// resolve reads a hook's target, answering 404 or 503 itself when it cannot.
func (h *Handler) resolve(ctx context.Context, w http.ResponseWriter, id string) (*domain.HookTarget, bool) {
	target, err := h.Store.HookTarget(ctx, id)
	if domain.ErrorCode(err) == domain.CodeNotFound {
		h.targets.drop(id)
		reply(w, http.StatusNotFound, map[string]any{"error": "unknown hook"})
		return nil, false
	}
	if err != nil {
		h.Logger.ErrorContext(ctx, "hook: resolve", "error", err.Error())
		reply(w, http.StatusServiceUnavailable, map[string]any{"error": "temporarily unavailable; retry"})
		return nil, false
	}
	return target, true
}

// maxCachedTargets bounds the cache: beyond it, expired entries go, then everything.
const maxCachedTargets = 10000

// targetCache keeps the targets of hooks whose deliveries verified lately.
type targetCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[string]cachedTarget
}

type cachedTarget struct {
	target  *domain.HookTarget
	expires time.Time
}

func (c *targetCache) get(id string, now time.Time) (*domain.HookTarget, bool) {
	if c.ttl < 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok || now.After(e.expires) {
		return nil, false
	}
	return e.target, true
}

func (c *targetCache) put(id string, t *domain.HookTarget, now time.Time) {
	if c.ttl < 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxCachedTargets {
		for k, e := range c.entries {
			if now.After(e.expires) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= maxCachedTargets {
			clear(c.entries)
		}
	}
	// An entry is not extended: what was read lives TargetTTL from its read at most.
	if e, ok := c.entries[id]; !ok || now.After(e.expires) || e.target != t {
		c.entries[id] = cachedTarget{t, now.Add(c.ttl)}
	}
}

func (c *targetCache) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, id)
}

// keptHeaders returns the allow-listed headers of a delivery in a stable order.
func keptHeaders(header http.Header, s *domain.HmacSettings) []domain.HTTPHeader {
	names := append([]string{}, storedHeaders...)
	if s != nil {
		names = append(names, s.SignatureHeader)
		for _, p := range []*string{s.TimestampHeader, s.DeliveryIDHeader} {
			if p != nil {
				names = append(names, *p)
			}
		}
	}
	out := []domain.HTTPHeader{}
	seen := map[string]bool{}
	for _, n := range names {
		canonical := http.CanonicalHeaderKey(n)
		if seen[canonical] || strings.EqualFold(canonical, "Authorization") {
			continue
		}
		seen[canonical] = true
		for _, v := range header.Values(canonical) {
			// net/http lets bytes over 0x7F through: stored and answered as text, they must be UTF-8.
			out = append(out, domain.HTTPHeader{Name: canonical, Value: strings.ToValidUTF8(v, "\uFFFD")})
		}
	}
	return out
}
