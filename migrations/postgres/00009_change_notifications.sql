-- +goose Up
-- The database announces changes on the cross-server bus (internal/notify): whichever server,
-- command or SQL session changes a key or an organisation, every server hears of it when the
-- transaction commits (NOTIFY is transactional) and drops what it cached. The payload is JSON:
-- topic (the table), op, id and organisation_id, whose column TG_ARGV[0] names.
-- +goose StatementBegin
CREATE FUNCTION plugboard_notify_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    changed jsonb := to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);
BEGIN
    PERFORM pg_notify('plugboard', json_build_object(
        'topic', TG_TABLE_NAME,
        'op', TG_OP,
        'id', changed ->> 'id',
        'organisation_id', changed ->> TG_ARGV[0])::text);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- last_used_at is written about once a minute per key in use and changes nothing a cache
-- holds: announcing it would make every server read the key again each minute.
CREATE TRIGGER api_keys_notify_update AFTER UPDATE ON api_keys FOR EACH ROW
    WHEN ((to_jsonb(OLD) - 'last_used_at') IS DISTINCT FROM (to_jsonb(NEW) - 'last_used_at'))
    EXECUTE FUNCTION plugboard_notify_change('organisation_id');
-- Separate from the update trigger: a WHEN clause cannot mention NEW for a DELETE.
CREATE TRIGGER api_keys_notify_delete AFTER DELETE ON api_keys FOR EACH ROW
    EXECUTE FUNCTION plugboard_notify_change('organisation_id');
CREATE TRIGGER organisations_notify AFTER UPDATE OR DELETE ON organisations FOR EACH ROW
    EXECUTE FUNCTION plugboard_notify_change('id');

-- +goose Down
DROP TRIGGER organisations_notify ON organisations;
DROP TRIGGER api_keys_notify_delete ON api_keys;
DROP TRIGGER api_keys_notify_update ON api_keys;
DROP FUNCTION plugboard_notify_change();
