/**
 * Where the OIDC identity token for keyless signing comes from: SIGSTORE_ID_TOKEN
 * when set (any CI or a person with a token), else GitHub Actions' OIDC
 * service when the job has `id-token: write`, asked with the request URL and
 * token the runner provides in the environment given (never another one).
 */
import { PiImageError } from '../core/errors';
import { registerSecret } from '../core/secrets';

/** The audience Fulcio expects in a token. */
const SIGSTORE_AUDIENCE = 'sigstore';
const OIDC_TIMEOUT_MS = 30_000;
const MAX_OIDC_ANSWER = 64 * 1024;

export function identityTokenSource(env: Record<string, string | undefined>): () => Promise<string> {
  if (env.SIGSTORE_ID_TOKEN) {
    const token = env.SIGSTORE_ID_TOKEN;
    registerSecret(token);
    return () => Promise.resolve(token);
  }
  const requestUrl = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const requestToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (requestUrl && requestToken) {
    registerSecret(requestToken);
    return () => githubOidcToken(requestUrl, requestToken);
  }
  return () =>
    Promise.reject(
      new PiImageError('INPUT_INVALID', 'no identity token for signing: set SIGSTORE_ID_TOKEN, or run in GitHub Actions with `permissions: id-token: write`'),
    );
}

/** Asks GitHub Actions' OIDC service for a token with the sigstore audience; anything but a token in its answer is SIGNING_FAILED. */
async function githubOidcToken(requestUrl: string, requestToken: string): Promise<string> {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch (e) {
    throw new PiImageError('INPUT_INVALID', `ACTIONS_ID_TOKEN_REQUEST_URL is not a URL`, { cause: e });
  }
  url.searchParams.set('audience', SIGSTORE_AUDIENCE);
  const where = `GitHub's OIDC service (${url.origin})`;
  let status: number;
  let text = '';
  try {
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${requestToken}`, accept: 'application/json' },
      signal: AbortSignal.timeout(OIDC_TIMEOUT_MS),
    });
    status = res.status;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body ?? []) {
      chunks.push(Buffer.from(chunk as Uint8Array));
      size += (chunk as Uint8Array).length;
      if (size > MAX_OIDC_ANSWER) throw new Error(`an answer of more than ${MAX_OIDC_ANSWER} bytes`);
    }
    text = Buffer.concat(chunks).toString('utf8');
  } catch (e) {
    throw new PiImageError('SIGNING_FAILED', `${where} gave no token: ${(e as Error).message}`, { cause: e });
  }
  if (status !== 200) {
    const hint = status === 401 || status === 403 ? ' (does the job have `permissions: id-token: write`?)' : '';
    throw new PiImageError('SIGNING_FAILED', `${where} answered ${status}${hint}`);
  }
  let value: unknown;
  try {
    value = (JSON.parse(text) as { value?: unknown }).value;
  } catch {
    value = undefined;
  }
  if (typeof value !== 'string' || !/^[\w-]+\.[\w-]+\.[\w-]*$/.test(value)) {
    throw new PiImageError('SIGNING_FAILED', `${where} answered without a token (no JWT in its "value")`);
  }
  registerSecret(value);
  return value;
}

/**
 * The claims of an OIDC token, decoded without checking its signature: used
 * only to describe the build (the provenance's builder), never to trust it;
 * Fulcio checks the token and puts what counts into the certificate.
 */
export function tokenClaims(token: string): Record<string, unknown> {
  const payload = token.split('.')[1];
  if (!payload) return {};
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
    return typeof claims === 'object' && claims !== null && !Array.isArray(claims) ? (claims as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * The builder a token describes: on GitHub Actions the workflow that runs the
 * job (a reusable one, when called), on the server the job runs on.
 */
export function builderFromClaims(claims: Record<string, unknown>, serverUrl = 'https://github.com'): string | undefined {
  const ref = claims.job_workflow_ref;
  return typeof ref === 'string' && ref !== '' ? `${serverUrl.replace(/\/+$/, '')}/${ref}` : undefined;
}
