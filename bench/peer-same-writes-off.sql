-- Undoes bench/peer-same-writes.sql, but keeps its sequence: audit ids already written stay unique.
DROP TRIGGER IF EXISTS bench_touch ON connectors;
DROP TRIGGER IF EXISTS bench_audit ON connectors;
DROP FUNCTION IF EXISTS bench_touch();
DROP FUNCTION IF EXISTS bench_audit();
