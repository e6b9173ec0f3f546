-- +goose Up
-- Credentials name their organisation like every other table (see the PostgreSQL migration).
-- SQLite adds a NOT NULL column only with a default; every row is filled here and every
-- insert names it.
ALTER TABLE credentials ADD COLUMN organisation_id TEXT NOT NULL DEFAULT '';
UPDATE credentials SET organisation_id = (SELECT c.organisation_id FROM connections c WHERE c.id = credentials.connection_id);
DROP INDEX credentials_by_connection;
CREATE INDEX credentials_by_connection ON credentials (organisation_id, connection_id, kind, position);

-- +goose Down
DROP INDEX credentials_by_connection;
CREATE INDEX credentials_by_connection ON credentials (connection_id, kind, position);
ALTER TABLE credentials DROP COLUMN organisation_id;
