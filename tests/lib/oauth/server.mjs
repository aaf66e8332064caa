// server.mjs - the OAuth 2.0 authorization server of tests/oauth.bats:
// oidc-provider (pinned in package-lock.json) over HTTPS on loopback.
//
//   node server.mjs PORTFILE CERT KEY
//
// Listens on 127.0.0.1 on a free port, writes the port to PORTFILE once
// it serves, and logs one line per request to stdout (method, path and
// the grants; never a token).  The issuer is https://localhost:PORT.
// Environment: OAUTH_TTL (access-token lifetime in seconds, default 30).
//
// Clients: "popfetch" (public, native: device flow, PKCE, loopback
// redirect http://127.0.0.1/ with any port, refresh tokens that rotate),
// and "dovecot" (secret "dovecot-secret"), which only introspects.
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { createServer } from 'node:https';

import Provider from 'oidc-provider';

const [portFile, certFile, keyFile] = process.argv.slice(2);
const ttl = Number(process.env.OAUTH_TTL || 30);

const server = createServer({
  cert: readFileSync(certFile), key: readFileSync(keyFile),
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `https://localhost:${port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: 'popfetch',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token',
        'urn:ietf:params:oauth:grant-type:device_code'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/'],
    }, {
      client_id: 'dovecot',
      client_secret: 'dovecot-secret',
      grant_types: [],
      response_types: [],
      redirect_uris: [],
    }],
    features: {
      devInteractions: { enabled: true },
      deviceFlow: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
    },
    scopes: ['openid', 'offline_access'],
    ttl: { AccessToken: ttl, DeviceCode: 600, RefreshToken: 86400,
      Interaction: 600, Session: 600, Grant: 86400 },
    async findAccount(ctx, id) {
      return { accountId: id, async claims() { return { sub: id }; } };
    },
  });
  provider.proxy = false;
  // The log: one line a request, and one a grant or revocation, which
  // the tests count (reading the body here would steal it from Koa).
  server.on('request', (req) => {
    console.log(`${req.method} ${req.url.split('?')[0]}`);
  });
  provider.on('grant.success', (ctx) => {
    console.log(`grant ${ctx.oidc.params.grant_type}`);
  });
  provider.on('grant.error', (ctx, err) => {
    console.log(`grant-error ${ctx.oidc.params?.grant_type} ${err.error}`);
  });
  const handler = provider.callback();
  server.on('request', handler);
  writeFileSync(`${portFile}.tmp`, `${port}\n`);
  renameSync(`${portFile}.tmp`, portFile);
});
