// Apollo Client 4 as a front end uses it: the walk-through of docs/api.md, Relay pagination in every
// order, automatic persisted queries over POST and GET.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApolloClient, InMemoryCache, HttpLink, gql } from '@apollo/client';
import { CombinedGraphQLErrors } from '@apollo/client/errors';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { url, headers, sha256, unique, countingFetch } from './plugboard.mjs';

function apollo({ persisted, getForHashed, fetchFn } = {}) {
  const http = new HttpLink({ uri: url, headers, fetch: fetchFn });
  const link = persisted ? new PersistedQueryLink({ sha256, useGETForHashedQueries: getForHashed }).concat(http) : http;
  return new ApolloClient({ link, cache: new InMemoryCache() });
}

// graphQLError returns the first GraphQL error of a failed operation.
async function graphQLError(promise) {
  try {
    await promise;
  } catch (err) {
    assert.ok(CombinedGraphQLErrors.is(err), `not a GraphQL error: ${err}`);
    return err.errors[0];
  }
  assert.fail('the operation succeeded');
}

const CREATE = gql`mutation Create($input: CreateConnectorInput!) {
  createConnector(input: $input) { id name revision authSchemeConfigs { id validationMessages } connectionVariables { name value } }
}`;
const UPDATE = gql`mutation Update($id: ID!, $input: UpdateConnectorInput!, $rev: Int) {
  updateConnector(id: $id, input: $input, expectedRevision: $rev) { id revision description baseURL categories connectionVariables { name value } }
}`;

test('walk-through (docs/api.md)', async () => {
  const client = apollo();
  const name = unique('Stripe');
  const { data } = await client.mutate({ mutation: CREATE, variables: { input: {
    name, protocolType: 'HTTP', baseURL: 'https://api.stripe.com', description: 'Payments', categories: ['payments'],
    authSchemeConfigs: [{ id: 'oauth', schemeType: 'OAUTH2', oauth2: { grant: 'PASSWORD' } }],
    connectionVariables: [{ name: 'Region', value: 'eu' }],
  } } });
  const id = data.createConnector.id;
  assert.equal(data.createConnector.revision, 1);

  const updated = await client.mutate({ mutation: UPDATE, variables: { id, input: { name, protocolType: 'HTTP' }, rev: 1 } });
  assert.equal(updated.data.updateConnector.revision, 2);
  assert.equal(updated.data.updateConnector.description, null);
  assert.deepEqual(updated.data.updateConnector.categories, []);
  assert.deepEqual(updated.data.updateConnector.connectionVariables.map((v) => v.value), ['eu']);

  const missing = await graphQLError(client.mutate({ mutation: UPDATE, variables: { id, input: { protocolType: 'HTTP' } } }));
  assert.equal(missing.extensions.code, 'BAD_USER_INPUT');
  assert.equal(missing.extensions.field, 'name');

  const stale = await graphQLError(client.mutate({ mutation: UPDATE, variables: { id, input: { name: 'X', protocolType: 'HTTP' }, rev: 1 } }));
  assert.equal(stale.extensions.code, 'CONFLICT');

  const patched = await client.mutate({
    mutation: gql`mutation Patch($id: ID!, $p: [PropertyInput!], $d: String) { patchConnectorVariables(connectorId: $id, properties: $p, dynamicProperties: $d) { id connectionVariables { name value } } }`,
    variables: { id, p: [{ name: 'Region', value: 'us' }], d: JSON.stringify({ Region: 'ap', Timeout: '60s' }) },
  });
  assert.deepEqual(patched.data.patchConnectorVariables.connectionVariables.map((v) => `${v.name}=${v.value}`), ['Region=ap', 'Timeout=60s']);

  const connection = await client.mutate({
    mutation: gql`mutation Conn($id: ID!) { createConnection(connectorId: $id, input: {name: "Acme production"}) { id variables { name value } } }`,
    variables: { id },
  });
  const conn = connection.data.createConnection.id;
  const cred = await client.mutate({
    mutation: gql`mutation Cred($c: ID!) { setCredential(connectionId: $c, input: {authSchemeConfigId: "oauth", kind: ACTION, values: [{name: "clientId", value: "client-0123456789abcd"}, {name: "clientSecret", value: "s3cr3t"}, {name: "username", value: "bob"}, {name: "password", value: "hunter2"}]}) { id fieldsSet hints { field hint } } }`,
    variables: { c: conn },
  });
  assert.deepEqual(cred.data.setCredential.fieldsSet, ['clientId', 'clientSecret', 'password', 'username']);
  assert.ok(!JSON.stringify(cred.data).includes('hunter2'), 'a secret came back');

  const version = await client.mutate({
    mutation: gql`mutation V($id: ID!) { createVersion(connectorId: $id, input: {name: "1.0.0", actions: [{name: "List customers", method: GET, path: "/v1/customers?limit={{limit}}"}]}) { id } }`,
    variables: { id },
  });
  const published = await client.mutate({
    mutation: gql`mutation P($v: ID!) { publishVersion(id: $v) { id name isLatest isDefault } }`,
    variables: { v: version.data.createVersion.id },
  });
  assert.equal(published.data.publishVersion.isDefault, true);
  const latest = await client.query({
    query: gql`query L($id: ID!) { connector(id: $id) { id version(name: "latest") { id name actions { name method path } } connections { totalCount } } }`,
    variables: { id },
  });
  assert.equal(latest.data.connector.version.name, '1.0.0');
  assert.equal(latest.data.connector.connections.totalCount, 1);

  const reserved = await graphQLError(client.mutate({
    mutation: gql`mutation R($id: ID!) { createVersion(connectorId: $id, input: {name: "Default"}) { id } }`, variables: { id },
  }));
  assert.equal(reserved.extensions.code, 'BAD_USER_INPUT');
  assert.equal(reserved.extensions.field, 'name');
});

const PAGE = gql`query Page($first: Int, $after: String, $filter: ConnectorFilter, $order: ConnectorOrder) {
  connectors(first: $first, after: $after, filter: $filter, orderBy: $order) { totalCount edges { cursor node { id name } } pageInfo { hasNextPage endCursor } }
}`;

test('Relay pagination in every order', async () => {
  const client = apollo();
  const prefix = unique('Paged');
  for (const n of ['Émile', 'eagle', 'Zulu', 'apple', 'Bravo', 'banana', 'Ölfeld']) {
    await client.mutate({ mutation: CREATE, variables: { input: { name: `${prefix} ${n}`, protocolType: 'HTTP' } } });
  }
  const filter = { nameContains: prefix };
  for (const order of ['NAME_ASC', 'NAME_DESC', 'UPDATED_AT_DESC', 'CREATED_AT_ASC']) {
    const all = await client.query({ query: PAGE, variables: { first: 50, filter, order }, fetchPolicy: 'no-cache' });
    assert.equal(all.data.connectors.totalCount, 7);
    const names = [];
    let after = null;
    for (;;) {
      const page = await client.query({ query: PAGE, variables: { first: 3, after, filter, order }, fetchPolicy: 'no-cache' });
      names.push(...page.data.connectors.edges.map((e) => e.node.name));
      if (!page.data.connectors.pageInfo.hasNextPage) break;
      after = page.data.connectors.pageInfo.endCursor;
    }
    assert.deepEqual(names, all.data.connectors.edges.map((e) => e.node.name), order);
  }
  const asc = await client.query({ query: PAGE, variables: { first: 50, filter, order: 'NAME_ASC' }, fetchPolicy: 'no-cache' });
  assert.deepEqual(asc.data.connectors.edges.map((e) => e.node.name.slice(prefix.length + 1)),
    ['apple', 'banana', 'Bravo', 'eagle', 'Émile', 'Ölfeld', 'Zulu'], 'names sort as people expect');
});

for (const getForHashed of [false, true]) {
  test(`automatic persisted queries (${getForHashed ? 'GET' : 'POST'})`, async () => {
    const { requests, fetchFn } = countingFetch();
    const client = apollo({ persisted: true, getForHashed, fetchFn });
    const query = gql`query Viewer${getForHashed ? 'Get' : 'Post'} { viewer { scopes } }`;
    const first = await client.query({ query, fetchPolicy: 'network-only' });
    assert.ok(first.data.viewer.scopes.length > 0);
    assert.equal(requests.length, 2, 'the hash alone, then the hash and the query');
    assert.match(requests[0].body, /PersistedQueryNotFound/);
    assert.equal(requests[0].method, getForHashed ? 'GET' : 'POST');
    await client.query({ query, fetchPolicy: 'network-only' });
    assert.equal(requests.length, 3, 'the hash alone is enough the second time');
    assert.doesNotMatch(requests[2].body, /errors/);
    assert.equal(requests[2].method, getForHashed ? 'GET' : 'POST');
  });
}

test('the normalised cache keeps two connectors\' configs with the same key apart', async () => {
  const client = apollo();
  const CONFIGS = gql`query Configs($id: ID!) { connector(id: $id) { id name authSchemeConfigs { id key description schemeType oauth2 { grant tokenURL } } } }`;
  const ids = [];
  for (const [suffix, grant, tokenURL] of [['A', 'CLIENT_CREDENTIALS', 'https://a.example.com/token'], ['B', 'PASSWORD', 'https://b.example.com/token']]) {
    const { data } = await client.mutate({ mutation: CREATE, variables: { input: {
      name: unique(`Shared key ${suffix}`), protocolType: 'HTTP',
      authSchemeConfigs: [{ id: 'oauth', description: `config of ${suffix}`, schemeType: 'OAUTH2', oauth2: { grant, tokenURL } }],
    } } });
    ids.push(data.createConnector.id);
  }
  const first = await client.query({ query: CONFIGS, variables: { id: ids[0] } });
  await client.query({ query: CONFIGS, variables: { id: ids[1] } });
  const again = await client.query({ query: CONFIGS, variables: { id: ids[0] }, fetchPolicy: 'cache-only' });
  const config = again.data.connector.authSchemeConfigs[0];
  assert.equal(config.key, 'oauth');
  assert.equal(config.description, 'config of A');
  assert.equal(config.oauth2.grant, 'CLIENT_CREDENTIALS');
  assert.equal(config.oauth2.tokenURL, 'https://a.example.com/token');
  assert.deepEqual(again.data, first.data);
  const other = client.readQuery({ query: CONFIGS, variables: { id: ids[1] } });
  assert.notEqual(other.connector.authSchemeConfigs[0].id, config.id, 'the two configs share a cache entry');

  // The global id names the config anywhere, through node.
  const node = await client.query({ query: gql`query N($id: ID!) { node(id: $id) { id ... on AuthSchemeConfig { key description } } }`, variables: { id: config.id } });
  assert.equal(node.data.node.description, 'config of A');
});

test('backward pages in every order are the forward pages reversed', async () => {
  const client = apollo();
  const prefix = unique('Backward');
  for (const n of ['delta', 'Alpha', 'charlie', 'Bravo', 'echo']) {
    await client.mutate({ mutation: CREATE, variables: { input: { name: `${prefix} ${n}`, protocolType: 'HTTP' } } });
  }
  const BACK = gql`query Back($last: Int, $before: String, $filter: ConnectorFilter, $order: ConnectorOrder) {
    connectors(last: $last, before: $before, filter: $filter, orderBy: $order) { edges { node { id name } } pageInfo { hasPreviousPage startCursor } }
  }`;
  const filter = { nameContains: prefix };
  for (const order of ['NAME_ASC', 'NAME_DESC', 'UPDATED_AT_DESC', 'CREATED_AT_ASC']) {
    const all = await client.query({ query: PAGE, variables: { first: 50, filter, order }, fetchPolicy: 'no-cache' });
    const names = [];
    let before = null;
    for (;;) {
      const page = await client.query({ query: BACK, variables: { last: 2, before, filter, order }, fetchPolicy: 'no-cache' });
      names.unshift(...page.data.connectors.edges.map((e) => e.node.name));
      if (!page.data.connectors.pageInfo.hasPreviousPage) break;
      before = page.data.connectors.pageInfo.startCursor;
    }
    assert.deepEqual(names, all.data.connectors.edges.map((e) => e.node.name), order);
  }
});

test('importOpenAPI from Apollo Client: a YAML description into a draft, a bad one is BAD_USER_INPUT on document', async () => {
  const client = apollo();
  const { data } = await client.mutate({ mutation: CREATE, variables: { input: { name: unique('Imported'), protocolType: 'HTTP' } } });
  const IMPORT = gql`mutation Import($c: ID!, $input: ImportInput!) {
    importOpenAPI(connectorId: $c, input: $input) { warnings version { id name isPublished actions(first: 10) { name method path } } }
  }`;
  const document = [
    'openapi: 3.1.0',
    'info: {title: Todo, version: "1"}',
    'servers: [{url: "https://todo.example.com"}]',
    'paths:',
    '  /todos/{id}:',
    '    get: {operationId: getTodo, parameters: [{name: expand, in: query, schema: {type: string}}]}',
    '    options: {operationId: optionsTodo}',
  ].join('\n');
  const imported = await client.mutate({ mutation: IMPORT, variables: { c: data.createConnector.id, input: { document, versionName: '1.0' } } });
  const version = imported.data.importOpenAPI.version;
  assert.equal(version.isPublished, false);
  assert.deepEqual(version.actions.map((a) => [a.name, a.method, a.path]), [['getTodo', 'GET', '/todos/{{id}}?expand={{expand?}}']]);
  assert.ok(imported.data.importOpenAPI.warnings.some((w) => w.includes('OPTIONS')));

  const bad = await graphQLError(client.mutate({ mutation: IMPORT, variables: { c: data.createConnector.id, input: { document: 'openapi: 3.0.0\npaths: [', versionName: '1.1' } } }));
  assert.equal(bad.extensions.code, 'BAD_USER_INPUT');
  assert.equal(bad.extensions.field, 'document');
});
