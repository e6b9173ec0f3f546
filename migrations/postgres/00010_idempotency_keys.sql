-- +goose Up
-- Idempotency-Key: one row per (organisation, caller, key) of a mutation sent with the
-- header (internal/store/idempotency.go). state is running while the first request executes,
-- applied once the mutation's own transaction has committed (written in that transaction),
-- done once its answer is stored. A row past expires_us is ignored and purged: a running
-- claim expires after the request timeout, an answer 24 hours after it was stored.
-- answer is the JSON response; answer_key_id is set when it is sealed with the secrets
-- keyring (answers holding a shown-once secret), bound to the row id.
-- organisation_id has no foreign key: a platform administrator's JWT names no organisation,
-- and rows outlive nothing by more than 24 hours.
CREATE TABLE idempotency_keys (
    id              text PRIMARY KEY,
    organisation_id text NOT NULL,
    caller          text NOT NULL,
    idempotency_key text NOT NULL,
    request_hash    text NOT NULL,
    state           text NOT NULL CHECK (state IN ('running', 'applied', 'done')),
    answer          bytea,
    answer_key_id   text,
    created_at      timestamptz NOT NULL,
    expires_us      bigint NOT NULL,
    CONSTRAINT idempotency_keys_key UNIQUE (organisation_id, caller, idempotency_key)
);
CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (expires_us);

-- +goose Down
DROP TABLE idempotency_keys;
