package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/notify"
	"github.com/plugboard/plugboard/internal/readmodel"
)

// Triggers live in connector_versions.triggers, read by their own query: the version reads of
// the hot path (scan.go, record.go) never pay for them.

// validateTriggers checks a version's triggers against its connector's configs.
func (s *Store) validateTriggers(tx *gorm.DB, connectorID string, in []domain.TriggerInput) ([]domain.Trigger, error) {
	if len(in) == 0 {
		return nil, nil
	}
	configs, err := configsOf(tx, connectorID)
	if err != nil {
		return nil, err
	}
	return domain.ValidateTriggers(in, configs)
}

func writeTriggers(tx *gorm.DB, versionID string, triggers []domain.Trigger) error {
	var value *string
	if len(triggers) > 0 {
		b, err := json.Marshal(triggers)
		if err != nil {
			return fmt.Errorf("encode triggers: %w", err)
		}
		s := string(b)
		value = &s
	}
	return tx.Model(&versionRow{}).Where("id = ?", versionID).Update("triggers", value).Error
}

func readTriggers(tx *gorm.DB, versionID string) ([]domain.Trigger, error) {
	var raw []sql.NullString
	if err := tx.Model(&versionRow{}).Where("id = ?", versionID).Pluck("triggers", &raw).Error; err != nil {
		return nil, fmt.Errorf("read triggers: %w", err)
	}
	return decodeTriggers(raw)
}

func decodeTriggers(raw []sql.NullString) ([]domain.Trigger, error) {
	triggers := []domain.Trigger{}
	if len(raw) == 0 || !raw[0].Valid {
		return triggers, nil
	}
	if err := json.Unmarshal([]byte(raw[0].String), &triggers); err != nil {
		return nil, fmt.Errorf("decode triggers: %w", err)
	}
	return triggers, nil
}

// FindVersionTriggers returns a version's triggers (empty when it has none).
func (s *Store) FindVersionTriggers(ctx context.Context, orgID, versionID string) ([]domain.Trigger, error) {
	var raw []sql.NullString
	err := s.db.WithContext(ctx).Model(&versionRow{}).Where("id = ? AND organisation_id = ?", versionID, orgID).Pluck("triggers", &raw).Error
	if err != nil {
		return nil, fmt.Errorf("read triggers of version %s: %w", versionID, err)
	}
	return decodeTriggers(raw)
}

// refuseIfTriggered answers CONFLICT when a trigger of any version of the connector names the
// config: deleting it or changing its type would leave the trigger unverifiable.
func refuseIfTriggered(tx *gorm.DB, connectorID string, config domain.AuthSchemeConfig, action string) error {
	var rows []struct {
		Name     string
		Triggers sql.NullString
	}
	if err := tx.Model(&versionRow{}).Select("name", "triggers").Where("connector_id = ? AND triggers IS NOT NULL", connectorID).Find(&rows).Error; err != nil {
		return err
	}
	for _, r := range rows {
		triggers, err := decodeTriggers([]sql.NullString{r.Triggers})
		if err != nil {
			return err
		}
		for _, t := range triggers {
			if t.AuthSchemeConfigID == config.GlobalID {
				return domain.Errorf(domain.CodeConflict, "cannot %s auth scheme config %q: trigger %q of version %q is verified by it", action, config.Key, t.Name, r.Name)
			}
		}
	}
	return nil
}

type webhookRow struct {
	ID             string
	OrganisationID string
	ConnectionID   string
	TriggerName    string
	CreatedAt      time.Time
}

func (webhookRow) TableName() string { return "webhooks" }

// newHookID is 32 random bytes, base64url: the hook's id is its only protection against
// deliveries to a guessed URL before the signature is checked.
func newHookID() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// HookFor returns the hook of a connection's trigger, made on first use and the same ever
// after, whichever version the connection uses: a provider is configured with it once. The
// trigger must exist in the connection's version (NOT_FOUND otherwise).
func (s *Store) HookFor(ctx context.Context, orgID, connectionID, trigger string) (string, error) {
	c, err := s.FindConnection(ctx, orgID, connectionID)
	if err != nil {
		return "", err
	}
	triggers, err := s.connectionTriggers(s.db.WithContext(ctx), c.ConnectorID, c.ID)
	if err != nil {
		return "", err
	}
	if domain.FindTrigger(triggers, trigger) == nil {
		return "", domain.Errorf(domain.CodeNotFound, "the version of connection %s has no trigger %q", connectionID, trigger)
	}
	db := s.db.WithContext(ctx)
	var row webhookRow
	err = db.Where("connection_id = ? AND trigger_name = ?", connectionID, trigger).Take(&row).Error
	if err == nil {
		return row.ID, nil
	}
	if !errors.Is(err, gorm.ErrRecordNotFound) {
		return "", fmt.Errorf("find hook: %w", err)
	}
	// Two first reads at once both insert; the unique constraint keeps one, which both read.
	err = db.Exec(`INSERT INTO webhooks (id, organisation_id, connection_id, trigger_name, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (connection_id, trigger_name) DO NOTHING`, newHookID(), orgID, connectionID, trigger, s.now()).Error
	if err != nil {
		return "", fmt.Errorf("create hook: %w", err)
	}
	if err := db.Where("connection_id = ? AND trigger_name = ?", connectionID, trigger).Take(&row).Error; err != nil {
		return "", fmt.Errorf("find hook: %w", err)
	}
	return row.ID, nil
}

// connectionTriggers returns the triggers of the version a connection uses: pinned, else the
// connector's default; none while it follows a default that does not exist yet.
func (s *Store) connectionTriggers(db *gorm.DB, connectorID, connectionID string) ([]domain.Trigger, error) {
	var raw []sql.NullString
	err := db.Raw(`SELECT v.triggers FROM connections c JOIN connector_versions v
		ON v.id = c.pinned_version_id OR (c.pinned_version_id IS NULL AND v.connector_id = c.connector_id AND v.is_default)
		WHERE c.id = ? AND c.connector_id = ?`, connectionID, connectorID).Scan(&raw).Error
	if err != nil {
		return nil, fmt.Errorf("read triggers of connection %s: %w", connectionID, err)
	}
	return decodeTriggers(raw)
}

// HookTarget resolves a hook for a delivery: NOT_FOUND when the hook is unknown or the
// connection's version no longer has its trigger. No organisation is given: the hook's id is
// the caller's only credential, and the signature is checked against what this returns.
func (s *Store) HookTarget(ctx context.Context, hookID string) (*domain.HookTarget, error) {
	db := s.db.WithContext(ctx)
	var hook webhookRow
	if err := db.Where("id = ?", hookID).Take(&hook).Error; err != nil {
		return nil, notFoundOr(err, "hook", hookID)
	}
	var conn struct{ ConnectorID string }
	if err := db.Table("connections").Select("connector_id").Where("id = ?", hook.ConnectionID).Take(&conn).Error; err != nil {
		return nil, notFoundOr(err, "hook", hookID)
	}
	triggers, err := s.connectionTriggers(db, conn.ConnectorID, hook.ConnectionID)
	if err != nil {
		return nil, err
	}
	t := domain.FindTrigger(triggers, hook.TriggerName)
	if t == nil {
		return nil, domain.NotFound("hook", hookID)
	}
	target := &domain.HookTarget{Hook: domain.Hook{ID: hook.ID, OrganisationID: hook.OrganisationID, ConnectionID: hook.ConnectionID, Trigger: hook.TriggerName}}
	configs, err := configsOf(db, conn.ConnectorID)
	if err != nil {
		return nil, err
	}
	i := domain.FindAuthSchemeConfig(configs, t.AuthSchemeConfigID)
	if i < 0 || configs[i].SchemeType != domain.SchemeHMAC {
		return target, nil // nothing can verify a delivery: every one is refused
	}
	target.Settings = configs[i].HMAC
	var cred credentialRow
	err = db.Where("connection_id = ? AND kind = ? AND auth_scheme_config_id = ?", hook.ConnectionID, string(domain.CredentialTrigger), configs[i].Key).Take(&cred).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return target, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read trigger credential: %w", err)
	}
	values, err := s.open(&cred)
	if err != nil {
		return nil, err
	}
	for _, name := range []string{domain.FieldSecret, domain.FieldPreviousSecret} {
		for _, v := range values {
			if v.Name == name && v.Value != "" {
				target.Secrets = append(target.Secrets, v.Value)
			}
		}
	}
	return target, nil
}

type eventRow struct {
	ID             string
	OrganisationID string
	ConnectionID   string
	TriggerName    string
	DeliveryID     *string
	ReceivedAt     time.Time
	Headers        string
	Body           []byte
}

func (eventRow) TableName() string { return "events" }

func (r *eventRow) domain() (*domain.Event, error) {
	ev := &domain.Event{ID: r.ID, OrganisationID: r.OrganisationID, ConnectionID: r.ConnectionID, Trigger: r.TriggerName,
		DeliveryID: r.DeliveryID, ReceivedAt: r.ReceivedAt.UTC(), Body: r.Body, Headers: []domain.HTTPHeader{}}
	if ev.Body == nil {
		ev.Body = []byte{}
	}
	if err := json.Unmarshal([]byte(r.Headers), &ev.Headers); err != nil {
		return nil, fmt.Errorf("event %s headers: %w", r.ID, err)
	}
	return ev, nil
}

// StoreEvent stores a verified delivery unless one with the same delivery id is stored for
// the connection's trigger; stored tells which. A stored event is announced on the bus once
// committed: on PostgreSQL by a NOTIFY (announcer) that every server hears, on SQLite in
// process.
func (s *Store) StoreEvent(ctx context.Context, ev *domain.Event) (stored bool, err error) {
	ev.ID = newID()
	ev.ReceivedAt = s.now()
	headers, err := json.Marshal(ev.Headers)
	if err != nil {
		return false, fmt.Errorf("encode headers: %w", err)
	}
	// One statement, in its own implicit transaction: one round trip per delivery.
	res := s.db.WithContext(ctx).Exec(`INSERT INTO events (id, organisation_id, connection_id, trigger_name, delivery_id, received_at, headers, body)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		ev.ID, ev.OrganisationID, ev.ConnectionID, ev.Trigger, ev.DeliveryID, ev.ReceivedAt, string(headers), ev.Body)
	if res.Error != nil {
		return false, fmt.Errorf("store event: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return false, nil
	}
	announced := notify.Event{Topic: notify.TopicEvents, Op: "INSERT", ID: ev.ID, OrganisationID: ev.OrganisationID}
	if s.dialect == Postgres {
		s.announcer().announce(announced)
	} else {
		s.changed(announced)
	}
	return true, nil
}

// announcer sends the NOTIFYs of stored events in batches. A NOTIFY per INSERT took a global
// lock at each commit (PostgreSQL serializes the commits of notifying transactions on its
// queue): pgbench's INSERT with pg_notify ran at a sixth of the plain INSERT's rate. The
// INSERT now commits alone, and one statement notifies every event stored meanwhile: no wait
// is added (whatever is queued goes at once), and under load the batches grow by themselves.
// The bus is best effort (notify's package comment): an announcement lost with its server
// leaves the event stored, readable in Connection.events.
type announcer struct {
	queue chan notify.Event
	db    *gorm.DB
	done  chan struct{}
}

// maxAnnounceBatch bounds one statement's notifications (each payload is ~150 bytes).
const maxAnnounceBatch = 256

func (s *Store) announcer() *announcer {
	s.announceOnce.Do(func() {
		s.announce = &announcer{queue: make(chan notify.Event, 8192), db: s.db, done: make(chan struct{})}
		go s.announce.run()
	})
	return s.announce
}

func (a *announcer) announce(ev notify.Event) {
	select {
	case a.queue <- ev:
	default: // far behind: the live streams miss this one, the event is stored
	}
}

func (a *announcer) run() {
	defer close(a.done)
	for ev := range a.queue {
		batch := []notify.Event{ev}
	more:
		for len(batch) < maxAnnounceBatch {
			select {
			case ev, ok := <-a.queue:
				if !ok {
					break more
				}
				batch = append(batch, ev)
			default:
				break more
			}
		}
		var q strings.Builder
		args := make([]any, 0, 2*len(batch))
		q.WriteString("SELECT pg_notify(c, p) FROM (VALUES ")
		for i, ev := range batch {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?::text, ?::text)")
			payload, _ := json.Marshal(ev)
			args = append(args, notify.Channel, string(payload))
		}
		q.WriteString(") AS n(c, p)")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = a.db.WithContext(ctx).Exec(q.String(), args...).Error // best effort, as the bus is
		cancel()
	}
}

// stop sends what is queued and ends the announcer.
func (a *announcer) stop() {
	close(a.queue)
	<-a.done
}

// FindEvent returns one event of orgID.
func (s *Store) FindEvent(ctx context.Context, orgID, id string) (*domain.Event, error) {
	var row eventRow
	if err := s.db.WithContext(ctx).Where("id = ? AND organisation_id = ?", id, orgID).Take(&row).Error; err != nil {
		return nil, notFoundOr(err, "event", id)
	}
	return row.domain()
}

const eventsOrder domain.ConnectorOrder = "EVENTS"

// eventKeyset is the order of a connection's events: newest first.
var eventKeyset = keyset{[]string{"received_at", "id"}, true}

// FindEvents returns a page of a connection's events, newest first, of one trigger when
// trigger is set. The page's stored bytes (bodies and headers) are taken from the operation's
// domain.EventBudget before any body is read: sizes first, then the rows of the page, so that
// one request never holds more than the budget however large the events are; a page over what
// is left is refused (LIMIT_EXCEEDED on first or last) with a hint to ask for fewer.
func (s *Store) FindEvents(ctx context.Context, orgID, connectionID string, trigger *string, page domain.PageRequest) (*domain.EventPage, error) {
	if _, err := s.FindConnection(ctx, orgID, connectionID); err != nil {
		return nil, err
	}
	w, err := openWindow(page, eventsOrder)
	if err != nil {
		return nil, err
	}
	q := s.db.WithContext(ctx).Model(&eventRow{}).Where("organisation_id = ? AND connection_id = ?", orgID, connectionID)
	if trigger != nil {
		q = q.Where("trigger_name = ?", *trigger)
	}
	where, args, err := w.conditions(eventKeyset, timeAndID)
	if err != nil {
		return nil, err
	}
	for i, cond := range where {
		q = q.Where(cond, args[2*i:2*i+2]...)
	}
	var sizes []struct {
		ID   string
		Size int64
	}
	if err := q.Select("id, length(body) + length(CAST(headers AS text)) AS size").Order(eventKeyset.orderBy(page.Backward)).
		Limit(page.First + 1).Find(&sizes).Error; err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	more := len(sizes) > page.First
	sizes = sizes[:min(len(sizes), page.First)]
	ids := make([]string, len(sizes))
	var total int64
	for i, e := range sizes {
		ids[i] = e.ID
		total += e.Size
	}
	if budget := domain.EventBudgetOf(ctx); !budget.Take(total) {
		field := "first"
		if page.Backward {
			field = "last"
		}
		return nil, domain.LimitExceeded(field, "these %d events hold %d bytes, over the %d bytes left of the %d one answer may hold: ask for fewer (a smaller %s) and page with the cursors",
			len(ids), total, budget.Left(), domain.EventBytesPerAnswer, field)
	}
	var rows []eventRow
	if len(ids) > 0 {
		if err := s.db.WithContext(ctx).Where("organisation_id = ? AND id IN ?", orgID, ids).
			Order(eventKeyset.orderBy(page.Backward)).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
	}
	result := &domain.EventPage{}
	result.Edges, result.PageInfo, err = pageOf(rows, page.First, readmodel.AllParts, (*eventRow).domain,
		func(_ *eventRow, e *domain.Event) cursor {
			return cursor{Order: eventsOrder, Time: e.ReceivedAt, ID: e.ID}
		}, func(cur string, e *domain.Event) domain.EventEdge { return domain.EventEdge{Cursor: cur, Node: e} })
	if err != nil {
		return nil, err
	}
	result.PageInfo.HasNextPage = more
	finish(w, result.Edges, &result.PageInfo)
	return result, nil
}

// PruneEvents deletes events received before cutoff, batch rows per statement so that no
// statement holds locks for long, and returns how many it deleted.
func (s *Store) PruneEvents(ctx context.Context, cutoff time.Time, batch int) (int, error) {
	total := 0
	for {
		res := s.db.WithContext(ctx).Exec(`DELETE FROM events WHERE id IN
			(SELECT id FROM events WHERE received_at < ? ORDER BY received_at LIMIT ?)`, cutoff.UTC(), batch)
		if res.Error != nil {
			return total, fmt.Errorf("prune events: %w", res.Error)
		}
		total += int(res.RowsAffected)
		if res.RowsAffected < int64(batch) || ctx.Err() != nil {
			return total, nil
		}
	}
}
