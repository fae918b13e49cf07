/**
 * Registries that stall, stay silent, echo credentials back, or send the
 * client to a token service on another origin: servers of the tests' own on
 * loopback, each misbehaving one way. The CLI must give up within its
 * deadlines, never print a secret, and never send credentials where they do
 * not belong.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { missingTools, skipReason } from '../support/tools';
import { expectBounded, runBounded } from './support/bounded-cli';

const missing = missingTools(['/usr/bin/time']);
if (missing.length > 0) skipReason('hostile registries', `missing tools: ${missing.join(', ')}`);

const work = mkdtempSync(join(tmpdir(), 'hostile-registries-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const servers: (Server | TcpServer)[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  server.on('connection', (s) => sockets.push(s));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const LAYER = Buffer.alloc(4096, 1);
const digest = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const MANIFEST = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: digest(Buffer.from('{}')), size: 2 },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: digest(LAYER), size: LAYER.length }],
  }),
);

/** Sends `body` a byte at a time, one every `everyMs`. */
function trickle(res: ServerResponse, body: Buffer, everyMs: number): void {
  let at = 0;
  const timer = setInterval(() => {
    if (at >= body.length || res.destroyed) {
      clearInterval(timer);
      res.end();
      return;
    }
    res.write(body.subarray(at, ++at));
  }, everyMs);
  res.on('close', () => clearInterval(timer));
}

describe.skipIf(missing.length > 0)('hostile registries', () => {
  it('a registry that trickles a manifest gives up at the low-speed limit, naming the request (once: never)', async () => {
    const host = await serve((req, res) => {
      if (req.url === '/v2/') return void res.writeHead(200).end('{}');
      // The tag resolves at once (no digest header: the client then GETs the manifest), whose body trickles.
      if (req.method === 'HEAD') return void res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end();
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': String(MANIFEST.length) });
      trickle(res, MANIFEST, 1000);
    });
    const run = await runBounded(['pull', `${host}/acme/slow:1`, join(work, 'slow'), '--speed-limit', '100', '--speed-time', '2'], { timeoutMs: 60_000 });
    expect(expectBounded(run, 30)).toEqual([]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(`GET http://${host}/v2/acme/slow/manifests/1: receiving slower than 100 bytes/s for 2 s .*stalled \\[REGISTRY_FAILED\\]`),
    );
    expect(existsSync(join(work, 'slow'))).toBe(false);
  });

  it('a blob download that stalls is resumed a few times, then given up on, with nothing left', async () => {
    const host = await serve((req, res) => {
      if (req.url === '/v2/') return void res.writeHead(200).end('{}');
      if (req.url?.includes('/manifests/')) {
        return void res
          .writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': digest(MANIFEST) })
          .end(req.method === 'HEAD' ? undefined : MANIFEST);
      }
      // Every blob request (the first and each Range resume) starts and then stalls.
      res.writeHead(req.headers.range ? 206 : 200, { 'content-length': String(LAYER.length) });
      res.write(LAYER.subarray(0, 10));
    });
    const run = await runBounded(['pull', `${host}/acme/stalled:1`, join(work, 'stalled'), '--speed-limit', '100', '--speed-time', '1'], { timeoutMs: 90_000 });
    expect(expectBounded(run, 45)).toEqual([]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/download of sha256:[0-9a-f]{64} broke off at byte \d+, 5 times: .*stalled \[REGISTRY_FAILED\]/);
    expect(run.stderr).toMatch(/retrying in/);
    expect(existsSync(join(work, 'stalled'))).toBe(false);
  });

  it('a registry that accepts the connection and never answers is given up on after the response timeout', async () => {
    const silent = createTcpServer((s) => sockets.push(s));
    servers.push(silent);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const host = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const run = await runBounded(['pull', `${host}/acme/silent:1`, join(work, 'silent'), '--response-timeout', '1'], { timeoutMs: 60_000 });
    expect(expectBounded(run, 30)).toEqual([]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`(HEAD|GET) http://${host}/v2/acme/silent/manifests/1: no answer within 1 s \\[REGISTRY_FAILED\\]`));
  });

  it('a registry whose 401 echoes the credentials (and terminal escapes) gets neither printed', async () => {
    const host = await serve((req, res) => {
      const auth = req.headers.authorization ?? '';
      const decoded = auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString('utf8') : '';
      res.writeHead(401, { 'www-authenticate': 'Basic realm="test"', 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: `\u001b]0;pwned\u0007\u001b[2Jbad credentials: ${decoded} (${auth})` }] }));
    });
    // By digest: the manifest is fetched (GET) at once, and the 401 comes with a body.
    const run = await runBounded(['pull', `${host}/acme/echo@${digest(MANIFEST)}`, join(work, 'echo')], {
      env: { PI_IMAGE_REGISTRY: host, PI_IMAGE_REGISTRY_USERNAME: 'ci', PI_IMAGE_REGISTRY_PASSWORD: 'hunter2-very-secret' },
      timeoutMs: 30_000,
    });
    expect(expectBounded(run, 20)).toEqual([]);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/401 UNAUTHORIZED: .*bad credentials: ci:\*\*\* \(Basic \*\*\*\)/);
    expect(run.stderr).not.toContain('hunter2-very-secret');
    expect(run.stderr).not.toContain(Buffer.from('ci:hunter2-very-secret').toString('base64'));
    expect(run.stderr).not.toContain('\u001b');
    expect(run.stderr).toContain('\\e]0;pwned');
  });

  it('credentials never go to a token realm on another origin over plain http; the user is told how to allow one', async () => {
    const seen: string[] = [];
    const tokenHost = await serve((req, res) => {
      seen.push(req.headers.authorization ?? 'anonymous');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'not-a-real-token-0123' }));
    });
    const host = await serve((req, res) => {
      if (req.headers.authorization !== 'Bearer not-a-real-token-0123') {
        return void res
          .writeHead(401, { 'www-authenticate': `Bearer realm="http://${tokenHost}/token",service="test"` })
          .end('{"errors":[{"code":"UNAUTHORIZED","message":"token needed"}]}');
      }
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"no such tag"}]}');
    });
    const run = await runBounded(['pull', `${host}/acme/realm:1`, join(work, 'realm')], {
      env: { PI_IMAGE_REGISTRY: host, PI_IMAGE_REGISTRY_USERNAME: 'ci', PI_IMAGE_REGISTRY_PASSWORD: 'hunter2-very-secret' },
      timeoutMs: 30_000,
    });
    expect(expectBounded(run, 20)).toEqual([]);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((a) => a === 'anonymous')).toBe(true);
    expect(run.stderr).toMatch(
      new RegExp(
        `token service http://${tokenHost} is on another origin over plain http: credentials are not sent there \\(asking anonymously\\); allow it with --token-realm`,
      ),
    );
    expect(run.stderr).toMatch(/MANIFEST_UNKNOWN|has no tag/);
    expect(run.stderr).not.toContain('not-a-real-token-0123');
    // An http realm cannot be allowed: credentials travel over https only.
    const refused = await runBounded(['pull', `${host}/acme/realm:1`, join(work, 'realm'), '--token-realm', `http://${tokenHost}`], { timeoutMs: 30_000 });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--token-realm .*: credentials go to a token service over https only/);
  });
});
