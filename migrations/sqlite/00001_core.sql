-- +goose Up
CREATE TABLE organisations (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    CONSTRAINT organisations_name_key UNIQUE (name_key)
);

CREATE TABLE connectors (
    id                   TEXT PRIMARY KEY,
    organisation_id      TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name                 TEXT NOT NULL,
    name_key             TEXT NOT NULL,
    description          TEXT,
    protocol_type        TEXT NOT NULL CHECK (protocol_type IN ('HTTP', 'BIGQUERY')),
    documentation_url    TEXT,
    icon_url             TEXT,
    base_url             TEXT,
    -- Ordered lists (JSON arrays) that are always read and written with their connector.
    categories           TEXT NOT NULL DEFAULT '[]',
    auth_scheme_configs  TEXT NOT NULL DEFAULT '[]',
    connection_variables TEXT NOT NULL DEFAULT '[]',
    revision             INTEGER NOT NULL DEFAULT 1,
    created_at           DATETIME NOT NULL,
    updated_at           DATETIME NOT NULL,
    CONSTRAINT connectors_name_key UNIQUE (organisation_id, name_key)
);
CREATE INDEX connectors_by_name ON connectors (organisation_id, name_key, id);
CREATE INDEX connectors_by_updated ON connectors (organisation_id, updated_at DESC, id DESC);
CREATE INDEX connectors_by_created ON connectors (organisation_id, created_at, id);

CREATE TABLE api_keys (
    id              TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    prefix          TEXT NOT NULL,
    secret_hash     BLOB NOT NULL,
    scopes          TEXT NOT NULL,
    created_at      DATETIME NOT NULL,
    expires_at      DATETIME,
    revoked_at      DATETIME,
    last_used_at    DATETIME,
    CONSTRAINT api_keys_secret_hash UNIQUE (secret_hash)
);
CREATE INDEX api_keys_by_org ON api_keys (organisation_id, created_at DESC);

-- +goose Down
DROP TABLE api_keys;
DROP TABLE connectors;
DROP TABLE organisations;
