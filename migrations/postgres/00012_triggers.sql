-- +goose Up
-- A version's triggers as JSON (name, description, the global id of the HMAC config that
-- verifies it); NULL when it has none.
ALTER TABLE connector_versions ADD COLUMN triggers jsonb;

-- One unguessable hook per connection and trigger name, made when its webhookURL is first
-- read and kept across versions: a provider is configured once.
CREATE TABLE webhooks (
    id              text PRIMARY KEY,
    organisation_id text NOT NULL,
    connection_id   text NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    trigger_name    text NOT NULL,
    created_at      timestamptz NOT NULL,
    CONSTRAINT webhooks_trigger UNIQUE (connection_id, trigger_name)
);

-- Verified deliveries, body byte for byte. A delivery id repeated for the same connection and
-- trigger is stored once (NULLs are distinct: deliveries without an id are all kept).
-- Retention prunes by received_at in batches.
CREATE TABLE events (
    id              text PRIMARY KEY,
    organisation_id text NOT NULL,
    connection_id   text NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    trigger_name    text NOT NULL,
    delivery_id     text,
    received_at     timestamptz NOT NULL,
    headers         jsonb NOT NULL,
    body            bytea NOT NULL
);
CREATE UNIQUE INDEX events_by_delivery ON events (connection_id, trigger_name, delivery_id);
CREATE INDEX events_by_connection ON events (organisation_id, connection_id, received_at DESC, id DESC);
CREATE INDEX events_by_received_at ON events (received_at);

-- +goose Down
DROP TABLE events;
DROP TABLE webhooks;
ALTER TABLE connector_versions DROP COLUMN triggers;
