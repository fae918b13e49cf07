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
    return async () => token;
  }
  if (env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN) {
    const provider = new CIContextProvider('sigstore');
    return () => provider.getToken();
  }
  return async () => {
    throw new PiImageError(
      'INPUT_INVALID',
      'no identity token for signing: set SIGSTORE_ID_TOKEN, or run in GitHub Actions with `permissions: id-token: write`',
    );
  };
}
