-- Seed for the benchmark, in Plugboard's own schema (run after `plugboard migrate`), with the
-- volumes of the shared harness: 10 organisations x 1,000 connectors; each connector has 5
-- versions (published; 5 is latest, 4 is default) and 4 connections with 3 variables each.
--   organisations 10, connectors 10,000, connector_versions 50,000, connections 40,000.
-- Ids are deterministic so query files can name rows:
--   organisation o (1..10):   md5('org:'||o)::uuid
--   connector k (1..10000):   md5('connector:'||k)::uuid   (k = (o-1)*1000 + c)
--   version v of k (1..5):    md5('version:'||k||':'||v)::uuid
--   connection n of k (1..4): md5('connection:'||k||':'||n)::uuid
-- Variables are JSON arrays on their connection (Plugboard's model); the values match the
-- shared harness's connection_variables rows.
\set ON_ERROR_STOP on
begin;
truncate organisations, connectors, connector_versions, connections, credentials, api_keys, audit_events cascade;

insert into organisations (id, name, name_key, created_at, updated_at)
select md5('org:' || o)::uuid::text, 'Organisation ' || o, 'organisation ' || o, now(), now()
from generate_series(1, 10) o;

insert into connectors (id, organisation_id, name, name_key, protocol_type, base_url, documentation_url, icon_url,
                        categories, auth_scheme_configs, connection_variables, revision, created_at, updated_at)
select md5('connector:' || k)::uuid::text,
       md5('org:' || o)::uuid::text,
       'Connector-' || lpad(c::text, 4, '0'),
       'connector-' || lpad(c::text, 4, '0'),
       (array['HTTP','BIGQUERY'])[1 + k % 2],
       'https://api' || k || '.example.com/v1',
       'https://docs.example.com/connectors/' || k,
       'https://cdn.example.com/icons/' || k || '.png',
       '[]', '[]',
       '[{"name":"API_KEY","value":""},{"name":"TIMEOUT_MS","value":"30000"},{"name":"REGION","value":"eu-west-1"}]',
       1,
       timestamptz '2024-01-01' + k * interval '1 minute',
       timestamptz '2024-06-01' + k * interval '1 minute'
from generate_series(1, 10) o,
     generate_series(1, 1000) c,
     lateral (select (o - 1) * 1000 + c as k) kk;

insert into connector_versions (id, connector_id, organisation_id, name, name_key, description, actions,
                                is_latest, is_default, created_at, updated_at, published_at)
select md5('version:' || k || ':' || v)::uuid::text,
       md5('connector:' || k)::uuid::text,
       md5('org:' || (1 + (k - 1) / 1000))::uuid::text,
       v || '.0.0', v || '.0.0',
       'Release ' || v || '.0.0 of connector ' || k,
       '[]',
       v = 5, v = 4,
       timestamptz '2024-01-01' + k * interval '1 minute' + v * interval '1 day',
       timestamptz '2024-01-01' + k * interval '1 minute' + v * interval '1 day',
       timestamptz '2024-01-01' + k * interval '1 minute' + v * interval '1 day'
from generate_series(1, 10000) k, generate_series(1, 5) v;

insert into connections (id, connector_id, organisation_id, name, name_key, variables, revision, created_at, updated_at)
select md5('connection:' || k || ':' || n)::uuid::text,
       md5('connector:' || k)::uuid::text,
       md5('org:' || (1 + (k - 1) / 1000))::uuid::text,
       (array['production','staging','development','sandbox'])[n],
       (array['production','staging','development','sandbox'])[n],
       json_build_array(
         json_build_object('name', 'API_KEY', 'value', 'key-' || k || '-' || n),
         json_build_object('name', 'TIMEOUT_MS', 'value', '30000'),
         json_build_object('name', 'REGION', 'value', 'eu-west-1'))::jsonb,
       1,
       timestamptz '2024-02-01' + k * interval '1 minute' + n * interval '1 second',
       timestamptz '2024-02-01' + k * interval '1 minute' + n * interval '1 second'
from generate_series(1, 10000) k, generate_series(1, 4) n;
commit;
analyze;
