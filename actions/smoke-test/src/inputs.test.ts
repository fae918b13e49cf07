import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseSmokeTestInputs } from './inputs';

const action = parse(readFileSync(new URL('../action.yml', import.meta.url), 'utf8'));
const defaults =
  (over: Record<string, string> = {}) =>
  (name: string) =>
    name in over ? over[name]! : name === 'release-dir' ? 'release' : String(action.inputs[name]?.default ?? '');

describe('smoke-test action inputs', () => {
  it('consumes every declared input and declares every consumed one', () => {
    const read = new Set<string>();
    parseSmokeTestInputs((name) => {
      read.add(name);
      return defaults()(name);
    });
    expect([...read].sort()).toEqual(Object.keys(action.inputs).sort());
  });

  it('runs on node24; the defaults are the CLI defaults', () => {
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.cjs' });
    expect(parseSmokeTestInputs(defaults())).toMatchObject({
      source: 'release',
      timeLimitSeconds: 300,
      stallSeconds: 120,
      accel: undefined,
      cpus: 2,
      memoryMiB: 1024,
      mirror: 'http://deb.debian.org/debian',
      dataLabel: undefined,
      allowFailedUnits: [],
    });
  });

  it('reads the OurBox settings and lists of units; names a bad input', () => {
    expect(
      parseSmokeTestInputs(
        defaults({ 'data-label': 'OURBOX_DATA', 'data-mount': '/var/lib/ourbox', 'allow-failed': 'hciuart.service\nrpi-eeprom-update.service' }),
      ),
    ).toMatchObject({ dataLabel: 'OURBOX_DATA', dataMount: '/var/lib/ourbox', allowFailedUnits: ['hciuart.service', 'rpi-eeprom-update.service'] });
    expect(() => parseSmokeTestInputs(defaults({ 'release-dir': '' }))).toThrow(/input release-dir is required/);
    expect(() => parseSmokeTestInputs(defaults({ accel: 'hvf' }))).toThrow(/input accel "hvf" must be kvm, tcg or auto/);
    expect(() => parseSmokeTestInputs(defaults({ cpus: '64' }))).toThrow(/input cpus "64" must be a whole number from 1 to 8/);
  });
});
