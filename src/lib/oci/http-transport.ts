/**
 * One HTTP request to a registry, with deadlines: an answer within the
 * response timeout, bytes moving at least at the low-speed limit while a body
 * is sent or received, and (when set) an overall limit. A request that breaks
 * one fails with a RegistryError saying which, so the client can retry it.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { PassThrough, Transform, type Readable, type TransformCallback } from 'node:stream';
import { PiImageError } from '../core/errors';
import { transportError } from './registry-error';
import type { TransferLimits } from './transfer-limits';

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body; its bytes are watched by the low-speed limit and the overall deadline until it ends. */
  body: Readable;
}

/** A body as bytes, or as a factory (called once per attempt). */
export type RequestBody = Buffer | (() => Readable) | undefined;

/** Counts bytes through itself, for the low-speed watchdog. */
class Counter extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

export function sendRequest(method: string, url: URL, headers: Record<string, string>, body: RequestBody, limits: TransferLimits): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const timers = new Set<NodeJS.Timeout>();
    const clearAll = (): void => {
      // clearTimeout clears intervals too (one timer type in Node).
      for (const t of timers) clearTimeout(t);
      timers.clear();
    };
    let failure: PiImageError | undefined;
    let settled = false;
    let response: PassThrough | undefined;
    /** The first failure wins: a watchdog's, or the request body's own (a file that changed while it was sent). */
    const fail = (e: PiImageError): void => {
      if (failure) return;
      failure = e;
      clearAll();
      req.destroy(e);
      response?.destroy(e);
      if (!settled) {
        settled = true;
        reject(e);
      }
    };

    const fn = url.protocol === 'https:' ? httpsRequest : httpRequest;
    let responseTimer: NodeJS.Timeout | undefined;
    const armResponseTimer = (seconds: number, what: string): void => {
      if (responseTimer) {
        clearTimeout(responseTimer);
        timers.delete(responseTimer);
      }
      responseTimer = setTimeout(() => fail(transportError(method, url, 'timeout', what)), seconds * 1000);
      timers.add(responseTimer);
    };
    const req = fn(url, { method, headers }, (res) => {
      if (responseTimer) {
        clearTimeout(responseTimer);
        timers.delete(responseTimer);
      }
      const counter = new Counter();
      response = new PassThrough();
      response.on('error', () => undefined); // a body nobody reads may still be failed by a watchdog
      res.on('error', (e) => fail(transportError(method, url, 'network', `the answer broke off: ${e.message}`, e)));
      res.pipe(counter).pipe(response);
      watchSpeed(() => counter.bytes, 'receiving');
      response.on('close', clearAll);
      settled = true;
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: response });
    });
    req.on('error', (e) => fail(failure ?? transportError(method, url, 'network', e.message, e)));

    // No answer: measured from the start for a small request; a streamed body is watched by its
    // speed while it is sent, and the answer timed from its last byte.
    const streamed = body !== undefined && !Buffer.isBuffer(body);
    if (!streamed) armResponseTimer(limits.responseSeconds, `no answer within ${limits.responseSeconds} s`);
    if (limits.maxTimeSeconds > 0) {
      timers.add(
        setTimeout(
          () => fail(transportError(method, url, 'timeout', `took longer than ${limits.maxTimeSeconds} s (--max-time)`)),
          limits.maxTimeSeconds * 1000,
        ),
      );
    }

    /** Fails the request when fewer than speedLimit × speedTime bytes moved in a window. */
    function watchSpeed(bytes: () => number, what: string): NodeJS.Timeout | undefined {
      if (limits.speedLimit === 0) return undefined;
      let last = bytes();
      const interval = setInterval(() => {
        const now = bytes();
        if (now - last < limits.speedLimit * limits.speedTimeSeconds) {
          fail(
            transportError(
              method,
              url,
              'stalled',
              `${what} slower than ${limits.speedLimit} bytes/s for ${limits.speedTimeSeconds} s (${now - last} bytes): stalled`,
            ),
          );
        }
        last = now;
      }, limits.speedTimeSeconds * 1000);
      timers.add(interval);
      return interval;
    }

    if (Buffer.isBuffer(body)) req.end(body);
    else if (body) {
      const counter = new Counter();
      const sending = watchSpeed(() => counter.bytes, 'sending');
      const stream = body();
      // The body's own error (not the network's) is what the caller hears: it may not be worth a retry.
      stream.on('error', (e) => fail(e instanceof PiImageError ? e : transportError(method, url, 'network', `the request body failed: ${e.message}`, e)));
      req.on('finish', () => {
        // All sent: now the registry has the response timeout to answer.
        if (sending) {
          clearInterval(sending);
          timers.delete(sending);
        }
        if (!response && !failure) armResponseTimer(limits.responseSeconds, `no answer within ${limits.responseSeconds} s of the last byte sent`);
      });
      stream.pipe(counter).pipe(req);
    } else req.end();
  });
}

/**
 * A response body as text, at most `limit` bytes of it: a longer body is cut
 * there and the rest never read (its connection is dropped), so a registry
 * streaming an endless error page costs `limit` bytes, not the time it takes.
 */
export async function readBodyText(body: Readable, limit = 64 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size >= limit) break;
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}
