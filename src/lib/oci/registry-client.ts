/**
 * A streaming client for the OCI distribution API, written for big blobs:
 * nothing is held in memory but a chunk. Auth: anonymous, Basic, and Bearer
 * tokens from the registry's realm (service and scope), cached per scope until
 * they expire. Blobs are checked before upload (HEAD) and verified against their
 * digest while they download. `Authorization` never follows a redirect to
 * another host. Transient failures (429, 5xx, dropped connections) are retried
 * with backoff for requests that can be repeated.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PiImageError } from '../core/errors';
import type { Logger } from '../core/logger';
import { DIGEST, registryBaseUrl } from './reference';

export interface Credentials {
  username: string;
  password: string;
}

export interface RegistryClientOptions {
  registry: string;
  credentials?: Credentials | undefined;
  /** Plain HTTP to a registry that is not on loopback (never the default). */
  plainHttp?: boolean | undefined;
  logger: Logger;
  retries?: number | undefined;
  /** Backoff base in ms (tests shorten it). */
  backoffMs?: number | undefined;
  /**
   * Upload in chunks of this many bytes instead of one streamed PUT (GHCR takes
   * at most 4 MiB per request). A monolithic upload the registry refuses as too
   * large (413) falls back to chunks of 4 MiB by itself.
   */
  chunkSize?: number | undefined;
}

export const GHCR_MAX_CHUNK = 4 * 1024 * 1024;

interface Response {
  status: number;
  headers: IncomingMessage['headers'];
  body: IncomingMessage;
}

type Body = Buffer | (() => Readable) | undefined;

const TRANSIENT = new Set([429, 500, 502, 503, 504]);

export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const m = /^(\w+)\s*(.*)$/.exec(header.trim());
  const params: Record<string, string> = {};
  for (const p of (m?.[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) params[p[1]!.toLowerCase()] = p[2]!;
  return { scheme: (m?.[1] ?? '').toLowerCase(), params };
}

async function drain(res: IncomingMessage, limit = 64 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of res) {
    if (size < limit) chunks.push(c as Buffer);
    size += (c as Buffer).length;
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, limit);
}

export class RegistryClient {
  private readonly base: string;
  private readonly tokens = new Map<string, { token: string; expires: number }>();
  private challenge: { scheme: string; params: Record<string, string> } | undefined;

  constructor(private readonly options: RegistryClientOptions) {
    this.base = registryBaseUrl(options.registry, options.plainHttp ?? false);
  }

  private send(method: string, url: URL, headers: Record<string, string>, body: Body): Promise<Response> {
    return new Promise((resolve, reject) => {
      const fn = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = fn(url, { method, headers, timeout: 120_000 }, (res) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res }));
      req.on('timeout', () => req.destroy(new Error(`${method} ${url.pathname}: timed out`)));
      req.on('error', reject);
      if (Buffer.isBuffer(body)) req.end(body);
      else if (body) {
        const stream = body();
        stream.on('error', (e) => req.destroy(e));
        stream.pipe(req);
      } else req.end();
    });
  }

  private async authHeader(scope: string): Promise<Record<string, string>> {
    const c = this.challenge;
    if (!c) return {};
    if (c.scheme === 'basic') {
      if (!this.options.credentials) return {};
      const { username, password } = this.options.credentials;
      return { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
    }
    if (c.scheme !== 'bearer') return {};
    const cached = this.tokens.get(scope);
    if (cached && cached.expires > Date.now()) return { authorization: `Bearer ${cached.token}` };
    const realm = c.params.realm;
    if (!realm) throw new PiImageError('EXEC_FAILED', `${this.options.registry} asked for a Bearer token but named no realm`);
    const url = new URL(realm);
    if (c.params.service) url.searchParams.set('service', c.params.service);
    if (scope) url.searchParams.set('scope', scope);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.credentials) {
      const { username, password } = this.options.credentials;
      headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    }
    const res = await this.send('GET', url, headers, undefined);
    const text = await drain(res.body);
    if (res.status !== 200) {
      throw new PiImageError(res.status === 401 || res.status === 403 ? 'INPUT_INVALID' : 'EXEC_FAILED', `token for ${scope} refused by ${url.origin}: ${res.status} ${text.slice(0, 200)}`);
    }
    const json = JSON.parse(text) as { token?: string; access_token?: string; expires_in?: number };
    const token = json.token ?? json.access_token;
    if (!token) throw new PiImageError('EXEC_FAILED', `token server ${url.origin} answered without a token`);
    // Renew a little before the registry would: expires_in defaults to 60 s in the spec.
    this.tokens.set(scope, { token, expires: Date.now() + Math.max(5, (json.expires_in ?? 60) - 10) * 1000 });
    return { authorization: `Bearer ${token}` };
  }

  /**
   * One request with auth, redirects and retries. `body` as a factory can be
   * replayed; a consumed stream cannot, so uploads authorize first (POST).
   */
  async request(method: string, path: string, options: { scope: string; headers?: Record<string, string>; body?: Body; expect: number[]; retry?: boolean }): Promise<Response> {
    const retries = options.retry === false ? 0 : (this.options.retries ?? 4);
    let url = new URL(path, this.base);
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        const auth = url.origin === new URL(this.base).origin ? await this.authHeader(options.scope) : {};
        res = await this.send(method, url, { ...options.headers, ...auth }, options.body);
      } catch (e) {
        if (e instanceof PiImageError || attempt >= retries) {
          throw e instanceof PiImageError ? e : new PiImageError('EXEC_FAILED', `${method} ${url.href}: ${(e as Error).message}`, { cause: e });
        }
        await this.backoff(attempt, `${method} ${url.pathname}: ${(e as Error).message}`);
        continue;
      }
      if (res.status === 401 && attempt === 0 && res.headers['www-authenticate']) {
        await drain(res.body);
        this.challenge = parseChallenge(String(res.headers['www-authenticate']));
        this.tokens.delete(options.scope);
        continue;
      }
      if ([301, 302, 303, 307, 308].includes(res.status) && res.headers.location && (method === 'GET' || method === 'HEAD')) {
        await drain(res.body);
        // A redirect to another host (blob storage) gets no Authorization: see the origin check above.
        url = new URL(res.headers.location, url);
        continue;
      }
      if (TRANSIENT.has(res.status) && attempt < retries) {
        const text = await drain(res.body);
        const wait = Number(res.headers['retry-after']);
        await this.backoff(attempt, `${method} ${url.pathname}: ${res.status} ${text.slice(0, 100)}`, Number.isFinite(wait) ? wait * 1000 : undefined);
        continue;
      }
      if (!options.expect.includes(res.status)) {
        const text = await drain(res.body);
        const code = res.status === 401 || res.status === 403 ? 'INPUT_INVALID' : 'EXEC_FAILED';
        throw new PiImageError(code, `${method} ${url.pathname} on ${this.options.registry}: ${res.status} ${text.slice(0, 300)}`);
      }
      return res;
    }
  }

  private async backoff(attempt: number, why: string, ms?: number): Promise<void> {
    const delay = ms ?? (this.options.backoffMs ?? 500) * 2 ** attempt;
    this.options.logger.warn(`${why}; retrying in ${(delay / 1000).toFixed(1)} s`);
    await new Promise((r) => setTimeout(r, delay));
  }

  static scope(repository: string, actions: 'pull' | 'pull,push'): string {
    return `repository:${repository}:${actions}`;
  }

  async blobExists(repository: string, digest: string): Promise<boolean> {
    const res = await this.request('HEAD', `/v2/${repository}/blobs/${digest}`, { scope: RegistryClient.scope(repository, 'pull'), expect: [200, 404] });
    res.body.resume();
    return res.status === 200;
  }

  /**
   * Uploads a file as a blob, unless the registry has it already: one streamed
   * PUT, or in chunks (PATCH with Content-Range) when asked or when the registry
   * refuses the whole body as too large. A chunked upload interrupted by a
   * dropped connection resumes from the offset the registry reports.
   */
  async uploadBlob(repository: string, file: string, digest: string, size: number): Promise<'exists' | 'uploaded'> {
    if (!DIGEST.test(digest)) throw new PiImageError('INTERNAL', `not a digest: ${digest}`);
    if (await this.blobExists(repository, digest)) return 'exists';
    const scope = RegistryClient.scope(repository, 'pull,push');
    if (!this.options.chunkSize) {
      const location = await this.startUpload(repository, scope);
      const url = new URL(location, this.base);
      url.searchParams.set('digest', digest);
      const put = await this.request('PUT', url.pathname + url.search, {
        scope,
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
        body: () => createReadStream(file, { highWaterMark: 1 << 20 }),
        expect: [201, 413],
        retry: false,
      });
      await drain(put.body);
      if (put.status === 201) return this.checkStored(put, digest);
      this.options.logger.warn(`${this.options.registry} refused a ${size}-byte upload as too large; uploading in ${GHCR_MAX_CHUNK / 1048576} MiB chunks`);
    }
    return this.uploadChunked(repository, scope, file, digest, size, this.options.chunkSize ?? GHCR_MAX_CHUNK);
  }

  private async startUpload(repository: string, scope: string): Promise<string> {
    const start = await this.request('POST', `/v2/${repository}/blobs/uploads/`, { scope, headers: { 'content-length': '0' }, expect: [202] });
    start.body.resume();
    const location = start.headers.location;
    if (!location) throw new PiImageError('EXEC_FAILED', `${this.options.registry} started an upload without a Location`);
    return location;
  }

  private checkStored(res: Response, digest: string): 'uploaded' {
    const stored = res.headers['docker-content-digest'];
    if (stored && stored !== digest) throw new PiImageError('EXEC_FAILED', `${this.options.registry} stored ${digest} as ${String(stored)}`);
    return 'uploaded';
  }

  /** Where the registry says an upload stands: the Location to continue at and the bytes it has. */
  private async uploadStatus(scope: string, location: string): Promise<{ location: string; received: number }> {
    const url = new URL(location, this.base);
    const res = await this.request('GET', url.pathname + url.search, { scope, expect: [204] });
    res.body.resume();
    const range = /^(?:bytes=)?0-(\d+)$/.exec(String(res.headers.range ?? ''));
    return { location: res.headers.location ?? location, received: range ? Number(range[1]) + 1 : 0 };
  }

  private async uploadChunked(repository: string, scope: string, file: string, digest: string, size: number, chunk: number): Promise<'uploaded'> {
    let location = await this.startUpload(repository, scope);
    let offset = 0;
    let failures = 0;
    while (offset < size) {
      const end = Math.min(offset + chunk, size) - 1;
      const url = new URL(location, this.base);
      try {
        const res = await this.request('PATCH', url.pathname + url.search, {
          scope,
          headers: { 'content-type': 'application/octet-stream', 'content-length': String(end - offset + 1), 'content-range': `${offset}-${end}` },
          body: (() => {
            const from = offset;
            return () => createReadStream(file, { start: from, end, highWaterMark: 1 << 20 });
          })(),
          expect: [202],
          retry: false,
        });
        res.body.resume();
        location = res.headers.location ?? location;
        offset = end + 1;
        failures = 0;
      } catch (e) {
        if (e instanceof PiImageError && !/timed out|ECONNRESET|socket hang up|EPIPE|: 5\d\d |: 429 /.test(e.message)) throw e;
        if (++failures > (this.options.retries ?? 4)) throw e;
        await this.backoff(failures - 1, `chunk at ${offset} of ${digest}: ${(e as Error).message}`);
        // Resume where the registry says it stands, not from the start.
        const status = await this.uploadStatus(scope, location);
        location = status.location;
        offset = status.received;
      }
      this.options.logger.progress(`uploading ${digest.slice(7, 19)}`, offset, size);
    }
    const url = new URL(location, this.base);
    url.searchParams.set('digest', digest);
    const put = await this.request('PUT', url.pathname + url.search, { scope, headers: { 'content-length': '0' }, expect: [201] });
    await drain(put.body);
    return this.checkStored(put, digest);
  }

  /** Downloads a blob to `path`, verifying its digest as it streams; nothing is left at `path` unless it matches. */
  async downloadBlob(repository: string, digest: string, path: string, expectedSize?: number): Promise<void> {
    if (!DIGEST.test(digest)) throw new PiImageError('INPUT_INVALID', `not a sha256 digest: ${digest}`);
    const res = await this.request('GET', `/v2/${repository}/blobs/${digest}`, { scope: RegistryClient.scope(repository, 'pull'), expect: [200] });
    const hash = createHash('sha256');
    let size = 0;
    const temp = `${path}.partial-${process.pid}`;
    try {
      await pipeline(
        res.body,
        async function* (source) {
          for await (const chunk of source) {
            hash.update(chunk as Buffer);
            size += (chunk as Buffer).length;
            if (expectedSize !== undefined && size > expectedSize) throw new PiImageError('IMAGE_CORRUPT', `blob ${digest} is larger than the ${expectedSize} bytes the manifest says`);
            yield chunk;
          }
        },
        createWriteStream(temp),
      );
      const actual = `sha256:${hash.digest('hex')}`;
      if (actual !== digest) throw new PiImageError('IMAGE_CORRUPT', `blob ${digest} from ${this.options.registry} has digest ${actual}: refused`);
      if (expectedSize !== undefined && size !== expectedSize) throw new PiImageError('IMAGE_CORRUPT', `blob ${digest} is ${size} bytes, the manifest says ${expectedSize}`);
      await rename(temp, path);
    } catch (e) {
      await rm(temp, { force: true });
      throw e;
    }
  }

  async putManifest(repository: string, reference: string, mediaType: string, bytes: Buffer): Promise<string> {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const res = await this.request('PUT', `/v2/${repository}/manifests/${reference}`, {
      scope: RegistryClient.scope(repository, 'pull,push'),
      headers: { 'content-type': mediaType, 'content-length': String(bytes.length) },
      body: bytes,
      expect: [201],
    });
    res.body.resume();
    return digest;
  }

  /** Fetches a manifest; when asked by digest, its bytes must hash to it. */
  async getManifest(repository: string, reference: string, accept: string[]): Promise<{ bytes: Buffer; mediaType: string; digest: string }> {
    const res = await this.request('GET', `/v2/${repository}/manifests/${reference}`, { scope: RegistryClient.scope(repository, 'pull'), headers: { accept: accept.join(', ') }, expect: [200] });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of res.body) {
      size += (c as Buffer).length;
      if (size > 4 * 1024 * 1024) throw new PiImageError('IMAGE_CORRUPT', `manifest ${reference} is larger than 4 MiB: refused`);
      chunks.push(c as Buffer);
    }
    const bytes = Buffer.concat(chunks);
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (DIGEST.test(reference) && digest !== reference) throw new PiImageError('IMAGE_CORRUPT', `manifest ${reference} from ${this.options.registry} has digest ${digest}: refused`);
    return { bytes, mediaType: String(res.headers['content-type'] ?? ''), digest };
  }
}
