-- +goose Up
-- One row per running server, rewritten about once a second by its heartbeat
-- (store/heartbeat.go). Counting the rows seen in the last few seconds tells each server how
-- many share the inbound per-key limit, so that limit is cluster-wide without a database write
-- per request. The table describes servers, not tenants, so it has no organisation_id.
-- seen_at is the database's clock, so that servers with skewed clocks still agree.
CREATE TABLE server_heartbeats (
    server_id text PRIMARY KEY,
    seen_at   timestamptz NOT NULL
);

-- +goose Down
DROP TABLE server_heartbeats;
