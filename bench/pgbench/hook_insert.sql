-- The floor of a stored webhook delivery: the statement store.StoreEvent runs (the event row,
-- ON CONFLICT DO NOTHING for repeated delivery ids), with a ~1 KiB body like
-- bench/tools/hookload's. Plugboard also sends NOTIFYs, batched apart from the INSERTs
-- (store/triggers.go, announcer); the floor leaves them out. Variables: org, conn.
\set n random(1, 2000000000)
INSERT INTO events (id, organisation_id, connection_id, trigger_name, delivery_id, received_at, headers, body)
    VALUES (gen_random_uuid()::text, :org, :conn, 'push', 'pgbench-' || :n || '-' || :client_id, now(),
        '[{"name":"Content-Type","value":"application/json"},{"name":"X-Github-Event","value":"pull_request"}]',
        convert_to(repeat('x', 1024), 'UTF8'))
    ON CONFLICT DO NOTHING;
