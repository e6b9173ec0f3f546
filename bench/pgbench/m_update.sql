-- Floor for m_update: the two statements of Plugboard's updateConnector on PostgreSQL, captured
-- with log_min_duration_statement=0: read the stored row (no lock), then write the new one only
-- if its revision is still the one read, inserting the audit event with the changed fields
-- that Go computed from the two (domain.ChangedFields). Run by bench/tools/pgxfloor, one
-- statement after the other on the connection, as Plugboard sends them (no transaction).
-- Differences from the captured parameters: the bench's update repeats the stored name and
-- base URL, so after a connector's first update nothing but revision and updated_at changes
-- and the audit event names no field (as here); the audit event's id (a UUIDv7 made in Go) is
-- gen_random_uuid().
\set k random(1, 10000)
SELECT connectors.id, connectors.organisation_id, connectors.name, connectors.sort_key, connectors.description, connectors.protocol_type, connectors.documentation_url, connectors.icon_url, connectors.base_url, connectors.categories, connectors.auth_scheme_configs, connectors.connection_variables, connectors.revision, connectors.created_at, connectors.updated_at
  FROM connectors WHERE id = md5('connector:' || :k)::uuid::text AND organisation_id = md5('org:' || (1 + (:k - 1) / 1000))::uuid::text;
\gset
WITH changed AS (UPDATE connectors SET revision = :revision::bigint + 1, updated_at = now()
  WHERE id = :id AND organisation_id = :organisation_id AND revision = :revision::bigint RETURNING id)
INSERT INTO audit_events (id, organisation_id, actor, action, resource_type, resource_id, changed_fields, created_at)
  SELECT gen_random_uuid()::text, :organisation_id, 'pgbench', 'connector.update', 'connector', id, '[]', now() FROM changed;
