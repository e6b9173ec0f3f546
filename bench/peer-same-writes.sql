-- What a team serving this schema with PostGraphile would add to make a connector update do
-- what Plugboard's does: move updated_at and revision, and write an audit event naming the
-- changed fields in the same transaction. bench/run.sh installs it only around an extra
-- PostGraphile m_update measurement ("postgraphile+writes") and drops it afterwards; the main
-- ratio is always against PostGraphile without it. Audit ids come from a sequence, which costs
-- PostgreSQL less than Plugboard's UUIDv7 text ids and, like them, appends to the index.
CREATE SEQUENCE IF NOT EXISTS bench_audit_ids;

CREATE OR REPLACE FUNCTION bench_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  NEW.revision := OLD.revision + 1;
  RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION bench_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO audit_events (id, organisation_id, actor, action, resource_type, resource_id, changed_fields, created_at)
  VALUES ('pgl-' || nextval('bench_audit_ids'), NEW.organisation_id, 'postgraphile', 'connector.update', 'Connector', NEW.id,
    to_jsonb(array_remove(ARRAY[
      CASE WHEN NEW.name IS DISTINCT FROM OLD.name THEN 'name' END,
      CASE WHEN NEW.description IS DISTINCT FROM OLD.description THEN 'description' END,
      CASE WHEN NEW.protocol_type IS DISTINCT FROM OLD.protocol_type THEN 'protocolType' END,
      CASE WHEN NEW.documentation_url IS DISTINCT FROM OLD.documentation_url THEN 'documentationURL' END,
      CASE WHEN NEW.icon_url IS DISTINCT FROM OLD.icon_url THEN 'iconURL' END,
      CASE WHEN NEW.base_url IS DISTINCT FROM OLD.base_url THEN 'baseURL' END,
      CASE WHEN NEW.categories IS DISTINCT FROM OLD.categories THEN 'categories' END], NULL)),
    now());
  RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS bench_touch ON connectors;
DROP TRIGGER IF EXISTS bench_audit ON connectors;
CREATE TRIGGER bench_touch BEFORE UPDATE ON connectors FOR EACH ROW EXECUTE FUNCTION bench_touch();
CREATE TRIGGER bench_audit AFTER UPDATE ON connectors FOR EACH ROW EXECUTE FUNCTION bench_audit();
