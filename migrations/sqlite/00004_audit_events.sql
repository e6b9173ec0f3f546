-- +goose Up
-- Who changed what, written in the same transaction as the change. Never holds secret values.
CREATE TABLE audit_events (
    id              TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL,
    actor           TEXT NOT NULL,
    action          TEXT NOT NULL,
    resource_type   TEXT NOT NULL,
    resource_id     TEXT NOT NULL,
    changed_fields  TEXT NOT NULL DEFAULT '[]',
    created_at      DATETIME NOT NULL
);
CREATE INDEX audit_events_by_org ON audit_events (organisation_id, created_at DESC, id DESC);
CREATE INDEX audit_events_by_resource ON audit_events (organisation_id, resource_id, created_at DESC);

-- +goose Down
DROP TABLE audit_events;
