-- +goose Up
-- Triggers, hooks and events; see the PostgreSQL migration of the same number.
ALTER TABLE connector_versions ADD COLUMN triggers TEXT;

CREATE TABLE webhooks (
    id              TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL,
    connection_id   TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    trigger_name    TEXT NOT NULL,
    created_at      DATETIME NOT NULL,
    CONSTRAINT webhooks_trigger UNIQUE (connection_id, trigger_name)
);

CREATE TABLE events (
    id              TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL,
    connection_id   TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    trigger_name    TEXT NOT NULL,
    delivery_id     TEXT,
    received_at     DATETIME NOT NULL,
    headers         TEXT NOT NULL,
    body            BLOB NOT NULL
);
CREATE UNIQUE INDEX events_by_delivery ON events (connection_id, trigger_name, delivery_id);
CREATE INDEX events_by_connection ON events (organisation_id, connection_id, received_at DESC, id DESC);
CREATE INDEX events_by_received_at ON events (received_at);

-- +goose Down
DROP TABLE events;
DROP TABLE webhooks;
ALTER TABLE connector_versions DROP COLUMN triggers;
