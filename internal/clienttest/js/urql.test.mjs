// urql 6 with its persisted-query exchange, as a front end sets it up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, cacheExchange, fetchExchange, gql } from '@urql/core';
import { persistedExchange } from '@urql/exchange-persisted';
import { url, headers, sha256, unique, countingFetch } from './plugboard.mjs';

function urql({ persisted, fetchFn } = {}) {
  const exchanges = persisted
    ? [cacheExchange, persistedExchange({ generateHash: async (q) => sha256(q), preferGetForPersistedQueries: true }), fetchExchange]
    : [cacheExchange, fetchExchange];
  return new Client({ url, exchanges, fetchOptions: { headers }, fetch: fetchFn, requestPolicy: 'network-only' });
}

test('urql: mutations, bad input and a list', async () => {
  const client = urql();
  const name = unique('Urql');
  const created = await client.mutation(gql`mutation($input: CreateConnectorInput!) { createConnector(input: $input) { id name } }`,
    { input: { name, protocolType: 'HTTP' } }).toPromise();
  assert.equal(created.error, undefined);
  const dup = await client.mutation(gql`mutation($input: CreateConnectorInput!) { createConnector(input: $input) { id } }`,
    { input: { name: name.toUpperCase(), protocolType: 'HTTP' } }).toPromise();
  assert.equal(dup.error.graphQLErrors[0].extensions.code, 'BAD_USER_INPUT');
  assert.equal(dup.error.graphQLErrors[0].extensions.field, 'name');
  const list = await client.query(gql`query($f: ConnectorFilter) { connectors(first: 5, filter: $f) { totalCount edges { node { id name } } } }`,
    { f: { nameContains: name } }).toPromise();
  assert.equal(list.data.connectors.totalCount, 1);
});

test('urql: persisted queries', async () => {
  const { requests, fetchFn } = countingFetch();
  const client = urql({ persisted: true, fetchFn });
  const query = gql`query UrqlViewer { viewer { scopes } }`;
  const first = await client.query(query, {}).toPromise();
  assert.equal(first.error, undefined, String(first.error));
  assert.equal(requests.length, 2);
  assert.match(requests[0].body, /PersistedQueryNotFound/);
  const second = await client.query(query, {}).toPromise();
  assert.equal(second.error, undefined);
  assert.equal(requests.length, 3);
  assert.equal(requests[2].method, 'GET');
});
