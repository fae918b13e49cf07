/**
 * Where the OIDC identity token for keyless signing comes from: SIGSTORE_ID_TOKEN
 * when set (any CI or a person with a token), else GitHub Actions' OIDC
 * service when the job has `id-token: write` (sigstore-js reads the request
 * URL and token the runner provides).
 */
import { CIContextProvider } from '@sigstore/sign';
import { PiImageError } from '../core/errors';

export function identityTokenSource(env: Record<string, string | undefined>): () => Promise<string> {
  if (env.SIGSTORE_ID_TOKEN) {
    const token = env.SIGSTORE_ID_TOKEN;
    return () => Promise.resolve(token);
  }
  if (env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
    const provider = new CIContextProvider('sigstore');
    return () => provider.getToken();
  }
  return () =>
    Promise.reject(
      new PiImageError('INPUT_INVALID', 'no identity token for signing: set SIGSTORE_ID_TOKEN, or run in GitHub Actions with `permissions: id-token: write`'),
    );
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
    return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : {};
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
