// The GraphQL-over-HTTP specification's audit (graphql-http's auditServer): every item ok,
// warnings and notices included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auditServer } from 'graphql-http';
import { url, key } from './plugboard.mjs';

test('GraphQL over HTTP audit', async () => {
  const results = await auditServer({
    url,
    fetchFn: (input, init = {}) => {
      const h = new Headers(init.headers);
      h.set('Authorization', `Bearer ${key}`);
      return fetch(input, { ...init, headers: h });
    },
  });
  const notOK = results.filter((r) => r.status !== 'ok').map((r) => `${r.status} ${r.id} ${r.name}: ${r.reason}`);
  assert.deepEqual(notOK, []);
  assert.ok(results.length >= 60, `only ${results.length} audit items ran`);
});
