/**
 * The apt proxy against a real origin server on loopback, driven by curl (an
 * independent HTTP client): package files cached on first fetch and served
 * from disk after, indexes passed through, bad requests refused, a broken
 * download never cached.
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MemoryLogger } from '../core/logger';
import { missingTools, skipReason } from '../../../test/support/tools';
import { cachePathFor, startAptProxy, type RunningAptProxy } from './apt-proxy';

const missing = missingTools(['curl']);
if (missing.length > 0) skipReason('apt proxy tests', 'curl is not installed');

const deb = Buffer.from(createHash('sha512').update('a package').digest('hex').repeat(500));

describe.skipIf(missing.length > 0)('apt proxy', () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'apt-proxy-'));
  const hits: string[] = [];
  let origin: Server;
  let originUrl: string;
  let proxy: RunningAptProxy;

  beforeAll(async () => {
    origin = createServer((req, res) => {
      hits.push(`${req.method} ${req.url}`);
      if (req.url === '/debian/pool/main/h/hello/hello_2.10-3_arm64.deb') res.writeHead(200, { 'content-length': String(deb.length) }).end(deb);
      else if (req.url === '/debian/dists/bookworm/Release') res.writeHead(200).end(`Release ${hits.length}\n`);
      else if (req.url === '/debian/pool/main/b/broken/broken_1_arm64.deb') {
        res.writeHead(200, { 'content-length': '100000' });
        res.write(Buffer.alloc(1000));
        setTimeout(() => res.destroy(), 50);
      } else res.writeHead(404).end();
    });
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
    proxy = await startAptProxy({ cacheDir, host: '127.0.0.1', port: 0, logger: new MemoryLogger() });
  });
  afterAll(async () => {
    await proxy.close();
    await new Promise<void>((r) => origin.close(() => r()));
    rmSync(cacheDir, { recursive: true, force: true });
  });

  // curl runs asynchronously: the proxy and the origin live in this process and must keep answering.
  const run = promisify(execFile);
  const curl = async (url: string, extra: string[] = []) => {
    const out = join(cacheDir, '..', `curl-out-${Math.random().toString(36).slice(2)}`);
    const r = await run('curl', ['-sS', '-o', out, '-w', '%{http_code} %header{x-cache}', '-x', proxy.url, ...extra, url], { encoding: 'utf8' }).catch(
      (e: { stdout?: string }) => ({ stdout: e.stdout ?? '000' }),
    );
    const body = existsSync(out) ? readFileSync(out) : Buffer.alloc(0);
    rmSync(out, { force: true });
    return { status: r.stdout.split(' ')[0], cache: r.stdout.split(' ')[1] ?? '', body };
  };

  it('fetches a package once, then serves it from the cache, byte for byte', async () => {
    const url = `${originUrl}/debian/pool/main/h/hello/hello_2.10-3_arm64.deb`;
    const first = await curl(url);
    expect(first.status).toBe('200');
    expect(first.body.equals(deb)).toBe(true);
    // The entry appears once the download is complete on disk, just after the response ends.
    await vi.waitFor(() => expect(proxy.stats.stored).toBe(1));
    const second = await curl(url);
    expect(second).toMatchObject({ status: '200', cache: 'HIT' });
    expect(second.body.equals(deb)).toBe(true);
    expect(hits.filter((h) => h.includes('hello_'))).toHaveLength(1);
    expect(proxy.stats).toMatchObject({ hits: 1, stored: 1 });
  });

  it('passes indexes through every time (apt checks their signatures)', async () => {
    const url = `${originUrl}/debian/dists/bookworm/Release`;
    const a = await curl(url);
    const b = await curl(url);
    expect([a.status, b.status]).toEqual(['200', '200']);
    expect(a.body.toString()).not.toBe(b.body.toString());
  });

  it('answers a plain request (pi-gen checks APT_PROXY with curl)', async () => {
    const r = await run('curl', ['-sS', '-f', proxy.url], { encoding: 'utf8' });
    expect(r.stdout).toBe('pi-image apt proxy\n');
  });

  it('never caches a download that broke off', async () => {
    await curl(`${originUrl}/debian/pool/main/b/broken/broken_1_arm64.deb`);
    // The proxy removes its partial file when the origin's stream errors, which may be a moment after
    // curl has given up: wait for that (or fail after 5 s), then check nothing was cached.
    const leftovers = (): string[] => (readdirSync(cacheDir, { recursive: true }) as string[]).filter((e) => e.includes('broken') || e.includes('.partial-'));
    await vi.waitFor(() => expect(leftovers()).toEqual([]), { timeout: 5000, interval: 50 });
  });

  it('refuses CONNECT, other methods and non-http URLs', async () => {
    expect((await curl('https://deb.debian.org/debian/dists/bookworm/Release', ['--max-time', '5'])).status).not.toBe('200');
    expect((await curl(`${originUrl}/debian/pool/x_1_all.deb`, ['-X', 'POST'])).status).toBe('405');
  });

  it('maps only safe package URLs to cache paths', () => {
    expect(cachePathFor('/c', new URL('http://deb.debian.org/debian/pool/main/a/a_1_all.deb'))).toBe('/c/deb.debian.org/debian/pool/main/a/a_1_all.deb');
    expect(cachePathFor('/c', new URL('http://deb.debian.org:8080/x/a_1%2b2_all.deb'))).toBe('/c/deb.debian.org_8080/x/a_1+2_all.deb');
    expect(cachePathFor('/c', new URL('http://deb.debian.org/debian/dists/bookworm/InRelease'))).toBeUndefined();
    // URL parsing resolves dot segments: what remains is always under the host's directory.
    expect(cachePathFor('/c', new URL('http://x/a/%2e%2e/%2e%2e/etc/evil.deb'))).toBe('/c/x/etc/evil.deb');
    expect(cachePathFor('/c', new URL('http://x/a%2f..%2fb.deb'))).toBeUndefined();
    expect(cachePathFor('/c', new URL('http://x/a.deb?x=1'))).toBeUndefined();
    expect(cachePathFor('/c', new URL('https://x/a.deb'))).toBeUndefined();
  });
});
