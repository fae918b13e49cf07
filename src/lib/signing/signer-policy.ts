/**
 * Whose signature a verifier accepts. Keyless Sigstore certificates name an
 * identity, not a key, so the policy is about identities:
 *
 * - the OIDC issuer, and the certificate subject (exact, or a pattern anchored
 *   at both ends);
 * - for GitHub Actions, from Fulcio's extensions: the source repository whose
 *   commit was built, its ref, the signer workflow (the reusable workflow or
 *   the workflow file that ran the signing job) and a GitHub-hosted runner.
 *
 * The repository check is what makes a reusable workflow safe to trust: any
 * repository may call `OWNER/pi-image-release/.github/workflows/pipeline.yml`
 * and get a certificate with that very subject. So a policy for GitHub's
 * issuer always pins a source repository: the one given, or the signer
 * workflow's own repository when none is given.
 *
 * Parsing is pure: the CLI and the actions turn their flags or inputs into
 * SignerOptionValues and get the same policy and the same errors, each naming
 * the option at fault.
 */
import { PiImageError } from '../core/errors';
import { parseBoolean } from '../core/values';
import type { Signer } from './signer-certificate';

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
const GITHUB = 'https://github.com';

export interface SignerPolicy {
  issuer: string;
  /** The certificate subject: exact, or a pattern matched against the whole subject. */
  subject?: { exact: string } | { pattern: string } | undefined;
  /** Source Repository URI (compared without regard to case, as GitHub names are). */
  repository?: string | undefined;
  /** Source Repository Identifier: the repository's immutable id (survives renames; a re-created name gets a new one). */
  repositoryId?: string | undefined;
  /** Source Repository Ref: exact, or with `*` matching any characters. */
  sourceRef?: string | undefined;
  /** The signer workflow's URI, with `@REF` to pin its ref (`*` allowed there), or without for any ref. */
  signerWorkflow?: string | undefined;
  /** Require Fulcio's runner environment `github-hosted`. */
  githubHosted?: boolean | undefined;
}

/** The options every verifying front end takes, as given (unset = undefined). */
export interface SignerOptionValues {
  certificateIdentity?: string | undefined;
  certificateIdentityRegexp?: string | undefined;
  certificateOidcIssuer?: string | undefined;
  repository?: string | undefined;
  repositoryId?: string | undefined;
  sourceRef?: string | undefined;
  signerWorkflow?: string | undefined;
  requireGithubHosted?: boolean | undefined;
}

/** The option names, as the CLI (--NAME) and the actions (NAME) spell them. */
export const SIGNER_OPTION_NAMES: Record<keyof SignerOptionValues, string> = {
  certificateIdentity: 'certificate-identity',
  certificateIdentityRegexp: 'certificate-identity-regexp',
  certificateOidcIssuer: 'certificate-oidc-issuer',
  repository: 'repository',
  repositoryId: 'repository-id',
  sourceRef: 'source-ref',
  signerWorkflow: 'signer-workflow',
  requireGithubHosted: 'require-github-hosted',
};

const OWNER_REPO = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
const WORKFLOW_PATH = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/\.github\/workflows\/[A-Za-z0-9_.-]+\.ya?ml$/;

function bad(message: string): PiImageError {
  return new PiImageError('INPUT_INVALID', message);
}

/** OWNER/NAME, or a full https URL of a repository. */
export function repositoryUri(value: string, name: string): string {
  const v = value
    .trim()
    .replace(/\/+$/, '')
    .replace(/\.git$/, '');
  if (OWNER_REPO.test(v)) return `${GITHUB}/${v}`;
  if (/^https:\/\/[^/\s]+\/[^/\s]+\/[^/\s]+$/.test(v)) return v;
  throw bad(`${name} "${value}" is not a repository: give OWNER/NAME (GitHub) or https://HOST/OWNER/NAME`);
}

/** OWNER/REPO/.github/workflows/FILE.yml[@REF], or the same as a full URL. */
export function workflowUri(value: string, name: string): string {
  const v = value.trim();
  const at = v.indexOf('@');
  const path = at < 0 ? v : v.slice(0, at);
  const ref = at < 0 ? undefined : v.slice(at + 1);
  if (ref !== undefined && !/^[^\s@]+$/.test(ref)) throw bad(`${name} "${value}" has an empty or malformed ref after '@'`);
  const suffix = ref === undefined ? '' : `@${ref}`;
  if (WORKFLOW_PATH.test(path)) return `${GITHUB}/${path}${suffix}`;
  if (/^https:\/\/[^/\s]+\/[^/\s]+\/[^/\s]+\/\.github\/workflows\/[^/\s]+\.ya?ml$/.test(path)) return `${path}${suffix}`;
  throw bad(`${name} "${value}" is not a workflow: give OWNER/REPO/.github/workflows/FILE.yml, optionally with @REF`);
}

const WORKFLOWS = '/.github/workflows/';

/** The repository a workflow URI lives in: https://HOST/OWNER/REPO. */
function repositoryOfWorkflow(uri: string): string {
  return uri.slice(0, uri.indexOf(WORKFLOWS));
}

/**
 * A workflow URI without its ref, host and repository lower-cased (GitHub
 * names are not case-sensitive), the file path kept as it is (git's is).
 */
function workflowKey(uri: string): string {
  const at = uri.indexOf(WORKFLOWS);
  return at < 0 ? uri : uri.slice(0, at).toLowerCase() + uri.slice(at);
}

/** GitHub.com's issuer, or a GitHub Enterprise Cloud one with its own path. */
export function isGithubIssuer(issuer: string): boolean {
  return issuer === GITHUB_ISSUER || issuer.startsWith(`${GITHUB_ISSUER}/`);
}

function compilePattern(pattern: string, name: string): RegExp {
  try {
    return new RegExp(`^(?:${pattern})$`, 'u');
  } catch (e) {
    throw bad(`${name} "${pattern}" is not a valid regular expression: ${(e as Error).message}`);
  }
}

/** `*` matches any run of characters; everything else is literal; anchored. */
function globMatches(glob: string, value: string): boolean {
  const re = new RegExp(
    `^${glob
      .split('*')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    'u',
  );
  return re.test(value);
}

/**
 * The policy the options describe, or undefined when none is given (nothing
 * to verify). `name(key)` spells an option for messages (`--repository` on
 * the command line, `repository` in an action).
 */
export function parseSignerPolicy(values: SignerOptionValues, name: (key: keyof SignerOptionValues) => string): SignerPolicy | undefined {
  const given = (Object.keys(SIGNER_OPTION_NAMES) as (keyof SignerOptionValues)[]).filter(
    (k) => values[k] !== undefined && values[k] !== '' && values[k] !== false,
  );
  if (given.length === 0) return undefined;
  // An empty value is no value (an action input left empty).
  const value = (v: string | undefined): string | undefined => (v === '' ? undefined : v);
  const exact = value(values.certificateIdentity);
  const pattern = value(values.certificateIdentityRegexp);
  if (exact && pattern) throw bad(`give ${name('certificateIdentity')} or ${name('certificateIdentityRegexp')}, not both`);
  if (pattern) compilePattern(pattern, name('certificateIdentityRegexp'));
  const repository = values.repository ? repositoryUri(values.repository, name('repository')) : undefined;
  const signerWorkflow = values.signerWorkflow ? workflowUri(values.signerWorkflow, name('signerWorkflow')) : undefined;
  const sourceRef = value(values.sourceRef);
  const repositoryId = value(values.repositoryId);
  if (repositoryId !== undefined && !/^\d{1,20}$/.test(repositoryId))
    throw bad(`${name('repositoryId')} "${repositoryId}" is not a repository id (a number: gh api repos/OWNER/NAME --jq .id)`);
  if (sourceRef !== undefined && !/^refs\/\S+$/.test(sourceRef)) {
    throw bad(`${name('sourceRef')} "${sourceRef}" is not a full git ref: give refs/heads/BRANCH or refs/tags/TAG (a '*' matches any characters)`);
  }
  const githubShaped =
    repository !== undefined || repositoryId !== undefined || signerWorkflow !== undefined || sourceRef !== undefined || values.requireGithubHosted === true;
  const issuer = value(values.certificateOidcIssuer) ?? (githubShaped || exact?.startsWith(`${GITHUB}/`) ? GITHUB_ISSUER : undefined);
  if (!issuer) throw bad(`${name('certificateOidcIssuer')} is required (for GitHub Actions: ${GITHUB_ISSUER})`);
  if (!exact && !pattern && !repository && !signerWorkflow) {
    throw bad(
      `say whose signature to accept: ${name('repository')} and ${name('signerWorkflow')} (GitHub Actions), or ${name('certificateIdentity')} / ${name('certificateIdentityRegexp')}`,
    );
  }
  const policy: SignerPolicy = { issuer, repository, sourceRef, signerWorkflow, githubHosted: values.requireGithubHosted === true };
  if (repositoryId !== undefined) policy.repositoryId = repositoryId;
  if (exact) policy.subject = { exact };
  if (pattern) policy.subject = { pattern };
  if (isGithubIssuer(issuer) && !policy.repository) {
    // The workflow's own repository, when the identity names one exactly: a
    // stranger calling that workflow as a reusable workflow is then refused.
    const workflow = signerWorkflow ?? (exact?.includes('/.github/workflows/') ? exact : undefined);
    if (!workflow) {
      throw bad(
        `${name('repository')} is required for GitHub Actions signatures unless ${name('signerWorkflow')} or ${name('certificateIdentity')} names a workflow exactly: a workflow identity can be borrowed by any repository that calls the workflow, so say which repository's releases you accept (OWNER/NAME)`,
      );
    }
    policy.repository = repositoryOfWorkflow(workflow.split('@')[0]!);
  }
  return policy;
}

/** The policy in words, for logs and errors. */
export function describePolicy(policy: SignerPolicy): string {
  const parts: string[] = [];
  if (policy.signerWorkflow) parts.push(`signer workflow ${policy.signerWorkflow}${policy.signerWorkflow.includes('@') ? '' : '@*'}`);
  if (policy.subject) parts.push('exact' in policy.subject ? `identity ${policy.subject.exact}` : `identity matching ^(?:${policy.subject.pattern})$`);
  if (policy.repository) parts.push(`source repository ${policy.repository}`);
  if (policy.repositoryId) parts.push(`repository id ${policy.repositoryId}`);
  if (policy.sourceRef) parts.push(`ref ${policy.sourceRef}`);
  if (policy.githubHosted) parts.push('a GitHub-hosted runner');
  parts.push(`issuer ${policy.issuer}`);
  return parts.join(', ');
}

/** Throws the mismatch's own code when the signer is not one the policy accepts. */
export function checkSigner(policy: SignerPolicy, signer: Signer): void {
  const x = signer.extensions;
  if (signer.issuer !== policy.issuer) {
    throw new PiImageError('ISSUER_MISMATCH', `the signer's identity was issued by ${signer.issuer || 'an unknown issuer'}, not ${policy.issuer}`);
  }
  if (policy.subject) {
    const ok =
      'exact' in policy.subject ? signer.subject === policy.subject.exact : compilePattern(policy.subject.pattern, 'identity pattern').test(signer.subject);
    if (!ok) {
      const wanted = 'exact' in policy.subject ? policy.subject.exact : `the pattern ^(?:${policy.subject.pattern})$`;
      throw new PiImageError('IDENTITY_MISMATCH', `signed by ${signer.subject || 'an unknown identity'}, which does not match ${wanted}`);
    }
  }
  if (policy.signerWorkflow) {
    const [path, ref] = policy.signerWorkflow.split(/@(.*)/s) as [string, string | undefined];
    const matches = (uri: string): boolean => {
      const at = uri.indexOf('@');
      if (at < 0) return false;
      return workflowKey(uri.slice(0, at)) === workflowKey(path) && (ref === undefined || globMatches(ref, uri.slice(at + 1)));
    };
    // The subject and the build signer both name the workflow that signed; both must be the one asked for.
    const failing = [signer.subject, ...(x.buildSignerUri !== undefined ? [x.buildSignerUri] : [])].find((uri) => !matches(uri));
    if (failing !== undefined) {
      throw new PiImageError(
        'SIGNER_WORKFLOW_MISMATCH',
        `signed by the workflow ${failing || '(none named)'}, not ${policy.signerWorkflow}${ref === undefined ? ' (any ref)' : ''}`,
      );
    }
  }
  if (policy.repository) {
    const actual = x.sourceRepositoryUri;
    if (actual?.toLowerCase() !== policy.repository.toLowerCase()) {
      throw new PiImageError(
        'REPOSITORY_MISMATCH',
        actual
          ? `built from ${actual}, not ${policy.repository}: the signer workflow was run by another repository`
          : `the certificate names no source repository; the policy requires ${policy.repository}`,
      );
    }
  }
  if (policy.repositoryId && x.sourceRepositoryIdentifier !== policy.repositoryId) {
    throw new PiImageError(
      'REPOSITORY_MISMATCH',
      `built from the repository with id ${x.sourceRepositoryIdentifier ?? '(none named)'}, not ${policy.repositoryId}: a repository re-created under the same name has a new id`,
    );
  }
  if (policy.sourceRef) {
    const actual = x.sourceRepositoryRef;
    if (!actual || !globMatches(policy.sourceRef, actual)) {
      throw new PiImageError('SOURCE_REF_MISMATCH', `built from the ref ${actual ?? '(none named)'}, not ${policy.sourceRef}`);
    }
  }
  if (policy.githubHosted && x.runnerEnvironment !== 'github-hosted') {
    throw new PiImageError('RUNNER_MISMATCH', `signed on a ${x.runnerEnvironment ?? 'unnamed'} runner; a GitHub-hosted runner is required`);
  }
}

/**
 * Reads the signer options through a getter keyed by option name (a CLI
 * flag's value, or an action input's text): one mapping for every front end.
 */
export function readSignerOptions(get: (name: string) => string | boolean | undefined): SignerOptionValues {
  const text = (key: keyof SignerOptionValues): string | undefined => {
    const v = get(SIGNER_OPTION_NAMES[key]);
    return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
  };
  const hosted = get(SIGNER_OPTION_NAMES.requireGithubHosted);
  return {
    certificateIdentity: text('certificateIdentity'),
    certificateIdentityRegexp: text('certificateIdentityRegexp'),
    certificateOidcIssuer: text('certificateOidcIssuer'),
    repository: text('repository'),
    repositoryId: text('repositoryId'),
    sourceRef: text('sourceRef'),
    signerWorkflow: text('signerWorkflow'),
    requireGithubHosted: hosted === true || (typeof hosted === 'string' && parseBoolean(hosted, `input ${SIGNER_OPTION_NAMES.requireGithubHosted}`)),
  };
}
