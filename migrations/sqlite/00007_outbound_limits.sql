-- +goose Up
-- A version's outbound policy (retries, rate budget) as JSON; NULL when it sets neither.
-- Rate budgets live in the process on SQLite: one server owns the file.
ALTER TABLE connector_versions ADD COLUMN outbound_policy TEXT;

-- +goose Down
ALTER TABLE connector_versions DROP COLUMN outbound_policy;
