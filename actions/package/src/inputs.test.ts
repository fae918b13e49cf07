import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseBoolean } from '../../../src/lib/core/values';
import { parsePackageInputs } from './inputs';

const action = parse(readFileSync(new URL('../action.yml', import.meta.url), 'utf8'));
const declared = Object.keys(action.inputs);
const defaults = (name: string): string => String(action.inputs[name]?.default ?? '');

describe('package action inputs', () => {
  it('consumes every declared input and declares every consumed one', () => {
    const read = new Set<string>();
    parsePackageInputs((name) => {
      read.add(name);
      return name === 'deploy-dir' ? 'deploy' : defaults(name);
    });
    expect([...read].sort()).toEqual([...declared].sort());
  });

  it('runs on node24', () => {
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.cjs' });
  });

  it('applies the action.yml defaults', () => {
    const inputs = parsePackageInputs((name) => (name === 'deploy-dir' ? 'deploy' : defaults(name)));
    expect(inputs).toEqual({
      deployDir: 'deploy',
      outputDir: 'release',
      name: undefined,
      version: 'dev',
      channel: 'nightly',
      image: undefined,
      info: undefined,
      buildLog: undefined,
      compressionLevel: 6,
      threads: 0,
      productReleaseFile: '/etc/ourbox/release',
      force: false,
    });
  });

  it.each([
    ['deploy-dir', '', /input deploy-dir is required/],
    ['channel', 'weekly', /input channel "weekly" is not one of: nightly, stable/],
    ['compression-level', 'max', /input compression-level "max" must be a whole number from 0 to 9/],
    ['threads', '-1', /input threads "-1"/],
    ['force', 'maybe', /input force "maybe" must be true or false/],
  ])('refuses a bad %s, naming it', (input, value, message) => {
    const get = (name: string): string => (name === input ? value : name === 'deploy-dir' ? 'deploy' : defaults(name));
    expect(() => parsePackageInputs(get)).toThrow(message);
  });

  it('reads booleans the way workflow authors write them', () => {
    expect(['true', 'True', 'yes', '1'].map((v) => parseBoolean(v, 'x'))).toEqual([true, true, true, true]);
    expect(['false', 'no', '0', ''].map((v) => parseBoolean(v, 'x'))).toEqual([false, false, false, false]);
  });
});
