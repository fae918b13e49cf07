import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { MemoryLogger } from '../../../src/lib/core/logger';
import { storeOptionsFor } from '../../../src/lib/oci/registry-access';
import { parsePullInputs, type PullInputs } from './inputs';

const action = parse(readFileSync(new URL('../action.yml', import.meta.url), 'utf8'));
const env = { GITHUB_ACTOR: 'octocat', DOCKER_CONFIG: '/nonexistent' };
const credentialsOf = (inputs: PullInputs) => storeOptionsFor(inputs.target, inputs.access, env, new MemoryLogger(), false).credentials;
const ID = 'https://github.com/acme/ourbox/.github/workflows/release.yml@refs/tags/v1.2.3';
const defaults =
  (over: Record<string, string> = {}) =>
  (name: string) =>
    name in over
      ? over[name]!
      : name === 'ref'
        ? 'ghcr.io/acme/ourbox:stable'
        : name === 'out-dir'
          ? 'release'
          : name === 'github-token'
            ? 't0ken'
            : String(action.inputs[name]?.default ?? '');

describe('pull action inputs', () => {
  it('consumes every declared input and declares every consumed one', () => {
    const read = new Set<string>();
    parsePullInputs((name) => {
      read.add(name);
      return defaults({ 'certificate-identity': ID })(name);
    });
    expect([...read].sort()).toEqual(Object.keys(action.inputs).sort());
  });

  it('runs on node24; verifies when a signer is given, with GitHub as the default issuer', () => {
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.cjs' });
    expect(parsePullInputs(defaults())).toMatchObject({ reference: 'stable', policy: undefined });
    expect(credentialsOf(parsePullInputs(defaults()))).toEqual({ username: 'octocat', password: 't0ken' });
    expect(
      parsePullInputs(defaults({ repository: 'acme/ourbox', 'signer-workflow': 'pi-org/pi-image-release/.github/workflows/pipeline.yml' })).policy,
    ).toEqual({
      issuer: 'https://token.actions.githubusercontent.com',
      repository: 'https://github.com/acme/ourbox',
      signerWorkflow: 'https://github.com/pi-org/pi-image-release/.github/workflows/pipeline.yml',
      sourceRef: undefined,
      githubHosted: false,
    });
    expect(parsePullInputs(defaults({ 'certificate-identity': ID })).policy).toMatchObject({
      subject: { exact: ID },
      repository: 'https://github.com/acme/ourbox',
    });
    expect(parsePullInputs(defaults({ ref: 'oci:layout:1.2.3' }))).toMatchObject({ target: { kind: 'layout', dir: 'layout' }, reference: '1.2.3' });
    expect(credentialsOf(parsePullInputs(defaults({ ref: 'registry.example.com/a/b:1' })))).toBeUndefined();
  });

  it.each([
    [{ ref: '' }, /input ref is required/],
    [{ ref: 'ghcr.io/acme/ourbox' }, /names no tag or digest/],
    [{ 'out-dir': '' }, /input out-dir is required/],
    [{ 'certificate-identity': ID, 'certificate-identity-regexp': '.*' }, /not both/],
    [{ 'certificate-identity-regexp': '.*' }, /input certificate-oidc-issuer is required/],
    [{ 'certificate-identity-regexp': '.*', 'certificate-oidc-issuer': 'https://token.actions.githubusercontent.com' }, /input repository is required/],
    [{ repository: 'ourbox' }, /input repository "ourbox" is not a repository/],
    [{ repository: 'acme/ourbox', 'require-github-hosted': 'sometimes' }, /require-github-hosted "sometimes" must be true or false/],
    [{ 'trusted-root': 'root.json' }, /trusted-root is only used to verify/],
    [{ force: 'perhaps' }, /input force "perhaps" must be true or false/],
  ])('refuses %o, naming the input', (over, message) => {
    expect(() => parsePullInputs(defaults(over))).toThrow(message);
  });
});
