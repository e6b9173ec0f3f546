-- +goose Up
CREATE TABLE organisations (
    id         text PRIMARY KEY,
    name       text NOT NULL,
    name_key   text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CONSTRAINT organisations_name_key UNIQUE (name_key)
);

CREATE TABLE connectors (
    id                   text PRIMARY KEY,
    organisation_id      text NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name                 text NOT NULL,
    name_key             text NOT NULL,
    description          text,
    protocol_type        text NOT NULL CHECK (protocol_type IN ('HTTP', 'BIGQUERY')),
    documentation_url    text,
    icon_url             text,
    base_url             text,
    -- Ordered lists that are always read and written with their connector.
    categories           jsonb NOT NULL DEFAULT '[]',
    auth_scheme_configs  jsonb NOT NULL DEFAULT '[]',
    connection_variables jsonb NOT NULL DEFAULT '[]',
    revision             integer NOT NULL DEFAULT 1,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    CONSTRAINT connectors_name_key UNIQUE (organisation_id, name_key)
);
-- Keyset pagination for each order of the contract.
CREATE INDEX connectors_by_name ON connectors (organisation_id, name_key, id);
CREATE INDEX connectors_by_updated ON connectors (organisation_id, updated_at DESC, id DESC);
CREATE INDEX connectors_by_created ON connectors (organisation_id, created_at, id);

CREATE TABLE api_keys (
    id              text PRIMARY KEY,
    organisation_id text NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name            text NOT NULL,
    prefix          text NOT NULL,
    secret_hash     bytea NOT NULL,
    scopes          text NOT NULL,
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz,
    revoked_at      timestamptz,
    last_used_at    timestamptz,
    CONSTRAINT api_keys_secret_hash UNIQUE (secret_hash)
);
CREATE INDEX api_keys_by_org ON api_keys (organisation_id, created_at DESC);

-- +goose Down
DROP TABLE api_keys;
DROP TABLE connectors;
DROP TABLE organisations;
