-- +goose Up
-- Idempotency-Key rows; see the PostgreSQL migration of the same number.
CREATE TABLE idempotency_keys (
    id              TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL,
    caller          TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('running', 'applied', 'done')),
    answer          BLOB,
    answer_key_id   TEXT,
    created_at      DATETIME NOT NULL,
    expires_us      INTEGER NOT NULL,
    CONSTRAINT idempotency_keys_key UNIQUE (organisation_id, caller, idempotency_key)
);
CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (expires_us);

-- +goose Down
DROP TABLE idempotency_keys;
