-- The floor of a stored webhook delivery: the statement store.StoreEvent runs on PostgreSQL
-- (the event row, ON CONFLICT DO NOTHING for repeated delivery ids, and the NOTIFY carrying its
-- id, in one statement), with a ~1 KiB body like bench/tools/hookload's. Variables: org, conn.
\set n random(1, 2000000000)
WITH ins AS (INSERT INTO events (id, organisation_id, connection_id, trigger_name, delivery_id, received_at, headers, body)
    VALUES (gen_random_uuid()::text, :org, :conn, 'push', 'pgbench-' || :n || '-' || :client_id, now(),
        '[{"name":"Content-Type","value":"application/json"},{"name":"X-Github-Event","value":"pull_request"}]',
        convert_to(repeat('x', 1024), 'UTF8'))
    ON CONFLICT DO NOTHING RETURNING id)
SELECT ins.id FROM ins CROSS JOIN LATERAL (SELECT pg_notify('plugboard', '{"topic":"events","op":"INSERT","id":"' || ins.id || '","organisation_id":"' || :org || '"}')) n;
