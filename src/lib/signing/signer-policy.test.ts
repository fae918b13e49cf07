import { describe, expect, it } from 'vitest';
import type { Signer } from './signer-certificate';
import {
  checkSigner,
  describePolicy,
  GITHUB_ISSUER,
  parseSignerPolicy,
  readSignerOptions,
  SIGNER_OPTION_NAMES,
  type SignerOptionValues,
  type SignerPolicy,
} from './signer-policy';

const flag = (k: keyof SignerOptionValues): string => `--${SIGNER_OPTION_NAMES[k]}`;
const parse = (v: SignerOptionValues) => parseSignerPolicy(v, flag);
const PIPELINE = 'pi-org/pi-image-release/.github/workflows/pipeline.yml';

/** A signer as Fulcio certifies acme/appliance's main branch calling the pipeline at v1 on a GitHub-hosted runner. */
const signer = (over: Partial<Signer['extensions']> = {}, subject = `https://github.com/${PIPELINE}@refs/tags/v1`): Signer => ({
  subject,
  issuer: GITHUB_ISSUER,
  extensions: {
    buildSignerUri: subject,
    sourceRepositoryUri: 'https://github.com/acme/appliance',
    sourceRepositoryRef: 'refs/heads/main',
    runnerEnvironment: 'github-hosted',
    ...over,
  },
});

describe('parseSignerPolicy', () => {
  it('gives nothing to verify when no option is given', () => {
    expect(parse({})).toBeUndefined();
    expect(parse({ requireGithubHosted: false, repository: '' })).toBeUndefined();
  });

  it.each<[string, SignerOptionValues, Partial<SignerPolicy>]>([
    [
      'two options for a product built through the pipeline',
      { repository: 'acme/appliance', signerWorkflow: PIPELINE },
      { issuer: GITHUB_ISSUER, repository: 'https://github.com/acme/appliance', signerWorkflow: `https://github.com/${PIPELINE}` },
    ],
    [
      'a pinned ref of the signer workflow',
      { repository: 'acme/appliance', signerWorkflow: `${PIPELINE}@refs/tags/v1` },
      { signerWorkflow: `https://github.com/${PIPELINE}@refs/tags/v1` },
    ],
    [
      'a repository URL, trailing .git dropped',
      { repository: 'https://github.com/acme/appliance.git' },
      { repository: 'https://github.com/acme/appliance', issuer: GITHUB_ISSUER },
    ],
    [
      'the signer workflow alone pins its own repository',
      { signerWorkflow: 'acme/appliance/.github/workflows/release.yml' },
      { repository: 'https://github.com/acme/appliance' },
    ],
    [
      'an exact GitHub identity pins its workflow repository and defaults the issuer',
      { certificateIdentity: `https://github.com/${PIPELINE}@refs/tags/v1` },
      { repository: 'https://github.com/pi-org/pi-image-release', issuer: GITHUB_ISSUER, subject: { exact: `https://github.com/${PIPELINE}@refs/tags/v1` } },
    ],
    [
      'another issuer with an email identity needs no repository',
      { certificateIdentity: 'ci@example.com', certificateOidcIssuer: 'https://accounts.example.com' },
      { repository: undefined, issuer: 'https://accounts.example.com', subject: { exact: 'ci@example.com' } },
    ],
    [
      'a pattern with a repository',
      { certificateIdentityRegexp: 'https://github\\.com/acme/.*', certificateOidcIssuer: GITHUB_ISSUER, repository: 'acme/appliance' },
      { subject: { pattern: 'https://github\\.com/acme/.*' } },
    ],
    [
      'ref and runner',
      { repository: 'acme/appliance', sourceRef: 'refs/tags/v*', requireGithubHosted: true },
      { sourceRef: 'refs/tags/v*', githubHosted: true },
    ],
  ])('%s', (_label, values, expected) => {
    expect(parse(values)).toMatchObject(expected);
  });

  it.each<[SignerOptionValues, RegExp]>([
    [{ certificateIdentity: 'a', certificateIdentityRegexp: 'b' }, /give --certificate-identity or --certificate-identity-regexp, not both/],
    [{ certificateIdentityRegexp: '(', certificateOidcIssuer: 'https://x' }, /--certificate-identity-regexp "\(" is not a valid regular expression/],
    [{ certificateIdentityRegexp: '.*' }, /--certificate-oidc-issuer is required/],
    [{ certificateIdentityRegexp: 'https://github\\.com/.*', certificateOidcIssuer: GITHUB_ISSUER }, /--repository is required for GitHub Actions signatures/],
    [{ certificateIdentityRegexp: '.*', certificateOidcIssuer: `${GITHUB_ISSUER}/acme-enterprise` }, /--repository is required for GitHub Actions signatures/],
    [{ repository: 'acme/appliance', repositoryId: 'R_kgDO' }, /--repository-id "R_kgDO" is not a repository id/],
    [{ certificateOidcIssuer: GITHUB_ISSUER }, /say whose signature to accept/],
    [{ sourceRef: 'refs/heads/main' }, /say whose signature to accept/],
    [{ repository: 'appliance' }, /--repository "appliance" is not a repository/],
    [{ repository: 'http://github.com/a/b' }, /is not a repository/],
    [{ signerWorkflow: 'acme/appliance/release.yml' }, /--signer-workflow "acme\/appliance\/release\.yml" is not a workflow/],
    [{ signerWorkflow: `${PIPELINE}@` }, /empty or malformed ref/],
    [{ repository: 'acme/appliance', sourceRef: 'main' }, /--source-ref "main" is not a full git ref/],
  ])('refuses %o naming the option', (values, message) => {
    expect(() => parse(values)).toThrow(message);
  });

  it('names options as the caller spells them (action inputs)', () => {
    expect(() => parseSignerPolicy({ repository: 'x' }, (k) => `input ${SIGNER_OPTION_NAMES[k]}`)).toThrow(/^input repository "x"/);
  });

  it('reads flags and action inputs through one mapping', () => {
    const inputs: Record<string, string> = {
      repository: ' acme/appliance ',
      'signer-workflow': PIPELINE,
      'require-github-hosted': 'true',
      'certificate-identity': '',
    };
    expect(readSignerOptions((n) => inputs[n])).toEqual({
      certificateIdentity: undefined,
      certificateIdentityRegexp: undefined,
      certificateOidcIssuer: undefined,
      repository: 'acme/appliance',
      sourceRef: undefined,
      signerWorkflow: PIPELINE,
      requireGithubHosted: true,
    });
    expect(readSignerOptions((n) => (n === 'require-github-hosted' ? true : undefined)).requireGithubHosted).toBe(true);
    expect(() => readSignerOptions((n) => (n === 'require-github-hosted' ? 'maybe' : undefined))).toThrow(/must be true or false/);
  });
});

describe('checkSigner', () => {
  const policy = parse({ repository: 'acme/appliance', signerWorkflow: PIPELINE })!;

  it('accepts the product repository through the pipeline, at any pipeline ref, owner and repository case-insensitively', () => {
    expect(() => checkSigner(policy, signer())).not.toThrow();
    expect(() => checkSigner(policy, signer({ sourceRepositoryUri: 'https://github.com/Acme/Appliance' }))).not.toThrow();
    const upper = 'https://github.com/Pi-Org/Pi-Image-Release/.github/workflows/pipeline.yml@refs/tags/v1';
    expect(() => checkSigner(policy, signer({ buildSignerUri: upper }, upper))).not.toThrow();
    const s = `https://github.com/${PIPELINE}@0123456789abcdef0123456789abcdef01234567`;
    expect(() => checkSigner(policy, signer({ buildSignerUri: s }, s))).not.toThrow();
  });

  it.each<[string, SignerPolicy, Signer, string, RegExp]>([
    [
      'a stranger calling the same pipeline',
      policy,
      signer({ sourceRepositoryUri: 'https://github.com/evil/fork' }),
      'REPOSITORY_MISMATCH',
      /built from https:\/\/github\.com\/evil\/fork, not https:\/\/github\.com\/acme\/appliance/,
    ],
    ['a certificate without a source repository', policy, signer({ sourceRepositoryUri: undefined }), 'REPOSITORY_MISMATCH', /names no source repository/],
    [
      'another workflow',
      policy,
      signer({}, 'https://github.com/acme/appliance/.github/workflows/release.yml@refs/heads/main'),
      'SIGNER_WORKFLOW_MISMATCH',
      /not https:\/\/github\.com\/pi-org\/pi-image-release\/\.github\/workflows\/pipeline\.yml \(any ref\)/,
    ],
    [
      'a look-alike workflow path',
      policy,
      signer({}, `https://github.com/${PIPELINE}.evil@refs/tags/v1`),
      'SIGNER_WORKFLOW_MISMATCH',
      /signed by the workflow https:\/\/github\.com\/pi-org\/pi-image-release\/\.github\/workflows\/pipeline\.yml\.evil@refs\/tags\/v1, not/,
    ],
    [
      'a workflow file whose name differs only in case (git paths are case-sensitive)',
      policy,
      signer({}, 'https://github.com/pi-org/pi-image-release/.github/workflows/Pipeline.yml@refs/tags/v1'),
      'SIGNER_WORKFLOW_MISMATCH',
      /Pipeline\.yml/,
    ],
    [
      'another repository id',
      { ...policy, repositoryId: '42' },
      signer({ sourceRepositoryIdentifier: '43' }),
      'REPOSITORY_MISMATCH',
      /repository with id 43, not 42/,
    ],
    [
      'a subject and build signer that disagree',
      policy,
      signer({ buildSignerUri: 'https://github.com/evil/x/.github/workflows/pipeline.yml@v1' }),
      'SIGNER_WORKFLOW_MISMATCH',
      /signed by the workflow https:\/\/github\.com\/evil\/x\//,
    ],
    [
      'another pipeline ref',
      { ...policy, signerWorkflow: `https://github.com/${PIPELINE}@refs/tags/v2` },
      signer(),
      'SIGNER_WORKFLOW_MISMATCH',
      /@refs\/tags\/v2/,
    ],
    [
      'another source ref',
      { ...policy, sourceRef: 'refs/tags/v*' },
      signer(),
      'SOURCE_REF_MISMATCH',
      /built from the ref refs\/heads\/main, not refs\/tags\/v\*/,
    ],
    ['a self-hosted runner', { ...policy, githubHosted: true }, signer({ runnerEnvironment: 'self-hosted' }), 'RUNNER_MISMATCH', /self-hosted runner/],
    ['another issuer', policy, { ...signer(), issuer: 'https://gitlab.com' }, 'ISSUER_MISMATCH', /issued by https:\/\/gitlab\.com/],
    [
      'a longer identity than the pattern',
      { ...policy, signerWorkflow: undefined, subject: { pattern: 'https://github\\.com/pi-org/pi-image-release/\\.github/workflows/pipeline\\.yml' } },
      signer(),
      'IDENTITY_MISMATCH',
      /does not match the pattern/,
    ],
  ])('refuses %s', (_label, p, s, code, message) => {
    let error: unknown;
    try {
      checkSigner(p, s);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code });
    expect((error as Error).message).toMatch(message);
  });

  it('describes a policy in words', () => {
    expect(describePolicy(policy)).toBe(
      `signer workflow https://github.com/${PIPELINE}@*, source repository https://github.com/acme/appliance, issuer ${GITHUB_ISSUER}`,
    );
  });
});
