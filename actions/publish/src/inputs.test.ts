import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { MemoryLogger } from '../../../src/lib/core/logger';
import { storeOptionsFor } from '../../../src/lib/oci/registry-access';
import { parsePublishInputs, type PublishInputs } from './inputs';

const action = parse(readFileSync(new URL('../action.yml', import.meta.url), 'utf8'));
const env = { GITHUB_REPOSITORY: 'Acme/OurBox-Recipe', GITHUB_ACTOR: 'octocat', DOCKER_CONFIG: '/nonexistent' };
/** The credentials the action would send, as the library resolves them for the target. */
const credentialsOf = (inputs: PublishInputs) => storeOptionsFor(inputs.target, inputs.access, env, new MemoryLogger(), true).credentials;
const defaults =
  (over: Record<string, string> = {}) =>
  (name: string) =>
    name in over ? over[name]! : name === 'release-dir' ? 'release' : name === 'github-token' ? 't0ken' : String(action.inputs[name]?.default ?? '');

describe('publish action inputs', () => {
  it('consumes every declared input and declares every consumed one', () => {
    const read = new Set<string>();
    parsePublishInputs((name) => {
      read.add(name);
      return defaults()(name);
    }, env);
    expect([...read].sort()).toEqual(Object.keys(action.inputs).sort());
  });

  it('runs on node24 and defaults to GHCR under the repository, lowercased', () => {
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.cjs' });
    const inputs = parsePublishInputs(defaults(), env);
    expect(inputs.target).toEqual({ kind: 'registry', ref: { registry: 'ghcr.io', repository: 'acme/ourbox-recipe' } });
    expect(inputs).toMatchObject({ format: 'image', tags: [], force: false, attachSignature: true, mountFrom: [] });
    expect(credentialsOf(inputs)).toEqual({ username: 'octocat', password: 't0ken' });
    expect(inputs.access.limits).toEqual({ responseSeconds: 30, speedLimit: 1024, speedTimeSeconds: 30, maxTimeSeconds: 0 });
    expect(action.inputs['github-token'].description).toContain('packages: write');
  });

  it('never sends the job token to a registry other than GHCR', () => {
    expect(credentialsOf(parsePublishInputs(defaults({ target: 'registry.example.com/acme/x' }), env))).toBeUndefined();
    expect(credentialsOf(parsePublishInputs(defaults({ target: 'registry.example.com/acme/x', username: 'u', password: 'p' }), env))).toEqual({
      username: 'u',
      password: 'p',
    });
    expect(credentialsOf(parsePublishInputs(defaults({ username: 'bot', password: 'pat' }), env))).toEqual({ username: 'bot', password: 'pat' });
    expect(credentialsOf(parsePublishInputs(defaults({ target: 'oci:out/layout' }), env))).toBeUndefined();
  });

  it('reads lists and annotations', () => {
    const inputs = parsePublishInputs(
      defaults({ tags: 'latest, edge\nlts', annotations: 'org.example.a=1\n\norg.example.b=x=y', 'mount-from': 'acme/base', target: 'oci:out/layout' }),
      env,
    );
    expect(inputs.tags).toEqual(['latest', 'edge', 'lts']);
    expect(inputs.annotations).toEqual({ 'org.example.a': '1', 'org.example.b': 'x=y' });
    expect(inputs.mountFrom).toEqual(['acme/base']);
    expect(inputs.target).toEqual({ kind: 'layout', dir: 'out/layout' });
  });

  it.each([
    [{ 'release-dir': '' }, /input release-dir \(or from-layout\) is required/],
    [{ 'from-layout': 'out/layout' }, /inputs release-dir and from-layout are both set: give one/],
    [{ 'release-dir': '', 'from-layout': `oci:out@sha256:${'a'.repeat(64)}` }, /input from-layout .*: give DIR or oci:DIR\[:TAG\]/],
    [{ target: 'ghcr.io/acme/x:1.0' }, /input target names a repository, without a tag/],
    [{ target: 'ghcr.io/Acme/X' }, /input target "ghcr.io\/Acme\/X": .*not a valid repository name/],
    [{ format: 'tarball' }, /input format "tarball": use image or artifact/],
    [{ tags: 'ok, no/slash' }, /input tags: "no\/slash" is not a valid OCI tag/],
    [{ annotations: 'novalue' }, /input annotations: "novalue" is not KEY=VALUE/],
    [{ force: 'yes please' }, /input force "yes please" must be true or false/],
    [{ 'token-realm': 'http://auth.example.com/token' }, /input token-realm .*: credentials go to a token service over https only/],
    [{ 'speed-time': '0' }, /input speed-time "0" must be a whole number of at least 1/],
    [{ 'max-time': 'soon' }, /input max-time "soon" must be a whole number/],
  ])('refuses %o, naming the input', (over, message) => {
    expect(() => parsePublishInputs(defaults(over), env)).toThrow(message);
  });

  it('copies the releases of an OCI layout instead of a release directory', () => {
    expect(parsePublishInputs(defaults({ 'release-dir': '', 'from-layout': 'out/layout' }), env).source).toEqual({ kind: 'layout', dir: 'out/layout' });
    expect(parsePublishInputs(defaults({ 'release-dir': '', 'from-layout': 'oci:out/layout:1.2.3' }), env).source).toEqual({
      kind: 'layout',
      dir: 'out/layout',
      tag: '1.2.3',
    });
    expect(parsePublishInputs(defaults(), env).source).toEqual({ kind: 'release', dir: 'release' });
  });

  it('needs a target or GITHUB_REPOSITORY', () => {
    expect(() => parsePublishInputs(defaults(), {})).toThrow(/input target is empty and GITHUB_REPOSITORY is not set/);
  });
});
