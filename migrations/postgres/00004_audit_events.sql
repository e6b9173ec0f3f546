-- +goose Up
-- Who changed what, written in the same transaction as the change. Never holds secret values.
CREATE TABLE audit_events (
    id              text PRIMARY KEY,
    organisation_id text NOT NULL,
    actor           text NOT NULL,
    action          text NOT NULL,
    resource_type   text NOT NULL,
    resource_id     text NOT NULL,
    changed_fields  jsonb NOT NULL DEFAULT '[]',
    created_at      timestamptz NOT NULL
);
CREATE INDEX audit_events_by_org ON audit_events (organisation_id, created_at DESC, id DESC);
CREATE INDEX audit_events_by_resource ON audit_events (organisation_id, resource_id, created_at DESC);

-- +goose Down
DROP TABLE audit_events;
