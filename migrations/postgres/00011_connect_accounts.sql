-- +goose Up
-- Connecting a customer's account (issue 19). A connection's health sits beside it, outside
-- its revision and updated_at: PENDING until a connect or a call proves its credentials.
ALTER TABLE connections ADD COLUMN status text NOT NULL DEFAULT 'PENDING'
    CHECK (status IN ('PENDING', 'OK', 'NEEDS_REAUTH', 'ERROR'));
ALTER TABLE connections ADD COLUMN status_message text;
ALTER TABLE connections ADD COLUMN last_checked_at timestamptz;
CREATE INDEX connections_by_status ON connections (connector_id, status, created_at, id);

-- An OAuth2 authorization-code flow between startOAuthConnect and /oauth/callback. The row is
-- found by the SHA-256 of its state (the state itself is never stored); secret holds the PKCE
-- verifier and the URL to return to, sealed with the credentials' keyring and bound to the
-- row id. used_at makes the state single-use; rows are purged a day after they expire.
CREATE TABLE oauth_flows (
    id                     text PRIMARY KEY,
    organisation_id        text NOT NULL,
    state_hash             text NOT NULL,
    connection_id          text NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    auth_scheme_config_key text NOT NULL,
    actor                  text NOT NULL,
    secret_key_id          text NOT NULL,
    secret                 bytea NOT NULL,
    created_at             timestamptz NOT NULL,
    expires_at             timestamptz NOT NULL,
    used_at                timestamptz,
    CONSTRAINT oauth_flows_state UNIQUE (state_hash)
);
CREATE INDEX oauth_flows_by_expiry ON oauth_flows (expires_at);

-- A hosted connect page's session: the SHA-256 of its URL's token, one connection, 30 minutes.
CREATE TABLE connect_sessions (
    id              text PRIMARY KEY,
    organisation_id text NOT NULL,
    token_hash      text NOT NULL,
    connection_id   text NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    redirect_url    text,
    actor           text NOT NULL,
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
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
