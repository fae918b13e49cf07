/**
 * A Fulcio of the tests' own for GitHub Actions identities. It checks what
 * Fulcio checks that can be checked here (the token's shape and issuer, the
 * proof of possession of the key) and issues certificates the way Fulcio does
 * for GitHub's issuer (sigstore/fulcio docs/oid-info.md): the subject is
 * `https://github.com/` + `job_workflow_ref` (for a called reusable workflow,
 * the *called* workflow), and the caller's repository, ref, commit, workflow,
 * trigger, run and runner are in Fulcio's extensions 1.3.6.1.4.1.57264.1.8–22.
 * The certificate itself is signed by the mock certificate authority of
 * @sigstore/mock, logged to its CT log, and trusted through the tests'
 * TrustedRoot. Only GitHub's signature on the token cannot be made here.
 */
import { createPublicKey, verify } from 'node:crypto';
import type { HandlerFn } from '@sigstore/mock';
import type { initializeCA } from '@sigstore/mock';

type CA = Awaited<ReturnType<typeof initializeCA>>;
interface Extension {
  oid: string;
  value: string;
  legacy?: boolean;
}

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
const GITHUB = 'https://github.com';
const OID = (n: number): string => `1.3.6.1.4.1.57264.1.${n}`;

/** A GitHub Actions run, as the claims of its OIDC token describe it. */
export interface GithubRun {
  /** The repository the run belongs to (the caller, for a reusable workflow): OWNER/NAME. */
  repository: string;
  /** The ref it runs for: refs/heads/main, refs/tags/v1.2.3. */
  ref?: string;
  sha?: string;
  /** The workflow file the run started from, at its ref: OWNER/NAME/.github/workflows/F.yml@REF. Default: release.yml of the repository at `ref`. */
  workflowRef?: string;
  /** The workflow running the job (job_workflow_ref): a called reusable workflow, or workflowRef. */
  jobWorkflowRef?: string;
  runnerEnvironment?: 'github-hosted' | 'self-hosted';
  eventName?: string;
}

export function githubClaims(run: GithubRun): Record<string, string | number> {
  const ref = run.ref ?? 'refs/heads/main';
  const sha = run.sha ?? '0123456789abcdef0123456789abcdef01234567';
  const workflowRef = run.workflowRef ?? `${run.repository}/.github/workflows/release.yml@${ref}`;
  const jobWorkflowRef = run.jobWorkflowRef ?? workflowRef;
  const owner = run.repository.split('/')[0]!;
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: GITHUB_ISSUER,
    aud: 'sigstore',
    sub: `repo:${run.repository}:ref:${ref}`,
    iat: now,
    nbf: now,
    exp: now + 600,
    repository: run.repository,
    repository_id: String(run.repository.length * 7919),
    repository_owner: owner,
    repository_owner_id: String(owner.length * 104729),
    repository_visibility: 'public',
    ref,
    ref_type: ref.startsWith('refs/tags/') ? 'tag' : 'branch',
    sha,
    workflow: 'release',
    workflow_ref: workflowRef,
    workflow_sha: sha,
    job_workflow_ref: jobWorkflowRef,
    job_workflow_sha: jobWorkflowRef.startsWith(`${run.repository}/`) ? sha : 'fedcba9876543210fedcba9876543210fedcba98',
    runner_environment: run.runnerEnvironment ?? 'github-hosted',
    event_name: run.eventName ?? 'push',
    run_id: '4242',
    run_number: '7',
    run_attempt: '1',
    actor: 'octocat',
  };
}

/** The certificate extensions Fulcio derives from GitHub's claims. */
export function githubExtensions(c: Record<string, unknown>): Extension[] {
  const s = (k: string): string | undefined => (typeof c[k] === 'string' ? c[k] : undefined);
  const out: Extension[] = [];
  const add = (n: number, value: string | undefined, legacy = false): void => {
    if (value !== undefined) out.push({ oid: OID(n), value, ...(legacy ? { legacy } : {}) });
  };
  add(2, s('event_name'), true);
  add(3, s('sha'), true);
  add(4, s('workflow'), true);
  add(5, s('repository'), true);
  add(6, s('ref'), true);
  add(9, s('job_workflow_ref') && `${GITHUB}/${s('job_workflow_ref')}`);
  add(10, s('job_workflow_sha'));
  add(11, s('runner_environment'));
  add(12, s('repository') && `${GITHUB}/${s('repository')}`);
  add(13, s('sha'));
  add(14, s('ref'));
  add(15, s('repository_id'));
  add(16, s('repository_owner') && `${GITHUB}/${s('repository_owner')}`);
  add(17, s('repository_owner_id'));
  add(18, s('workflow_ref') && `${GITHUB}/${s('workflow_ref')}`);
  add(19, s('workflow_sha'));
  add(20, s('event_name'));
  add(
    21,
    s('repository') && s('run_id') && s('run_attempt') ? `${GITHUB}/${s('repository')}/actions/runs/${s('run_id')}/attempts/${s('run_attempt')}` : undefined,
  );
  add(22, s('repository_visibility'));
  return out;
}

function decodeClaims(token: string): Record<string, unknown> {
  const part = token.split('.')[1];
  if (!part) throw new Error('the identity token is not a JWT');
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

export function githubFulcioHandler(ca: CA): { path: string; fn: HandlerFn } {
  return {
    path: '/api/v2/signingCert',
    fn: async (body) => {
      try {
        const request = JSON.parse(body) as {
          credentials: { oidcIdentityToken: string };
          publicKeyRequest: { publicKey: { content: string }; proofOfPossession: string };
        };
        const claims = decodeClaims(request.credentials.oidcIdentityToken);
        const iss = typeof claims.iss === 'string' ? claims.iss : '';
        const sub = typeof claims.sub === 'string' ? claims.sub : '';
        const exp = Number(claims.exp ?? 0);
        if (!iss || !sub) throw new Error('the token has no issuer or subject');
        if (exp * 1000 < Date.now()) throw new Error('the token has expired');
        const key = createPublicKey(request.publicKeyRequest.publicKey.content);
        if (!verify('sha256', Buffer.from(sub), key, Buffer.from(request.publicKeyRequest.proofOfPossession, 'base64'))) {
          throw new Error('the proof of possession does not verify');
        }
        let subject: string;
        const extensions: Extension[] = [
          { oid: OID(1), value: iss, legacy: true },
          { oid: OID(8), value: iss },
        ];
        if (iss === GITHUB_ISSUER) {
          if (typeof claims.job_workflow_ref !== 'string') throw new Error('a GitHub token must carry job_workflow_ref');
          subject = `${GITHUB}/${claims.job_workflow_ref}`;
          extensions.push(...githubExtensions(claims));
        } else {
          subject = typeof claims.email === 'string' ? claims.email : sub;
        }
        const der = key.export({ type: 'spki', format: 'der' });
        const cert = await ca.issueCertificate({ publicKey: new Uint8Array(der), subjectAltName: subject, extensions });
        const pem = (b: ArrayBufferView): string =>
          `-----BEGIN CERTIFICATE-----\n${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64')}\n-----END CERTIFICATE-----\n`;
        return {
          statusCode: 201,
          contentType: 'application/json',
          response: JSON.stringify({ signedCertificateEmbeddedSct: { chain: { certificates: [pem(cert), pem(ca.rootCertificate)] } } }),
        };
      } catch (e) {
        return { statusCode: 400, response: (e as Error).message };
      }
    },
  };
}
