-- +goose Up
-- Nothing: one server owns an SQLite file, so the inbound limit needs no heartbeats there
-- (store/heartbeat.go counts one server). The number is kept in step with PostgreSQL's.
SELECT 1;

-- +goose Down
SELECT 1;
