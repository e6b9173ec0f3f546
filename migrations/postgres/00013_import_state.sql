-- +goose Up
-- What the last import wrote into a draft, per operation (JSON: import key → action as
-- imported): a re-import tells hand edits made since from its own earlier values. NULL for
-- versions no import wrote.
ALTER TABLE connector_versions ADD COLUMN import_state TEXT;

-- +goose Down
ALTER TABLE connector_versions DROP COLUMN import_state;
