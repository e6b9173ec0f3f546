-- +goose Up
-- A version's outbound policy (retries, rate budget) as JSON; NULL when it sets neither.
ALTER TABLE connector_versions ADD COLUMN outbound_policy jsonb;

-- One GCRA budget per connection, shared by every server: admitting a call is one atomic
-- INSERT … ON CONFLICT DO UPDATE … RETURNING of this row (store/budget.go). Times are
-- microseconds since the Unix epoch, so that the arithmetic stays in integers.
CREATE TABLE connection_budgets (
    connection_id    text PRIMARY KEY REFERENCES connections (id) ON DELETE CASCADE,
    organisation_id  text NOT NULL,
    -- GCRA's theoretical arrival time of the next request.
    tat_us           bigint NOT NULL,
    -- An upstream's Retry-After closes the budget until then.
    blocked_until_us bigint NOT NULL DEFAULT 0,
    -- Expiry times of the concurrency slots held; a slot whose call never ended frees itself.
    leases           bigint[] NOT NULL DEFAULT '{}',
    -- Whether the last acquisition was admitted (what RETURNING reports).
    admitted         boolean NOT NULL DEFAULT true
);

-- +goose Down
DROP TABLE connection_budgets;
ALTER TABLE connector_versions DROP COLUMN outbound_policy;
