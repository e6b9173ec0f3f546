-- +goose Up
-- The unique constraint on (organisation_id, name_key) already orders an organisation's
-- connectors by name, and name_key is unique there, so the extra index only cost every
-- connector write an index entry.
DROP INDEX connectors_by_name;

-- +goose Down
CREATE INDEX connectors_by_name ON connectors (organisation_id, name_key, id);
