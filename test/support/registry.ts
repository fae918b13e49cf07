/**
 * Debian's docker-registry (distribution 2.8), started by the tests on
 * loopback with its own storage: open, with htpasswd Basic auth, or with
 * Bearer tokens from a token server of the tests' own.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createPrivateKey, randomBytes, sign, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestRegistry {
  host: string;
  url: string;
  /** The registry's storage (filesystem driver): tests corrupt blobs here. */
  dataDir: string;
  /** Token requests the token server answered: "<user> <scope>". */
  tokenRequests: string[];
  /** The token server's realm (plain http on another port: another origin, which credentials reach only when allowed). */
  tokenRealm?: string;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * A token server of the tests' own, as GHCR and Docker Hub have one: Basic
 * credentials in, a short-lived ES256 JWT out, granting what was asked for
 * (pull for anyone, push only for the right user). Signed with a key whose
 * self-signed certificate the registry trusts; the certificate rides in x5c.
 */
async function startTokenServer(dir: string, user: { username: string; password: string }, expiresIn: number) {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(dir, 'token.key'),
      '-out',
      join(dir, 'token.crt'),
      '-days',
      '2',
      '-subj',
      '/CN=test-token-issuer',
    ],
    { stdio: 'ignore' },
  );
  const key = createPrivateKey(readFileSync(join(dir, 'token.key')));
  const der = new X509Certificate(readFileSync(join(dir, 'token.crt'))).raw.toString('base64');
  const requests: string[] = [];
  const server = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const auth = req.headers.authorization?.startsWith('Basic ') ? Buffer.from(req.headers.authorization.slice(6), 'base64').toString() : '';
    const [name, pass] = auth.split(':');
    const authenticated = name === user.username && pass === user.password;
    if (auth && !authenticated) {
      res.writeHead(401).end('{"details":"bad credentials"}');
      return;
    }
    const scope = url.searchParams.get('scope') ?? '';
    requests.push(`${authenticated ? name : 'anonymous'} ${scope}`);
    const access = scope
      ? scope.split(' ').map((s) => {
          const [type, repo, actions] = s.split(':');
          const allowed = (actions ?? '').split(',').filter((a) => a === 'pull' || authenticated);
          return { type, name: repo, actions: allowed };
        })
      : [];
    const now = Math.floor(Date.now() / 1000);
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const head = b64({ typ: 'JWT', alg: 'ES256', x5c: [der] });
    const body = b64({
      iss: 'test-issuer',
      sub: authenticated ? name : '',
      aud: 'test-registry',
      exp: now + expiresIn,
      nbf: now - 5,
      iat: now,
      jti: randomBytes(8).toString('hex'),
      access,
    });
    const sig = sign('sha256', Buffer.from(`${head}.${body}`), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `${head}.${body}.${sig}`, expires_in: expiresIn }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, requests, realm: `http://127.0.0.1:${(server.address() as { port: number }).port}/token`, cert: join(dir, 'token.crt') };
}

export async function startRegistry(
  auth: { basic?: { username: string; password: string }; token?: { username: string; password: string; expiresIn?: number } } = {},
): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'registry-'));
  const port = await freePort();
  let authYaml = '';
  let tokenServer: Awaited<ReturnType<typeof startTokenServer>> | undefined;
  if (auth.token) {
    tokenServer = await startTokenServer(dir, auth.token, auth.token.expiresIn ?? 300);
    authYaml = `auth:\n  token:\n    realm: ${tokenServer.realm}\n    service: test-registry\n    issuer: test-issuer\n    rootcertbundle: ${tokenServer.cert}\n`;
  }
  if (auth.basic) {
    const htpasswd = execFileSync('htpasswd', ['-Bbn', auth.basic.username, auth.basic.password], { encoding: 'utf8' });
    writeFileSync(join(dir, 'htpasswd'), htpasswd);
    authYaml = `auth:\n  htpasswd:\n    realm: test-realm\n    path: ${join(dir, 'htpasswd')}\n`;
  }
  writeFileSync(
    join(dir, 'config.yml'),
    `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${authYaml}`,
  );
  const child: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
  const host = `127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`http://${host}/v2/`);
      if (r.status === 200 || r.status === 401) break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    host,
    url: `http://${host}`,
    dataDir: join(dir, 'data'),
    tokenRequests: tokenServer?.requests ?? [],
    ...(tokenServer ? { tokenRealm: tokenServer.realm } : {}),
    close: async () => {
      tokenServer?.server.close();
      child.kill();
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
