-- +goose Up
CREATE TABLE connector_versions (
    id              text PRIMARY KEY,
    connector_id    text NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    organisation_id text NOT NULL,
    name            text NOT NULL,
    name_key        text NOT NULL,
    description     text,
    actions         jsonb NOT NULL DEFAULT '[]',
    is_latest       boolean NOT NULL DEFAULT false,
    is_default      boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    published_at    timestamptz,
    CONSTRAINT connector_versions_name_key UNIQUE (connector_id, name_key),
    CONSTRAINT connector_versions_aliases_published CHECK ((NOT is_latest AND NOT is_default) OR published_at IS NOT NULL)
);
-- At most one latest and one default version per connector.
CREATE UNIQUE INDEX connector_versions_one_latest ON connector_versions (connector_id) WHERE is_latest;
CREATE UNIQUE INDEX connector_versions_one_default ON connector_versions (connector_id) WHERE is_default;
CREATE INDEX connector_versions_by_created ON connector_versions (connector_id, created_at DESC, id DESC);

CREATE TABLE connections (
    id                text PRIMARY KEY,
    connector_id      text NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    organisation_id   text NOT NULL,
    name              text NOT NULL,
    name_key          text NOT NULL,
    variables         jsonb NOT NULL DEFAULT '[]',
    -- A pinned version cannot be deleted while pinned (NO ACTION, so that deleting the
    -- connector, which removes both, still works).
    pinned_version_id text REFERENCES connector_versions (id),
    revision          integer NOT NULL DEFAULT 1,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    CONSTRAINT connections_name_key UNIQUE (connector_id, name_key)
);
CREATE INDEX connections_by_connector ON connections (connector_id, created_at, id);
CREATE INDEX connections_by_pinned_version ON connections (pinned_version_id) WHERE pinned_version_id IS NOT NULL;

CREATE TABLE credentials (
    id                    text PRIMARY KEY,
    connection_id         text NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    auth_scheme_config_id text NOT NULL,
    kind                  text NOT NULL CHECK (kind IN ('ACTION', 'TRIGGER')),
    position              integer NOT NULL,
    fields_set            jsonb NOT NULL DEFAULT '[]',
    hints                 jsonb NOT NULL DEFAULT '[]',
    -- The secret values, AES-256-GCM sealed by the key named in key_id, bound to the row id.
    key_id                text NOT NULL,
    ciphertext            bytea NOT NULL,
    expires_at            timestamptz,
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL,
    CONSTRAINT credentials_one_per_config UNIQUE (connection_id, kind, auth_scheme_config_id)
);
CREATE INDEX credentials_by_connection ON credentials (connection_id, kind, position);
CREATE INDEX credentials_by_key ON credentials (key_id);

-- +goose Down
DROP TABLE credentials;
DROP TABLE connections;
DROP TABLE connector_versions;
