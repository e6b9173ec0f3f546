-- +goose Up
-- Credentials name their organisation like every other table, so that a credential is found
-- by (organisation, id) without going through its connection, and the tables can be
-- distributed by organisation (README, "Several replicas").
ALTER TABLE credentials ADD COLUMN organisation_id text;
UPDATE credentials SET organisation_id = c.organisation_id FROM connections c WHERE c.id = credentials.connection_id;
ALTER TABLE credentials ALTER COLUMN organisation_id SET NOT NULL;
DROP INDEX credentials_by_connection;
CREATE INDEX credentials_by_connection ON credentials (organisation_id, connection_id, kind, position);

-- +goose Down
DROP INDEX credentials_by_connection;
CREATE INDEX credentials_by_connection ON credentials (connection_id, kind, position);
ALTER TABLE credentials DROP COLUMN organisation_id;
