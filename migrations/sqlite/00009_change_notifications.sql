-- +goose Up
-- Nothing: one server owns an SQLite file, so its bus is in process and the store publishes
-- changes itself (internal/notify). The number is kept in step with PostgreSQL's.
SELECT 1;

-- +goose Down
SELECT 1;
