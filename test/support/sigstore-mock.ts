/**
 * Sigstore's mock Rekor and timestamp authority (@sigstore/mock) and a Fulcio
 * of the tests' own that issues certificates as Fulcio does for GitHub Actions
 * (github-fulcio.ts), served over HTTP on loopback with the TrustedRoot that
 * matches them: real services in all but their keys, which are made fresh for
 * each test run. Identity tokens carry GitHub's claims (nobody here can make
 * GitHub's signature on them, so it is not checked).
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { initializeCA, initializeCTLog, initializeTLog, initializeTSA, rekorHandler, tsaHandler, type HandlerFn } from '@sigstore/mock';
import { GITHUB_ISSUER, githubClaims, githubFulcioHandler, type GithubRun } from './github-fulcio';

export interface SigstoreMock {
  url: string;
  trustedRoot: Record<string, unknown>;
  /** An OIDC token of a GitHub Actions run: the certificate gets GitHub's subject and extensions. */
  githubToken(run: GithubRun): string;
  /** An OIDC token of another issuer for `sub` (an email or URI): the certificate's subject is `sub`. */
  token(sub: string, iss: string): string;
  requests: string[];
  close(): Promise<void>;
}

export { GITHUB_ISSUER, type GithubRun };

const b64 = (b: ArrayBufferView | Buffer): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
const b64url = (s: string): string => Buffer.from(s).toString('base64url');
/** A JWT with the claims given and a signature nobody checks here (only GitHub could make the real one). */
const jwt = (claims: Record<string, unknown>): string =>
  `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}.bm90LXNpZ25lZA`;

export async function startSigstoreMock(): Promise<SigstoreMock> {
  const routes = new Map<string, HandlerFn>();
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push(`${req.method} ${req.url}`);
      const fn = req.method === 'POST' ? routes.get(req.url ?? '') : undefined;
      if (!fn) {
        res.writeHead(404).end();
        return;
      }
      fn(Buffer.concat(chunks).toString('utf8')).then(
        (r) => res.writeHead(r.statusCode, { 'content-type': r.contentType ?? 'application/json' }).end(r.response),
        (e: Error) => res.writeHead(500).end(e.message),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const key = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ctlog = await initializeCTLog(key());
  // Certificates valid from a minute before the mock started (for ten minutes): the mock TSA and
  // Rekor stamp times with whole seconds, which in the second a certificate is issued can fall
  // before a notBefore taken from the same clock ("invalid time", about one run in ten).
  const ca = await initializeCA(key(), ctlog, new Date(Date.now() - 60_000));
  const tlog = await initializeTLog(url, key());
  // The TSA's clock stands still at the mock's start, at a millisecond that ends in a nonzero digit:
  // asn1js writes GeneralizedTime without trailing zeros (.12Z for 120 ms), which @sigstore/core's
  // parser refuses ("invalid time": the TSA test failed about one run in ten).
  const tsa = await initializeTSA(key(), new Date(Math.floor(Date.now() / 1000) * 1000 + 111));
  const fulcio = githubFulcioHandler(ca);
  const rekor = rekorHandler(tlog, { strict: true });
  const timestamps = tsaHandler(tsa, { strict: true });
  routes.set(fulcio.path, fulcio.fn);
  routes.set(rekor.path, rekor.fn);
  routes.set(timestamps.path, timestamps.fn);

  const start = '2000-01-01T00:00:00Z';
  const trustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [
      {
        baseUrl: url,
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: b64(tlog.publicKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start } },
        logId: { keyId: createHash('sha256').update(tlog.publicKey).digest('base64') },
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
        uri: url,
        certChain: { certificates: [{ rawBytes: b64(ca.rootCertificate) }] },
        validFor: { start },
      },
    ],
    ctlogs: [
      {
        baseUrl: url,
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: b64(ctlog.publicKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start } },
        logId: { keyId: b64(ctlog.logID) },
      },
    ],
    timestampAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'sigstore-tsa' },
        uri: url,
        certChain: { certificates: [{ rawBytes: b64(tsa.intCertificate) }, { rawBytes: b64(tsa.rootCertificate) }] },
        validFor: { start },
      },
    ],
  };

  return {
    url,
    trustedRoot,
    requests,
    githubToken: (run) => jwt(githubClaims(run)),
    token: (sub, iss) => jwt({ iss, sub, aud: 'sigstore', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 600 }),
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
