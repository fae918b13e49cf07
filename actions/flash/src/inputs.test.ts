import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseFlashInputs } from './inputs';

const action = parse(readFileSync(new URL('../action.yml', import.meta.url), 'utf8'));
const defaults =
  (over: Record<string, string> = {}) =>
  (name: string) =>
    name in over ? over[name]! : name === 'source' ? 'release' : name === 'target' ? '/dev/sda' : String(action.inputs[name]?.default ?? '');

describe('flash action inputs', () => {
  it('consumes every declared input and declares every consumed one', () => {
    const read = new Set<string>();
    parseFlashInputs((name) => {
      read.add(name);
      return defaults()(name);
    });
    expect([...read].sort()).toEqual(Object.keys(action.inputs).sort());
  });

  it('runs on node24; defaults: asks for yes, reads back, zeroes nothing', () => {
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.cjs' });
    expect(parseFlashInputs(defaults())).toMatchObject({
      source: 'release',
      target: { path: '/dev/sda' },
      yes: false,
      verify: true,
      zeroUnmapped: false,
      signer: undefined,
    });
    expect(action.description).toContain('self-hosted');
  });

  it('names the disk by path, serial or WWN; lists of labels and serials', () => {
    expect(parseFlashInputs(defaults({ target: '', serial: 'S64DNX0R123456' })).target).toEqual({ serial: 'S64DNX0R123456' });
    expect(parseFlashInputs(defaults({ target: '', wwn: 'eui.0025' })).target).toEqual({ wwn: 'eui.0025' });
    expect(parseFlashInputs(defaults({ 'protect-labels': 'BACKUP, SCRATCH\nMEDIA', 'protect-serials': 'A1' }))).toMatchObject({
      protectLabels: ['BACKUP', 'SCRATCH', 'MEDIA'],
      protectSerials: ['A1'],
    });
    expect(parseFlashInputs(defaults({ repository: 'acme/appliance' })).signer).toMatchObject({ repository: 'https://github.com/acme/appliance' });
  });

  it.each([
    [{ source: '' }, /input source is required/],
    [{ target: '' }, /name the disk once: input target, serial or wwn \(none is set\)/],
    [{ serial: 'S1' }, /name the disk once: .*\(target and serial are set\)/],
    [{ yes: 'sure' }, /input yes "sure" must be true or false/],
    [{ verify: 'maybe' }, /input verify "maybe" must be true or false/],
    [{ repository: 'not a repo' }, /input repository/],
  ])('refuses %o, naming the input', (over, message) => {
    expect(() => parseFlashInputs(defaults(over))).toThrow(message);
  });
});
