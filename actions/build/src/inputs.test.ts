import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseBuildInputs } from './inputs';

const action = parse(readFileSync(new URL('../action.yml', import.meta.url), 'utf8'));
const defaults = (name: string): string => String(action.inputs[name]?.default ?? '');
const withConfig =
  (over: Record<string, string> = {}) =>
  (name: string) =>
    name in over ? over[name]! : name === 'config' ? 'pigen/config/ourbox-mini.env' : defaults(name);

describe('build action inputs', () => {
  it('consumes every declared input and declares every consumed one', () => {
    const read = new Set<string>();
    parseBuildInputs((name) => {
      read.add(name);
      return withConfig()(name);
    });
    expect([...read].sort()).toEqual(Object.keys(action.inputs).sort());
  });

  it('runs on node24 with a post step that cleans up', () => {
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.cjs', post: 'dist/post.cjs' });
  });

  it('applies the action.yml defaults', () => {
    expect(parseBuildInputs(withConfig())).toEqual({
      config: 'pigen/config/ourbox-mini.env',
      settings: [],
      version: 'dev',
      runtime: 'auto',
      workDir: 'pi-gen-build',
      pigenDir: undefined,
      pigenRepository: undefined,
      pigenRef: undefined,
      recipeGitHash: undefined,
      resume: false,
      minFreeGiB: 10,
      installEmulation: true,
      aptCache: true,
      stageCache: false,
      firstUserPassword: undefined,
    });
  });

  it('reads settings one per line, skipping blanks and comments', () => {
    expect(parseBuildInputs(withConfig({ settings: 'ENABLE_SSH=1\n\n# note\n  WPA_COUNTRY=GB  \n' })).settings).toEqual(['ENABLE_SSH=1', 'WPA_COUNTRY=GB']);
  });

  it.each([
    [{ config: '' }, /input config \(or settings\) is required/],
    [{ runtime: 'lxd' }, /input runtime "lxd" is not one of/],
    [{ version: 'v 1' }, /input version "v 1" cannot be used in file names/],
    [{ 'recipe-git-hash': 'main' }, /input recipe-git-hash "main" is not a git commit id/],
    [{ continue: 'sometimes' }, /input continue "sometimes" must be true or false/],
    [{ 'min-free-gb': 'lots' }, /input min-free-gb "lots"/],
  ])('refuses %o, naming the input', (over, message) => {
    expect(() => parseBuildInputs(withConfig(over))).toThrow(message);
  });
});
