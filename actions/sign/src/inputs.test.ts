import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseSignInputs } from './inputs';

const action = parse(readFileSync(new URL('../action.yml', import.meta.url), 'utf8'));
const defaults =
  (over: Record<string, string> = {}) =>
  (name: string) =>
    name in over ? over[name]! : name === 'release-dir' ? 'release' : name === 'github-token' ? 't0ken' : String(action.inputs[name]?.default ?? '');

describe('sign action inputs', () => {
  it('consumes every declared input and declares every consumed one', () => {
    const read = new Set<string>();
    parseSignInputs((name) => {
      read.add(name);
      return defaults()(name);
    });
    expect([...read].sort()).toEqual(Object.keys(action.inputs).sort());
  });

  it('runs on node24 and says which permissions it needs', () => {
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.cjs' });
    expect(action.inputs.attest.description).toContain('attestations: write');
  });

  it.each([
    [{ 'release-dir': '' }, /input release-dir is required/],
    [{ 'fulcio-url': 'fulcio.example' }, /input fulcio-url "fulcio.example" is not an http\(s\) URL/],
    [{ 'pigen-commit': 'HEAD' }, /input pigen-commit "HEAD" is not a git commit id/],
    [{ attest: 'maybe' }, /input attest "maybe" must be true or false/],
  ])('refuses %o, naming the input', (over, message) => {
    expect(() => parseSignInputs(defaults(over))).toThrow(message);
  });
});
