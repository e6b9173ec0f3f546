-- +goose Up
-- Connecting a customer's account; see the PostgreSQL migration of the same number.
ALTER TABLE connections ADD COLUMN status TEXT NOT NULL DEFAULT 'PENDING'
    CHECK (status IN ('PENDING', 'OK', 'NEEDS_REAUTH', 'ERROR'));
ALTER TABLE connections ADD COLUMN status_message TEXT;
ALTER TABLE connections ADD COLUMN last_checked_at DATETIME;
CREATE INDEX connections_by_status ON connections (connector_id, status, created_at, id);

CREATE TABLE oauth_flows (
    id                     TEXT PRIMARY KEY,
    organisation_id        TEXT NOT NULL,
    state_hash             TEXT NOT NULL,
    connection_id          TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    auth_scheme_config_key TEXT NOT NULL,
    actor                  TEXT NOT NULL,
    secret_key_id          TEXT NOT NULL,
    secret                 BLOB NOT NULL,
    created_at             DATETIME NOT NULL,
    expires_at             DATETIME NOT NULL,
    used_at                DATETIME,
    CONSTRAINT oauth_flows_state UNIQUE (state_hash)
);
CREATE INDEX oauth_flows_by_expiry ON oauth_flows (expires_at);

CREATE TABLE connect_sessions (
    id              TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL,
    token_hash      TEXT NOT NULL,
    connection_id   TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    redirect_url    TEXT,
    actor           TEXT NOT NULL,
    created_at      DATETIME NOT NULL,
    expires_at      DATETIME NOT NULL,
    CONSTRAINT connect_sessions_token UNIQUE (token_hash)
);
CREATE INDEX connect_sessions_by_expiry ON connect_sessions (expires_at);

-- +goose Down
DROP TABLE connect_sessions;
DROP TABLE oauth_flows;
DROP INDEX connections_by_status;
ALTER TABLE connections DROP COLUMN last_checked_at;
ALTER TABLE connections DROP COLUMN status_message;
ALTER TABLE connections DROP COLUMN status;
