// Triggers as their users meet them: deliveries signed by the providers' own libraries
// (@octokit/webhooks-methods for GitHub, standardwebhooks for Standard Webhooks), checked first
// against the vectors the providers document, and a graphql-ws client (the library Apollo and
// urql use for subscriptions) receiving the events, on another server than the one the
// webhooks reached. Run by hooks_test.go: `node --test webhooks.mjs`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { Webhook } from 'standardwebhooks';
import { sign, verify } from '@octokit/webhooks-methods';

const url = process.env.PLUGBOARD_URL;
const urlB = process.env.PLUGBOARD_URL_B;
const key = process.env.PLUGBOARD_KEY;
if (!url || !urlB || !key) throw new Error('run through hooks_test.go');

const GITHUB_SECRET = "It's a Secret to Everybody";
const SW_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

async function graphql(query, variables) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data;
}

test('the providers\' libraries agree with their documented vectors', async () => {
  // docs.github.com, "Validating webhook deliveries".
  assert.equal(await sign(GITHUB_SECRET, 'Hello, World!'), 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17');
  assert.ok(await verify(GITHUB_SECRET, 'Hello, World!', 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17'));
  // The Standard Webhooks libraries' shared vector.
  const wh = new Webhook(SW_SECRET);
  assert.equal(wh.sign('msg_p5jXN8AQM9LWM0D4loKWxJek', new Date(1614265330 * 1000), '{"test": 2432232314}'),
    'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
});

async function setUp() {
  const name = `Hooks ${Math.random().toString(16).slice(2)}`;
  const { createConnector: { id: connector } } = await graphql(
    'mutation($in: CreateConnectorInput!) { createConnector(input: $in) { id } }', { in: { name, protocolType: 'HTTP' } });
  for (const [id, preset] of [['gh', 'GITHUB'], ['sw', 'STANDARD_WEBHOOKS']]) {
    await graphql('mutation($c: ID!, $in: AuthSchemeConfigInput!) { createAuthSchemeConfig(connectorId: $c, input: $in) { id } }',
      { c: connector, in: { id, schemeType: 'HMAC', hmac: { preset } } });
  }
  const { createVersion: { id: version } } = await graphql(
    'mutation($c: ID!, $in: CreateVersionInput!) { createVersion(connectorId: $c, input: $in) { id } }',
    { c: connector, in: { name: '1', triggers: [{ name: 'push', authSchemeConfigId: 'gh' }, { name: 'invoice', authSchemeConfigId: 'sw' }] } });
  await graphql('mutation($v: ID!) { publishVersion(id: $v) { id } }', { v: version });
  const { createConnection: { id: connection } } = await graphql(
    'mutation($c: ID!) { createConnection(connectorId: $c, input: { name: "main" }) { id } }', { c: connector });
  for (const [config, secret] of [['gh', GITHUB_SECRET], ['sw', SW_SECRET]]) {
    await graphql('mutation($conn: ID!, $in: CredentialInput!) { setCredential(connectionId: $conn, input: $in) { id } }',
      { conn: connection, in: { authSchemeConfigId: config, kind: 'TRIGGER', values: [{ name: 'secret', value: secret }] } });
  }
  const hook = async (trigger) => (await graphql('query($id: ID!, $t: String!) { connection(id: $id) { webhookURL(trigger: $t) } }',
    { id: connection, t: trigger })).connection.webhookURL;
  return { connection, github: await hook('push'), sw: await hook('invoice') };
}

const deliver = (hookURL, body, headers) => fetch(hookURL, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body });

test('a graphql-ws subscriber on one server receives what the providers deliver to another', async () => {
  const { connection, github, sw } = await setUp();
  const client = createClient({
    url: urlB.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${key}` },
    retryAttempts: 0,
  });
  const events = client.iterate({
    query: 'subscription($c: ID!) { connectionEvents(connectionId: $c) { trigger deliveryId body headers { name value } } }',
    variables: { c: connection },
  });
  try {
    // A delivery made before the subscription is registered is stored but not streamed, and
    // graphql-ws says nothing when a subscription starts: deliver until one arrives.
    let n = 0;
    const sendGitHub = async () => {
      const body = JSON.stringify({ zen: 'Keep it logically awesome.', n: n++ });
      const res = await deliver(github, body, { 'X-Hub-Signature-256': await sign(GITHUB_SECRET, body), 'X-GitHub-Delivery': `gh-${n}`, 'X-GitHub-Event': 'ping' });
      assert.equal(res.status, 202, await res.text());
    };
    await sendGitHub();
    const timer = setInterval(() => sendGitHub().catch(() => {}), 300);
    let first;
    try {
      first = (await events.next()).value;
    } finally {
      clearInterval(timer);
    }
    assert.equal(first.errors, undefined, JSON.stringify(first.errors));
    assert.equal(first.data.connectionEvents.trigger, 'push');
    assert.match(first.data.connectionEvents.body, /Keep it logically awesome/);
    assert.ok(first.data.connectionEvents.headers.some((h) => h.name === 'X-Github-Event' && h.value === 'ping'));

    // Standard Webhooks, signed by its library; a tampered copy is refused.
    const wh = new Webhook(SW_SECRET);
    const body = JSON.stringify({ type: 'invoice.paid', id: 'in_1' });
    const id = `msg_${Date.now()}`;
    const signature = wh.sign(id, new Date(), body);
    const signed = { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': signature };
    assert.equal((await deliver(sw, body + ' ', signed)).status, 401);
    const res = await deliver(sw, body, signed);
    assert.equal(res.status, 202, await res.text());
    for (;;) {
      const { value } = await events.next();
      if (value.data.connectionEvents.trigger === 'invoice') {
        assert.equal(value.data.connectionEvents.deliveryId, id);
        assert.equal(value.data.connectionEvents.body, body);
        break;
      }
    }
  } finally {
    await events.return();
    await client.dispose();
  }
});
