/**
 * Records a Sigstore bundle as a GitHub artifact attestation
 * (POST /repos/{owner}/{repo}/attestations; the job needs
 * `permissions: attestations: write`). GitHub-only; the library stays free of it.
 */
import { PiImageError } from '../lib/core/errors';

export async function recordAttestation(bundle: unknown, token: string, env: Record<string, string | undefined>): Promise<string> {
  const api = env.GITHUB_API_URL ?? 'https://api.github.com';
  const repo = env.GITHUB_REPOSITORY;
  if (!repo) throw new PiImageError('INPUT_INVALID', 'GITHUB_REPOSITORY is not set: attestations are recorded from a workflow');
  const response = await fetch(`${api}/repos/${repo}/attestations`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'application/vnd.github+json',
      'content-type': 'application/json',
      'x-github-api-version': '2022-11-28',
    },
    body: JSON.stringify({ bundle }),
  });
  const text = await response.text();
  if (!response.ok) {
    const hint = response.status === 403 ? ' (does the job have permissions: attestations: write?)' : '';
    throw new PiImageError('SIGNING_FAILED', `GitHub refused the attestation: ${response.status} ${text.slice(0, 300)}${hint}`);
  }
  const id = (JSON.parse(text) as { id?: number | string }).id;
  return String(id ?? '');
}
