import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { renderPiGenConfig, shellQuote } from './config-file';

const dir = mkdtempSync(join(tmpdir(), 'config-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Sources the config with real bash, as pi-gen does, and returns what each variable holds. */
function sourceWithBash(config: string, names: string[]): { values: string[]; canary: boolean } {
  const file = join(dir, 'config');
  writeFileSync(file, config);
  const canary = join(dir, 'pwned');
  rmSync(canary, { force: true });
  const script = `set -eu; source "$1"; for n in ${names.join(' ')}; do printf '%s\\0' "\${!n}"; done; [ -e "$2" ] && printf 'PWNED\\0' || true`;
  const out = execFileSync('bash', ['-c', script, 'bash', file, canary], { encoding: 'utf8' });
  const parts = out.split('\0').slice(0, -1);
  const pwned = parts[parts.length - 1] === 'PWNED';
  return { values: pwned ? parts.slice(0, -1) : parts, canary: pwned };
}

const hostile = [
  `it's`,
  `"double"`,
  '$(touch CANARY)',
  '`touch CANARY`',
  '${HOME}',
  'a\nb\nc',
  'trailing\\',
  `'; touch CANARY; echo '`,
  'spaces  and\ttabs',
  '',
  'ünïcödé ✓',
  '!history',
  '*',
];

describe('pi-gen config quoting', () => {
  it('bash reads every hostile value back byte for byte and runs nothing', () => {
    const canary = join(dir, 'pwned');
    const values = hostile.map((v) => v.replace('CANARY', canary));
    const config = renderPiGenConfig(
      values.map((value, i) => ({ name: `V${i}`, value })),
      'test',
    );
    const read = sourceWithBash(
      config,
      values.map((_, i) => `V${i}`),
    );
    expect(read.canary).toBe(false);
    expect(read.values).toEqual(values);
  });

  it('holds for any string (property-based, real bash)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.includes('\0')),
          { minLength: 1, maxLength: 8 },
        ),
        (values) => {
          const config = renderPiGenConfig(
            values.map((value, i) => ({ name: `P${i}`, value })),
            'property',
          );
          const read = sourceWithBash(
            config,
            values.map((_, i) => `P${i}`),
          );
          expect(read.canary).toBe(false);
          expect(read.values).toEqual(values);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('exports every variable so stage scripts see it', () => {
    const config = renderPiGenConfig([{ name: 'OURBOX_VERSION', value: '1.2.3' }], 'h');
    const file = join(dir, 'exported');
    writeFileSync(file, config);
    expect(execFileSync('bash', ['-c', 'source "$1"; bash -c \'printf %s "$OURBOX_VERSION"\'', 'bash', file], { encoding: 'utf8' })).toBe('1.2.3');
  });

  it('refuses names that are not shell variables, duplicates, and NUL bytes', () => {
    expect(() => renderPiGenConfig([{ name: 'A;rm', value: 'x' }], '')).toThrow(/"A;rm" is not a valid pi-gen variable name/);
    expect(() =>
      renderPiGenConfig(
        [
          { name: 'A', value: '1' },
          { name: 'A', value: '2' },
        ],
        '',
      ),
    ).toThrow(/A is set twice/);
    expect(() => shellQuote('a\0b')).toThrow(/NUL/);
  });

  it('never writes a value into a comment', () => {
    const config = renderPiGenConfig([{ name: 'FIRST_USER_PASS', value: 's3cret', comment: 'password\nline' }], 'header');
    expect(
      config
        .split('\n')
        .filter((l) => l.startsWith('#'))
        .join('\n'),
    ).not.toContain('s3cret');
  });
});
