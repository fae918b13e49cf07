/**
 * An HTTP proxy standing between the client and a real registry on loopback,
 * breaking chosen requests on purpose: answering 500 or 429, or dropping the
 * connection halfway through a request or response body. Locations the
 * registry returns are rewritten so the client keeps talking through it.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * drop-request: the body is read halfway and the connection dropped, nothing forwarded;
 * cut-request: the body is forwarded halfway (a streamed one: 256 KiB), then both connections dropped,
 * so the registry holds part of it; drop-response: the response is cut off halfway.
 */
export type Fault = 'status-500' | 'status-429' | 'status-413' | 'drop-request' | 'cut-request' | 'drop-response';

export interface FaultRule {
  method: string;
  /** Matches the request path. */
  path: RegExp;
  fault: Fault;
  /** Which matching request to break, 1-based (default: the first), or every one. */
  nth?: number | 'every';
}

export interface FaultProxy {
  host: string;
  /** Faults injected so far, as "METHOD path fault". */
  injected: string[];
  close(): Promise<void>;
}

export async function startFaultProxy(target: string, rules: FaultRule[]): Promise<FaultProxy> {
  const injected: string[] = [];
  const seen = new Map<FaultRule, number>();
  let self = '';
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const rule = rules.find((r) => {
      if (r.method !== req.method || !r.path.test(req.url ?? '')) return false;
      const n = (seen.get(r) ?? 0) + 1;
      seen.set(r, n);
      return r.nth === 'every' || n === (r.nth ?? 1);
    });
    if (rule) injected.push(`${req.method} ${req.url?.split('?')[0]} ${rule.fault}`);
    if (rule?.fault.startsWith('status-')) {
      req.resume();
      req.on('end', () => res.writeHead(Number(rule.fault.slice(7)), { 'retry-after': '0' }).end('injected fault'));
      return;
    }
    if (rule?.fault === 'drop-request') {
      let got = 0;
      // Half of a declared body; a streamed one (no length) after 64 KiB.
      const half = req.headers['content-length'] !== undefined ? Number(req.headers['content-length']) / 2 : 64 * 1024;
      req.on('data', (c: Buffer) => {
        got += c.length;
        if (got >= half) req.socket.destroy();
      });
      if (half === 0) req.socket.destroy();
      return;
    }
    const upstream = request(
      { host: target.split(':')[0], port: Number(target.split(':')[1]), method: req.method, path: req.url, headers: { ...req.headers, host: target } },
      (up) => {
        const headers = { ...up.headers };
        if (headers.location) headers.location = headers.location.replace(`//${target}`, `//${self}`);
        res.writeHead(up.statusCode ?? 502, headers);
        if (rule?.fault === 'drop-response') {
          let sent = 0;
          const half = Number(up.headers['content-length'] ?? 0) / 2;
          up.on('data', (c: Buffer) => {
            sent += c.length;
            res.write(c);
            if (sent >= half) res.socket?.destroy();
          });
          return;
        }
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    if (rule?.fault === 'cut-request') {
      const limit = req.headers['content-length'] !== undefined ? Number(req.headers['content-length']) / 2 : 256 * 1024;
      let forwarded = 0;
      req.on('data', (c: Buffer) => {
        if (forwarded >= limit) return;
        const part = c.subarray(0, Math.max(0, limit - forwarded));
        forwarded += part.length;
        upstream.write(part);
        if (forwarded >= limit) {
          // Give the registry a moment to store what it got, then cut both sides.
          setTimeout(() => {
            upstream.destroy();
            req.socket.destroy();
          }, 200);
        }
      });
      return;
    }
    req.pipe(upstream);
  };
  const server: Server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  self = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host: self,
    injected,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
