// A real OpenID Connect / OAuth 2.0 authorization server (npm oidc-provider) for the tests of
// internal/connect: the authorization-code grant with PKCE (required), refresh tokens that
// rotate on every use, access tokens living 20 s (so that Plugboard, refreshing 30 s before
// expiry, refreshes on every call), automatic login and consent, and a little latency on every
// request. Test hooks (POST): /test/revoke-grants revokes every grant (the next refresh is
// invalid_grant); /test/deny-next makes the next authorization end in access_denied; GET
// /test/requests counts the other requests served.
// Prints "listening <issuer>" once it serves; REDIRECT_URIS (comma-separated) are the
// registered callbacks.
// CommonJS around a dynamic import: as an ES module, importing oidc-provider never settled on
// Node 20.
const http = require('node:http');

async function main() {
  const { default: Provider } = await import('oidc-provider');

  const store = new Map();
  const byGrant = new Map();
  const byUid = new Map();

  class MapAdapter {
    constructor(name) { this.name = name; }
    key(id) { return `${this.name}:${id}`; }
    async upsert(id, payload) {
      const key = this.key(id);
      store.set(key, payload);
      if (payload.grantId) {
        if (!byGrant.has(payload.grantId)) byGrant.set(payload.grantId, new Set());
        byGrant.get(payload.grantId).add(key);
      }
      if (payload.uid) byUid.set(payload.uid, id);
    }
    async find(id) { return store.get(this.key(id)); }
    async findByUid(uid) { return byUid.has(uid) ? this.find(byUid.get(uid)) : undefined; }
    async findByUserCode() { return undefined; }
    async consume(id) {
      const p = store.get(this.key(id));
      if (p) p.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id) { store.delete(this.key(id)); }
    async revokeByGrantId(grantId) {
      for (const key of byGrant.get(grantId) || []) store.delete(key);
      byGrant.delete(grantId);
    }
  }

  const port = Number(process.env.PORT || 0);
  const redirectUris = (process.env.REDIRECT_URIS || '').split(',').filter(Boolean);
  let denyNext = false;
  let served = 0;

  const server = http.createServer();
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${server.address().port}`;

  const provider = new Provider(issuer, {
    adapter: MapAdapter,
    clients: [
      {
        client_id: 'plugboard', client_secret: 'plugboard-client-secret', redirect_uris: redirectUris,
        grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
      {
        client_id: 'plugboard-public', redirect_uris: redirectUris,
        grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
        token_endpoint_auth_method: 'none',
      },
    ],
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    ttl: { AccessToken: 20, AuthorizationCode: 60, Grant: 3600, IdToken: 3600, Interaction: 600, Session: 3600, RefreshToken: 3600 },
    findAccount: async (ctx, id) => ({ accountId: id, claims: async () => ({ sub: id, name: 'Alice Example' }) }),
    claims: { openid: ['sub'], profile: ['name'] },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: ['plugboard-test-cookie-key'] },
  });

  provider.use(async (ctx, next) => {
    // A provider on the internet answers in tens of milliseconds, not microseconds.
    await new Promise((r) => setTimeout(r, 15 + Math.random() * 35));
    if (ctx.method === 'GET' && ctx.path === '/test/requests') {
      ctx.body = { served };
      return;
    }
    served++;
    if (ctx.method === 'POST' && ctx.path === '/test/revoke-grants') {
      for (const key of [...store.keys()]) {
        if (/^(Grant|RefreshToken|AccessToken|Session):/.test(key)) store.delete(key);
      }
      ctx.status = 204;
      return;
    }
    if (ctx.method === 'POST' && ctx.path === '/test/deny-next') {
      denyNext = true;
      ctx.status = 204;
      return;
    }
    const m = ctx.path.match(/^\/interaction\/([^/]+)$/);
    if (ctx.method === 'GET' && m) {
      const details = await provider.interactionDetails(ctx.req, ctx.res);
      const { prompt, params } = details;
      let result;
      if (denyNext) {
        denyNext = false;
        result = { error: 'access_denied', error_description: 'the user said no' };
      } else if (prompt.name === 'login') {
        result = { login: { accountId: 'alice' } };
      } else {
        const grant = details.grantId
          ? await provider.Grant.find(details.grantId)
          : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
        const d = prompt.details;
        if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
        if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
        for (const [indicator, scopes] of Object.entries(d.missingResourceScopes || {})) {
          grant.addResourceScope(indicator, scopes.join(' '));
        }
        result = { consent: { grantId: await grant.save() } };
      }
      ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: true }));
      return;
    }
    await next();
  });

  server.on('request', provider.callback());
  console.log(`listening ${issuer}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
