/**
 * A small caching HTTP proxy for apt, handed to pi-gen through APT_PROXY.
 * Package files (.deb, .udeb, .ddeb) never change under the same name, so they
 * are kept in a directory that a CI cache can carry between builds; anything
 * else (indexes, Release files) passes through untouched, so apt's own
 * signature checks see the archive as it is. Only GET and HEAD of http URLs are
 * served; CONNECT (https tunnels) is refused. A download becomes a cache entry
 * only once complete (written under a temporary name, length checked, renamed).
 */
import { createReadStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { AtomicFile } from '../core/atomic-file';
import type { Logger } from '../core/logger';

export interface AptProxyOptions {
  cacheDir: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
  logger: Logger;
  upstreamTimeoutMs?: number;
}

export interface AptProxyStats {
  hits: number;
  stored: number;
  passedThrough: number;
  refused: number;
}

export interface RunningAptProxy {
  url: string;
  port: number;
  stats: AptProxyStats;
  close(): Promise<void>;
}

const PACKAGE_FILE = /\.(u|d)?deb$/;
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** The cache path for a package URL, or undefined when the URL must not be cached (or is not safe as a path). */
export function cachePathFor(cacheDir: string, url: URL): string | undefined {
  if (url.protocol !== 'http:' || url.search || !PACKAGE_FILE.test(url.pathname)) return undefined;
  let segments: string[];
  try {
    segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return undefined;
  }
  const host = url.host.toLowerCase();
  const safe = (s: string): boolean => s !== '.' && s !== '..' && /^[A-Za-z0-9._+~%:-]+$/.test(s);
  if (!/^[a-z0-9.-]+(:\d+)?$/.test(host) || segments.length === 0 || !segments.every(safe)) return undefined;
  return join(cacheDir, host.replace(':', '_'), ...segments);
}

function forwardHeaders(headers: IncomingMessage['headers'], dropRange: boolean): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || HOP_HEADERS.has(k) || (dropRange && (k === 'range' || k === 'if-range'))) continue;
    out[k] = v;
  }
  return out;
}

export async function startAptProxy(options: AptProxyOptions): Promise<RunningAptProxy> {
  const { logger } = options;
  const stats: AptProxyStats = { hits: 0, stored: 0, passedThrough: 0, refused: 0 };
  await mkdir(options.cacheDir, { recursive: true });

  const refuse = (res: ServerResponse, code: number, why: string): void => {
    stats.refused++;
    res.writeHead(code, { 'content-type': 'text/plain' }).end(`${why}\n`);
  };

  const serveCached = async (res: ServerResponse, path: string, head: boolean): Promise<boolean> => {
    try {
      const s = await stat(path);
      if (!s.isFile()) return false;
      stats.hits++;
      res.writeHead(200, { 'content-length': String(s.size), 'content-type': 'application/vnd.debian.binary-package', 'x-cache': 'HIT' });
      if (head) res.end();
      else createReadStream(path).pipe(res);
      return true;
    } catch {
      return false;
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      refuse(res, 405, 'only GET and HEAD are proxied');
      return;
    }
    if (!req.url || req.url.startsWith('/')) {
      // pi-gen checks APT_PROXY with `curl $APT_PROXY`: answer it.
      res.writeHead(200, { 'content-type': 'text/plain' }).end('pi-image apt proxy\n');
      return;
    }
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      refuse(res, 400, 'not an absolute URL');
      return;
    }
    if (url.protocol !== 'http:') {
      refuse(res, 400, 'only http URLs are proxied');
      return;
    }
    const cachePath = cachePathFor(options.cacheDir, url);
    const head = req.method === 'HEAD';
    if (cachePath && (await serveCached(res, cachePath, head))) return;

    const upstream = request(url, {
      method: req.method,
      headers: { ...forwardHeaders(req.headers, !!cachePath), host: url.host },
      timeout: options.upstreamTimeoutMs ?? 60_000,
    });
    upstream.on('timeout', () => upstream.destroy(new Error('upstream timed out')));
    upstream.on('error', (e) => {
      if (!res.headersSent) refuse(res, 502, `upstream: ${e.message}`);
      else res.destroy(e);
    });
    upstream.on('response', (up) => {
      const headers = forwardHeaders(up.headers, false);
      res.writeHead(up.statusCode ?? 502, headers);
      if (!cachePath || up.statusCode !== 200 || head) {
        stats.passedThrough++;
        up.pipe(res);
        return;
      }
      // Store while serving; the entry appears only when complete and of the announced length.
      const expected = up.headers['content-length'] ? Number(up.headers['content-length']) : undefined;
      const cached = new AtomicFile(join(options.cacheDir, 'entry'));
      const file = cached.stream;
      let length = 0;
      let failed = false;
      up.on('data', (chunk: Buffer) => {
        length += chunk.length;
      });
      // pipe() to both: the slower of client and disk sets the pace, memory stays bounded.
      up.pipe(res);
      up.pipe(file);
      const abandon = (): void => {
        failed = true;
        void cached.discard();
      };
      up.on('aborted', abandon);
      up.on('error', () => {
        abandon();
        res.destroy();
      });
      file.on('error', abandon);
      const store = async (): Promise<void> => {
        if (failed || (expected !== undefined && length !== expected)) {
          logger.warn(`apt proxy: ${url.href} ended after ${length} of ${expected ?? '?'} bytes; not cached`);
          await cached.discard();
          return;
        }
        try {
          await mkdir(dirname(cachePath), { recursive: true });
          await cached.commit(cachePath);
          stats.stored++;
        } catch (e) {
          logger.warn(`apt proxy: could not store ${url.href}: ${(e as Error).message}`);
          await cached.discard();
        }
      };
      file.on('finish', () => void store());
    });
    req.pipe(upstream);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) refuse(res, 500, (e as Error).message);
      else res.destroy();
    });
  });
  server.on('connect', (_req, socket) => {
    stats.refused++;
    socket.end('HTTP/1.1 405 Method Not Allowed\r\n\r\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
  logger.info(`apt cache proxy at ${url}, package files kept in ${options.cacheDir}`);
  return {
    url,
    port,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
