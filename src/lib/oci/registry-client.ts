/**
 * A streaming client for the OCI distribution API, written for big blobs:
 * nothing is held in memory but a chunk. Auth is registry-auth.ts's, each
 * request's deadlines http-transport.ts's, and what goes wrong is a typed
 * RegistryError whose `retryable` decides retries (429, 5xx, dropped,
 * timed-out and stalled connections, for requests that can be repeated).
 * Blobs are checked before upload (HEAD) and verified against their digest
 * while they download; `Authorization` never follows a redirect to another
 * host. Long transfers report progress.
 */
import { PassThrough, Readable } from 'node:stream';
import { PiImageError } from '../core/errors';
import { DigestCounter, verifiedChunks } from '../core/file-digest';
import type { Logger } from '../core/logger';
import { digestOf, type BlobSource } from './blob-source';
import { readBodyText, sendRequest, type HttpResponse, type RequestBody } from './http-transport';
import { OCI_INDEX, type Descriptor } from './media-types';
import { MAX_MANIFEST_BYTES } from './manifest-json';
import { DIGEST, registryBaseUrl, TAG } from './reference';
import { RegistryAuth, type Credentials } from './registry-auth';
import { hasStatus, isRetryable, protocolError, statusError, transportError } from './registry-error';
import { DEFAULT_TRANSFER_LIMITS, type TransferLimits } from './transfer-limits';

export type { Credentials } from './registry-auth';

interface UploadChunk {
  offset: number;
  length: number;
  /** The chunk's bytes from `skip` on: in memory, or a stream that can be opened again. */
  open(skip?: number): Buffer | Readable;
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
  /** Deadlines for each request. */
  limits?: TransferLimits | undefined;
  /** Token realms on other origins that may receive the credentials (https origins). */
  allowedRealms?: readonly string[] | undefined;
}

export const GHCR_MAX_CHUNK = 4 * 1024 * 1024;
/** As many as curl and browsers follow before calling it a loop. */
const MAX_REDIRECTS = 10;

/** A manifest reference as it goes into a URL: a tag or a digest, nothing that could change the path. */
function checkManifestReference(reference: string): string {
  if (!TAG.test(reference) && !DIGEST.test(reference))
    throw new PiImageError('INPUT_INVALID', `"${reference.slice(0, 80)}" is neither a tag nor a sha256 digest`);
  return reference;
}

/** Passes a body through, reporting its progress. */
function withProgress(stream: Readable, report: (bytes: number) => void): Readable {
  let bytes = 0;
  const through = new PassThrough();
  stream.on('error', (e) => through.destroy(e));
  stream.on('data', (c: Buffer) => {
    bytes += c.length;
    report(bytes);
  });
  return stream.pipe(through);
}

export class RegistryClient {
  private readonly base: string;
  private readonly auth: RegistryAuth;
  private readonly limits: TransferLimits;

  constructor(private readonly options: RegistryClientOptions) {
    this.base = registryBaseUrl(options.registry, options.plainHttp ?? false);
    this.limits = options.limits ?? DEFAULT_TRANSFER_LIMITS;
    this.auth = new RegistryAuth(options.registry, new URL(this.base), options.credentials, options.allowedRealms ?? [], this.limits, options.logger);
  }

  /**
   * One request with auth, redirects and retries. `body` as a factory can be
   * replayed; a consumed stream cannot, so uploads authorize first (POST).
   */
  async request(
    method: string,
    path: string,
    options: { scope: string; headers?: Record<string, string>; body?: RequestBody; expect: number[]; retry?: boolean },
  ): Promise<HttpResponse> {
    const retries = options.retry === false ? 0 : (this.options.retries ?? 4);
    let url = new URL(path, this.base);
    const origin = new URL(this.base).origin;
    let challenged = false;
    let redirects = 0;
    for (let attempt = 0; ; attempt++) {
      let res: HttpResponse;
      try {
        const auth = url.origin === origin ? await this.auth.header(options.scope) : {};
        res = await sendRequest(method, url, { ...options.headers, ...auth }, options.body, this.limits);
      } catch (e) {
        if (!isRetryable(e) || attempt >= retries) throw e;
        await this.backoff(attempt, (e as Error).message);
        continue;
      }
      // Only the registry's own challenge counts: a host it redirected to (blob storage) does not choose where credentials go.
      if (res.status === 401 && !challenged && url.origin === origin && res.headers['www-authenticate']) {
        await readBodyText(res.body);
        challenged = true;
        this.auth.challenged(res.headers['www-authenticate'], options.scope);
        attempt--;
        continue;
      }
      if ([301, 302, 303, 307, 308].includes(res.status) && res.headers.location && (method === 'GET' || method === 'HEAD')) {
        await readBodyText(res.body);
        // A redirect to another host (blob storage) gets no Authorization: see the origin check above.
        const next = new URL(res.headers.location, url);
        if (++redirects > MAX_REDIRECTS) throw protocolError(method, url, `more than ${MAX_REDIRECTS} redirects: a redirect loop`);
        if (url.protocol === 'https:' && next.protocol !== 'https:')
          throw protocolError(method, url, `redirected from https to ${next.protocol}//${next.host}: refused`);
        url = next;
        attempt--; // a redirect is not a failed attempt
        continue;
      }
      if (!options.expect.includes(res.status)) {
        const error = statusError(method, url, res.status, await readBodyText(res.body), this.options.registry);
        if (!error.details.retryable || attempt >= retries) throw error;
        const wait = Number(res.headers['retry-after']);
        await this.backoff(attempt, error.message, Number.isFinite(wait) && wait >= 0 && wait <= 300 ? wait * 1000 : undefined);
        continue;
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

  /** Tries to mount a blob from another repository of this registry: true when the registry did. */
  async mountBlob(repository: string, digest: string, from: string): Promise<boolean> {
    const scope = `${RegistryClient.scope(repository, 'pull,push')} ${RegistryClient.scope(from, 'pull')}`;
    const q = new URLSearchParams({ mount: digest, from });
    const res = await this.request('POST', `/v2/${repository}/blobs/uploads/?${q.toString()}`, {
      scope,
      headers: { 'content-length': '0' },
      expect: [201, 202],
    });
    await readBodyText(res.body);
    if (res.status === 202 && res.headers.location) {
      // The registry started an ordinary upload instead: cancel it, the caller uploads.
      const url = new URL(res.headers.location, this.base);
      const del = await this.request('DELETE', url.pathname + url.search, { scope, expect: [204, 404, 405], retry: false }).catch(() => undefined);
      del?.body.resume();
    }
    return res.status === 201;
  }

  /**
   * Uploads a blob of known digest, unless the registry has it already: one
   * streamed PUT, or in chunks (PATCH with Content-Range) when asked or when
   * the registry refuses the whole body as too large. A chunked upload
   * interrupted by a dropped connection resumes from the offset the registry
   * reports. The registry checks the digest when the upload is closed.
   */
  async uploadBlob(repository: string, source: BlobSource): Promise<'exists' | 'uploaded'> {
    const { digest, size } = source.descriptor;
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
        body: () => withProgress(source.open(), (bytes) => this.options.logger.progress(`uploading ${digest.slice(7, 19)}`, bytes, size)),
        expect: [201, 413],
        retry: false,
      });
      await readBodyText(put.body);
      if (put.status === 201) return this.checkStored(put, digest);
      this.options.logger.warn(`${this.options.registry} refused a ${size}-byte upload as too large; uploading in ${GHCR_MAX_CHUNK / 1048576} MiB chunks`);
    }
    const chunk = this.options.chunkSize ?? GHCR_MAX_CHUNK;
    return this.uploadChunks(repository, scope, digest, size, function* () {
      for (let offset = 0; offset < size; offset += chunk) {
        const end = Math.min(offset + chunk, size);
        yield { offset, length: end - offset, open: (skip = 0) => source.open(offset + skip, end - 1) };
      }
    });
  }

  /**
   * Uploads a blob whose digest is known only at the end (the `image` format's
   * tar layer), from a source that can be produced again, byte for byte.
   * Streamed in one request as docker and skopeo do, and when the connection
   * drops, resumed: the registry says how much it has, the source is produced
   * again and that much skipped (hashed, not sent). With a chunk size (GHCR:
   * 4 MiB), the stream is cut into chunks held in memory one at a time.
   */
  async uploadStream(repository: string, open: () => AsyncIterable<Buffer>): Promise<{ digest: string; size: number }> {
    const scope = RegistryClient.scope(repository, 'pull,push');
    const chunkSize = this.options.chunkSize ?? (/^ghcr\.io(:443)?$/.test(this.options.registry) ? GHCR_MAX_CHUNK : undefined);
    if (chunkSize) return this.uploadStreamChunked(repository, scope, open(), chunkSize);
    let location = await this.startUpload(repository, scope);
    let received = 0;
    let failures = 0;
    for (;;) {
      let counter = new DigestCounter();
      const skip = received;
      // A fresh pass each time the request is (re)sent.
      const body = (): Readable => {
        counter = new DigestCounter();
        const pass = counter;
        return Readable.from(
          (async function* () {
            for await (const data of open()) {
              const start = pass.size;
              pass.update(data);
              if (pass.size <= skip) continue;
              yield start >= skip ? data : data.subarray(skip - start);
            }
          })(),
        );
      };
      const url = new URL(location, this.base);
      try {
        const res = await this.request('PATCH', url.pathname + url.search, {
          scope,
          headers: { 'content-type': 'application/octet-stream' },
          body,
          expect: [202],
          retry: false,
        });
        res.body.resume();
        location = res.headers.location ?? location;
      } catch (e) {
        if (!isRetryable(e) || ++failures > (this.options.retries ?? 4)) throw e;
        await this.backoff(failures - 1, `streamed upload at byte ${counter.size} to ${repository}: ${(e as Error).message}`);
        const status = await this.uploadStatus(scope, location).catch((err: unknown) => {
          if (hasStatus(err, 404)) return undefined;
          throw err;
        });
        if (status) {
          location = status.location;
          received = status.received;
        } else {
          // The registry gave up the upload (distribution does when a request breaks off): start again.
          this.options.logger.warn(`${this.options.registry} dropped the interrupted upload; starting it again`);
          location = await this.startUpload(repository, scope);
          received = 0;
        }
        continue;
      }
      const { sha256, size } = counter.digest();
      const digest = `sha256:${sha256}`;
      this.options.logger.progress('uploaded', size, size);
      const close = new URL(location, this.base);
      close.searchParams.set('digest', digest);
      const put = await this.request('PUT', close.pathname + close.search, { scope, headers: { 'content-length': '0' }, expect: [201] });
      await readBodyText(put.body);
      this.checkStored(put, digest);
      return { digest, size };
    }
  }

  private async uploadStreamChunked(
    repository: string,
    scope: string,
    source: AsyncIterable<Buffer>,
    chunkSize: number,
  ): Promise<{ digest: string; size: number }> {
    const counter = new DigestCounter();
    // One buffer, reused: a chunk is sent (and resent if need be) before the next is filled.
    const buffer = Buffer.allocUnsafe(chunkSize);
    const chunks = async function* (): AsyncGenerator<UploadChunk> {
      let filled = 0;
      let offset = 0;
      for await (const data of source) {
        counter.update(data);
        let from = 0;
        while (from < data.length) {
          const n = Math.min(chunkSize - filled, data.length - from);
          data.copy(buffer, filled, from, from + n);
          filled += n;
          from += n;
          if (filled === chunkSize) {
            yield { offset, length: chunkSize, open: (skip = 0) => buffer.subarray(skip, chunkSize) };
            offset += chunkSize;
            filled = 0;
          }
        }
      }
      if (filled > 0) {
        const length = filled;
        yield { offset, length, open: (skip = 0) => buffer.subarray(skip, length) };
      }
    };
    let digest = '';
    await this.uploadChunks(
      repository,
      scope,
      () => digest,
      () => counter.size,
      chunks,
      () => {
        digest = `sha256:${counter.digest().sha256}`;
      },
    );
    return { digest, size: counter.size };
  }

  private async startUpload(repository: string, scope: string): Promise<string> {
    const start = await this.request('POST', `/v2/${repository}/blobs/uploads/`, { scope, headers: { 'content-length': '0' }, expect: [202] });
    start.body.resume();
    const location = start.headers.location;
    if (!location) throw protocolError('POST', new URL(`/v2/${repository}/blobs/uploads/`, this.base), 'the registry started an upload without a Location');
    return location;
  }

  private checkStored(res: HttpResponse, digest: string): 'uploaded' {
    const stored = res.headers['docker-content-digest'];
    if (stored && stored !== digest) throw new PiImageError('DIGEST_MISMATCH', `${this.options.registry} stored ${digest} as ${String(stored)}`);
    return 'uploaded';
  }

  /** Where the registry says an upload stands: the Location to continue at and the bytes it has. */
  private async uploadStatus(scope: string, location: string): Promise<{ location: string; received: number }> {
    const url = new URL(location, this.base);
    const res = await this.request('GET', url.pathname + url.search, { scope, expect: [204] });
    res.body.resume();
    const range = /^(?:bytes=)?0-(\d+)$/.exec(res.headers.range ?? '');
    // "0-0" is what distribution answers for an upload with no bytes yet (it cannot say "none"):
    // read it as 0, since a registry holding exactly one byte is the rarer case (and a resend from 0 is refused, not corrupted).
    const end = range ? Number(range[1]) : -1;
    return { location: res.headers.location ?? location, received: end <= 0 ? 0 : end + 1 };
  }

  /**
   * PATCHes chunks in order, then closes the upload with its digest. A chunk
   * that fails with a dropped connection, 429 or 5xx is sent again from the
   * offset the registry reports (the part it already has is skipped).
   */
  private async uploadChunks(
    repository: string,
    scope: string,
    digest: string | (() => string),
    size: number | (() => number),
    chunks: () => Iterable<UploadChunk> | AsyncIterable<UploadChunk>,
    beforeClose?: () => void,
  ): Promise<'uploaded'> {
    let location = await this.startUpload(repository, scope);
    const label = typeof digest === 'string' ? digest.slice(7, 19) : 'stream';
    for await (const chunk of chunks()) {
      let sent = 0;
      let failures = 0;
      while (sent < chunk.length) {
        const from = chunk.offset + sent;
        const end = chunk.offset + chunk.length - 1;
        const url = new URL(location, this.base);
        try {
          const skip = sent;
          const first = chunk.open(skip);
          let fresh = true;
          const replay = (): Readable => {
            if (fresh) {
              fresh = false;
              return first as Readable;
            }
            return chunk.open(skip) as Readable;
          };
          const res = await this.request('PATCH', url.pathname + url.search, {
            scope,
            headers: { 'content-type': 'application/octet-stream', 'content-length': String(end - from + 1), 'content-range': `${from}-${end}` },
            body: Buffer.isBuffer(first) ? first : replay,
            expect: [202],
            retry: false,
          });
          res.body.resume();
          location = res.headers.location ?? location;
          sent = chunk.length;
        } catch (e) {
          if (!isRetryable(e) || ++failures > (this.options.retries ?? 4)) throw e;
          await this.backoff(failures - 1, `chunk at ${from} of ${label}: ${(e as Error).message}`);
          // Resume where the registry says it stands, not from the start.
          const status = await this.uploadStatus(scope, location);
          location = status.location;
          if (status.received < chunk.offset || status.received > chunk.offset + chunk.length) {
            throw protocolError('PATCH', url, `the registry lost part of the upload (it has ${status.received} bytes, ${chunk.offset} were sent): start again`);
          }
          sent = status.received - chunk.offset;
        }
      }
      this.options.logger.progress(`uploading ${label}`, chunk.offset + chunk.length, typeof size === 'number' ? size : undefined);
    }
    beforeClose?.();
    const final = typeof digest === 'string' ? digest : digest();
    const url = new URL(location, this.base);
    url.searchParams.set('digest', final);
    const put = await this.request('PUT', url.pathname + url.search, { scope, headers: { 'content-length': '0' }, expect: [201] });
    await readBodyText(put.body);
    return this.checkStored(put, final);
  }

  /**
   * A blob's bytes, verified: the digest and size are checked as they stream
   * and the generator throws DIGEST_MISMATCH at the end if they do not match,
   * so a consumer commits nothing until it has finished. A connection that
   * drops mid-blob is resumed with a Range request.
   */
  async *readBlob(repository: string, descriptor: { digest: string; size?: number }): AsyncGenerator<Buffer> {
    const { digest, size: expected } = descriptor;
    if (!DIGEST.test(digest)) throw new PiImageError('DIGEST_MISMATCH', `not a sha256 digest: ${digest}`);
    yield* verifiedChunks(this.resumedBlob(repository, digest, expected), { size: expected, sha256: digest.slice(7) }, (found) => {
      if (found.larger) return new PiImageError('DIGEST_MISMATCH', `blob ${digest} is larger than the ${expected} bytes the manifest says: refused`);
      if (expected !== undefined && found.actual.size !== expected) {
        return new PiImageError('DIGEST_MISMATCH', `blob ${digest} is ${found.actual.size} bytes, the manifest says ${expected}: refused`);
      }
      return new PiImageError('DIGEST_MISMATCH', `blob ${digest} from ${this.options.registry} has digest sha256:${found.actual.sha256}: refused`);
    });
  }

  /** A blob's bytes as they come, a dropped or stalled download resumed with a Range request a few times. */
  private async *resumedBlob(repository: string, digest: string, expected: number | undefined): AsyncGenerator<Buffer> {
    const path = `/v2/${repository}/blobs/${digest}`;
    const scope = RegistryClient.scope(repository, 'pull');
    let got = 0;
    let failures = 0;
    for (;;) {
      const res = await this.request('GET', path, { scope, headers: got > 0 ? { range: `bytes=${got}-` } : {}, expect: got > 0 ? [200, 206] : [200] });
      if (got > 0 && res.status !== 206) {
        res.body.destroy();
        throw protocolError('GET', new URL(path, this.base), `the registry cannot resume ${digest} at byte ${got} (no Range support)`);
      }
      try {
        for await (const c of res.body) {
          const chunk = c as Buffer;
          got += chunk.length;
          this.options.logger.progress(`downloading ${digest.slice(7, 19)}`, got, expected);
          yield chunk;
        }
        return;
      } catch (e) {
        // A connection that broke off or stalled: resumed from where it stopped, a few times.
        if (e instanceof PiImageError && !isRetryable(e)) throw e;
        if (++failures > (this.options.retries ?? 4)) {
          throw transportError(
            'GET',
            new URL(path, this.base),
            'network',
            `download of ${digest} broke off at byte ${got}, ${failures} times: ${(e as Error).message}`,
            e,
          );
        }
        await this.backoff(failures - 1, `download of ${digest.slice(7, 19)} broke off at byte ${got}: ${(e as Error).message}`);
      }
    }
  }

  /** Raw bytes of a blob (or a range of it), unverified: for copying to a store that checks the digest itself. */
  openBlob(repository: string, digest: string, start?: number, end?: number): Readable {
    const request = this.request.bind(this);
    return Readable.from(
      (async function* () {
        const range: Record<string, string> = start !== undefined ? { range: `bytes=${start}-${end ?? ''}` } : {};
        const res = await request('GET', `/v2/${repository}/blobs/${digest}`, {
          scope: RegistryClient.scope(repository, 'pull'),
          headers: range,
          expect: start !== undefined ? [206] : [200],
        });
        for await (const c of res.body) yield c as Buffer;
      })(),
    );
  }

  /** The digest a tag points at, or undefined when there is no such tag. */
  async resolveManifest(repository: string, reference: string, accept: string[]): Promise<string | undefined> {
    checkManifestReference(reference);
    const res = await this.request('HEAD', `/v2/${repository}/manifests/${reference}`, {
      scope: RegistryClient.scope(repository, 'pull'),
      headers: { accept: accept.join(', ') },
      expect: [200, 404],
    });
    res.body.resume();
    if (res.status === 404) return undefined;
    const digest = res.headers['docker-content-digest'];
    if (typeof digest === 'string' && DIGEST.test(digest)) return digest;
    return (await this.getManifest(repository, reference, accept)).digest;
  }

  /**
   * The referrers of a manifest through the referrers API, or undefined when
   * the registry has no such API (then the `sha256-<hex>` tag is the fallback).
   */
  async getReferrers(repository: string, digest: string): Promise<Descriptor[] | undefined> {
    const res = await this.request('GET', `/v2/${repository}/referrers/${digest}`, {
      scope: RegistryClient.scope(repository, 'pull'),
      headers: { accept: OCI_INDEX },
      expect: [200, 400, 404, 405],
    });
    const text = await readBodyText(res.body, MAX_MANIFEST_BYTES);
    if (res.status !== 200 || !(res.headers['content-type'] ?? '').includes(OCI_INDEX)) return undefined;
    try {
      return ((JSON.parse(text) as { manifests?: Descriptor[] }).manifests ?? []).filter((d) => DIGEST.test(d.digest));
    } catch {
      return undefined;
    }
  }

  /** Pushes a manifest; `subjectAccepted` is true when the registry indexed its subject (referrers API). */
  async putManifest(repository: string, reference: string, mediaType: string, bytes: Buffer): Promise<string> {
    return (await this.pushManifest(repository, reference, mediaType, bytes)).digest;
  }

  async pushManifest(repository: string, reference: string, mediaType: string, bytes: Buffer): Promise<{ digest: string; subjectAccepted: boolean }> {
    checkManifestReference(reference);
    const digest = digestOf(bytes);
    const res = await this.request('PUT', `/v2/${repository}/manifests/${reference}`, {
      scope: RegistryClient.scope(repository, 'pull,push'),
      headers: { 'content-type': mediaType, 'content-length': String(bytes.length) },
      body: bytes,
      expect: [201],
    });
    res.body.resume();
    return { digest, subjectAccepted: res.headers['oci-subject'] !== undefined };
  }

  /** Fetches a manifest; when asked by digest, its bytes must hash to it. */
  async getManifest(repository: string, reference: string, accept: string[]): Promise<{ bytes: Buffer; mediaType: string; digest: string }> {
    checkManifestReference(reference);
    const res = await this.request('GET', `/v2/${repository}/manifests/${reference}`, {
      scope: RegistryClient.scope(repository, 'pull'),
      headers: { accept: accept.join(', ') },
      expect: [200],
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of res.body) {
      size += (c as Buffer).length;
      if (size > MAX_MANIFEST_BYTES) throw new PiImageError('DIGEST_MISMATCH', `manifest ${reference} is larger than ${MAX_MANIFEST_BYTES} bytes: refused`);
      chunks.push(c as Buffer);
    }
    const bytes = Buffer.concat(chunks);
    const digest = digestOf(bytes);
    if (DIGEST.test(reference) && digest !== reference)
      throw new PiImageError('DIGEST_MISMATCH', `manifest ${reference} from ${this.options.registry} has digest ${digest}: refused`);
    return { bytes, mediaType: res.headers['content-type'] ?? '', digest };
  }
}
