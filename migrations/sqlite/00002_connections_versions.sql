-- +goose Up
CREATE TABLE connector_versions (
    id              TEXT PRIMARY KEY,
    connector_id    TEXT NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    organisation_id TEXT NOT NULL,
    name            TEXT NOT NULL,
    name_key        TEXT NOT NULL,
    description     TEXT,
    actions         TEXT NOT NULL DEFAULT '[]',
    is_latest       INTEGER NOT NULL DEFAULT 0,
    is_default      INTEGER NOT NULL DEFAULT 0,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL,
    published_at    DATETIME,
    CONSTRAINT connector_versions_name_key UNIQUE (connector_id, name_key),
    CONSTRAINT connector_versions_aliases_published CHECK ((is_latest = 0 AND is_default = 0) OR published_at IS NOT NULL)
);
-- At most one latest and one default version per connector.
CREATE UNIQUE INDEX connector_versions_one_latest ON connector_versions (connector_id) WHERE is_latest = 1;
CREATE UNIQUE INDEX connector_versions_one_default ON connector_versions (connector_id) WHERE is_default = 1;
CREATE INDEX connector_versions_by_created ON connector_versions (connector_id, created_at DESC, id DESC);

CREATE TABLE connections (
    id                TEXT PRIMARY KEY,
    connector_id      TEXT NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    organisation_id   TEXT NOT NULL,
    name              TEXT NOT NULL,
    name_key          TEXT NOT NULL,
    variables         TEXT NOT NULL DEFAULT '[]',
    -- A pinned version cannot be deleted while pinned (NO ACTION, so that deleting the
    -- connector, which removes both, still works).
    pinned_version_id TEXT REFERENCES connector_versions (id),
    revision          integer NOT NULL DEFAULT 1,
    created_at        DATETIME NOT NULL,
    updated_at        DATETIME NOT NULL,
    CONSTRAINT connections_name_key UNIQUE (connector_id, name_key)
);
CREATE INDEX connections_by_connector ON connections (connector_id, created_at, id);
CREATE INDEX connections_by_pinned_version ON connections (pinned_version_id) WHERE pinned_version_id IS NOT NULL;

CREATE TABLE credentials (
    id                    TEXT PRIMARY KEY,
    connection_id         TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    auth_scheme_config_id TEXT NOT NULL,
    kind                  TEXT NOT NULL CHECK (kind IN ('ACTION', 'TRIGGER')),
    position              integer NOT NULL,
    fields_set            TEXT NOT NULL DEFAULT '[]',
    hints                 TEXT NOT NULL DEFAULT '[]',
    -- The secret values, AES-256-GCM sealed by the key named in key_id, bound to the row id.
    key_id                TEXT NOT NULL,
    ciphertext            BLOB NOT NULL,
    expires_at            DATETIME,
    created_at            DATETIME NOT NULL,
    updated_at            DATETIME NOT NULL,
    CONSTRAINT credentials_one_per_config UNIQUE (connection_id, kind, auth_scheme_config_id)
);
CREATE INDEX credentials_by_connection ON credentials (connection_id, kind, position);
CREATE INDEX credentials_by_key ON credentials (key_id);

-- +goose Down
DROP TABLE credentials;
DROP TABLE connections;
DROP TABLE connector_versions;
