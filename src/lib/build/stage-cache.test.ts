import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyedSettings, stageKey, stageKeys } from './stage-cache';

const entries = [
  { name: 'IMG_NAME', value: 'ourbox' },
  { name: 'WORK_DIR', value: '/tmp/a' },
  { name: 'APT_PROXY', value: 'http://127.0.0.1:41234' },
  { name: 'http_proxy', value: 'http://127.0.0.1:41234' },
  { name: 'PI_IMAGE_VERSION', value: '1.2.3' },
  { name: 'IMG_DATE', value: '2026-11-23' },
  { name: 'FIRST_USER_NAME', value: 'admin' },
];

describe('keyedSettings', () => {
  it("keys a stage on its settings, never on the build's paths or proxy, and on per-build values only when it uses them", () => {
    expect(keyedSettings(entries, 'apt-get install -y foo')).toEqual([
      ['FIRST_USER_NAME', 'admin'],
      ['IMG_NAME', 'ourbox'],
    ]);
    expect(keyedSettings(entries, 'echo "VERSION=${PI_IMAGE_VERSION}" > /etc/release').map(([k]) => k)).toEqual([
      'FIRST_USER_NAME',
      'IMG_NAME',
      'PI_IMAGE_VERSION',
    ]);
  });
});

describe('stageKey', () => {
  const base = {
    pigenCommit: 'c'.repeat(40),
    name: 'stage0',
    filesSha256: 'f'.repeat(64),
    settings: [['A', '1']] as [string, string][],
    previousKey: undefined,
  };
  it('changes with the pi-gen commit, the files, a setting, and the stage before', () => {
    const k = stageKey(base);
    expect(k).toMatch(/^stage0-[0-9a-f]{32}$/);
    expect(stageKey(base)).toBe(k);
    for (const changed of [
      { ...base, pigenCommit: 'd'.repeat(40) },
      { ...base, filesSha256: 'e'.repeat(64) },
      { ...base, settings: [['A', '2']] as [string, string][] },
      { ...base, previousKey: 'x' },
    ]) {
      expect(stageKey(changed)).not.toBe(k);
    }
  });
  it('takes a secret only through scrypt: never in clear, never through a fast hash of it', () => {
    const keyed = (pass: string) => keyedSettings([{ name: 'FIRST_USER_PASS', value: pass }], '');
    const [[name, value]] = keyed('hunter2') as [[string, string]];
    expect(name).toBe('FIRST_USER_PASS');
    expect(value).toMatch(/^scrypt:[0-9a-f]{64}$/);
    expect(value).not.toContain('hunter2');
    // The same password gives the same key (the cache works), another another.
    expect(keyed('hunter2')).toEqual([[name, value]]);
    expect(keyed('hunter3')[0]![1]).not.toBe(value);
  });
  it("keys the values pi-gen's helpers read for a stage that calls them", () => {
    expect(keyedSettings(entries, 'update_issue "$(basename "${EXPORT_DIR}")"').map(([k]) => k)).toContain('IMG_DATE');
  });
});

describe('stageKeys', () => {
  it('chains: a change to the first stage changes every later key, a change to the last only its own', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stage-keys-'));
    const a = join(dir, 'stage-a');
    const b = join(dir, 'stage-b');
    mkdirSync(join(a, '00-x'), { recursive: true });
    mkdirSync(join(b, '00-y'), { recursive: true });
    writeFileSync(join(a, '00-x', '00-run.sh'), 'echo a\n');
    writeFileSync(join(b, '00-y', '00-run.sh'), 'echo b\n');
    const stages = [
      { name: 'stage-a', hostPath: a },
      { name: 'stage-b', hostPath: b },
    ];
    const before = await stageKeys(stages, entries, 'c'.repeat(40));
    writeFileSync(join(b, '00-y', '00-run.sh'), 'echo b2\n');
    const lastChanged = await stageKeys(stages, entries, 'c'.repeat(40));
    expect(lastChanged[0]).toBe(before[0]);
    expect(lastChanged[1]).not.toBe(before[1]);
    writeFileSync(join(a, '00-x', '00-run.sh'), 'echo a2\n');
    const firstChanged = await stageKeys(stages, entries, 'c'.repeat(40));
    expect(firstChanged[0]).not.toBe(lastChanged[0]);
    expect(firstChanged[1]).not.toBe(lastChanged[1]);
  });
});
