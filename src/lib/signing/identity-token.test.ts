import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { PiImageError } from '../core/errors';
import { builderFromClaims, identityTokenSource, tokenClaims } from './identity-token';

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const jwt = (claims: unknown): string => `${b64({ alg: 'RS256' })}.${b64(claims)}.c2lnbmF0dXJl`;

describe('identityTokenSource', () => {
  it('returns SIGSTORE_ID_TOKEN when set, ahead of GitHub Actions', async () => {
    const source = identityTokenSource({
      SIGSTORE_ID_TOKEN: 'a.b.c',
      ACTIONS_ID_TOKEN_REQUEST_URL: 'http://127.0.0.1:9/x',
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 't',
    });
    await expect(source()).resolves.toBe('a.b.c');
  });

  it.each<[string, Record<string, string>]>([
    ['nothing is set', {}],
    ['SIGSTORE_ID_TOKEN is empty', { SIGSTORE_ID_TOKEN: '' }],
    ['only the GitHub request URL is set', { ACTIONS_ID_TOKEN_REQUEST_URL: 'http://127.0.0.1:9/x' }],
    ['only the GitHub request token is set', { ACTIONS_ID_TOKEN_REQUEST_TOKEN: 't' }],
  ])('rejects with INPUT_INVALID, saying what to set, when %s', async (_label, env) => {
    const source = identityTokenSource(env);
    const error: unknown = await source().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PiImageError);
    expect(error).toMatchObject({
      code: 'INPUT_INVALID',
      message: 'no identity token for signing: set SIGSTORE_ID_TOKEN, or run in GitHub Actions with `permissions: id-token: write`',
    });
  });

  describe("from GitHub Actions' OIDC service", () => {
    let server: Server | undefined;
    const requests: { url: string; headers: IncomingHttpHeaders }[] = [];
    let base = '';
    beforeAll(async () => {
      server = createServer((req, res) => {
        requests.push({ url: req.url ?? '', headers: req.headers });
        const path = (req.url ?? '').split('?')[0];
        if (path === '/denied') {
          res.writeHead(403, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ message: 'no id-token permission' }));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(path === '/empty' ? JSON.stringify({ count: 0 }) : JSON.stringify({ value: 'oidc.from.github' }));
      });
      await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => server?.close());
    afterEach(() => vi.unstubAllEnvs());

    it('asks the runner for a token with the sigstore audience and the request token, from the environment given only', async () => {
      // Nothing in process.env: the environment passed in is the one read.
      for (const k of ['ACTIONS_ID_TOKEN_REQUEST_URL', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN', 'SIGSTORE_ID_TOKEN']) vi.stubEnv(k, undefined);
      const env = { ACTIONS_ID_TOKEN_REQUEST_URL: `${base}/token?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token' };
      await expect(identityTokenSource(env)()).resolves.toBe('oidc.from.github');
      expect(requests).toHaveLength(1);
      expect(requests[0]!.url).toBe('/token?api-version=2.0&audience=sigstore');
      expect(requests[0]!.headers.authorization).toBe('Bearer request-token');
    });

    it.each([
      ['/denied', /GitHub's OIDC service \(http:\/\/127\.0\.0\.1:\d+\) answered 403 \(does the job have `permissions: id-token: write`\?\)/],
      ['/empty', /answered without a token \(no JWT in its "value"\)/],
    ])('an answer from %s without a token is SIGNING_FAILED, not a crash later', async (path, message) => {
      const env = { ACTIONS_ID_TOKEN_REQUEST_URL: `${base}${path}`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token' };
      const error = await identityTokenSource(env)().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PiImageError);
      expect(error).toMatchObject({ code: 'SIGNING_FAILED', message: expect.stringMatching(message) });
    });
  });
});

describe('tokenClaims', () => {
  it("decodes the payload's claims without checking the signature", () => {
    const claims = { iss: 'https://token.actions.githubusercontent.com', job_workflow_ref: 'acme/app/.github/workflows/release.yml@refs/heads/main', n: 1 };
    expect(tokenClaims(jwt(claims))).toEqual(claims);
  });

  it.each<[string, string]>([
    ['an empty string', ''],
    ['no dots', 'opaque-token'],
    ['an empty payload', 'a..c'],
    ['a payload that is not JSON', `a.${Buffer.from('not json').toString('base64url')}.c`],
    ['a payload that is JSON null', `a.${b64(null)}.c`],
    ['a payload that is a JSON string', `a.${b64('text')}.c`],
    ['a payload that is a JSON array', `a.${b64([1])}.c`],
  ])('is {} for %s', (_label, token) => {
    expect(tokenClaims(token)).toEqual({});
  });
});

describe('builderFromClaims', () => {
  const ref = 'acme/app/.github/workflows/release.yml@refs/tags/v1';

  it('is the workflow that runs the job, on github.com by default', () => {
    expect(builderFromClaims({ job_workflow_ref: ref })).toBe(`https://github.com/${ref}`);
  });

  it('is on the server given, without doubled slashes', () => {
    expect(builderFromClaims({ job_workflow_ref: ref }, 'https://ghe.example.com//')).toBe(`https://ghe.example.com/${ref}`);
  });

  it.each<[string, Record<string, unknown>]>([
    ['no job_workflow_ref', { sub: 'repo:acme/app:ref:refs/heads/main' }],
    ['an empty job_workflow_ref', { job_workflow_ref: '' }],
    ['a job_workflow_ref that is not a string', { job_workflow_ref: ['x'] }],
  ])('is undefined for %s', (_label, claims) => {
    expect(builderFromClaims(claims)).toBeUndefined();
  });
});
