import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missingTools, skipReason } from '../../../test/support/tools';
import { renderSha256Sums } from './checksums';

const D = (c: string): string => c.repeat(64);

describe('renderSha256Sums', () => {
  it('writes one "<hex>  <name>" line per entry, in the order given', () => {
    expect(
      renderSha256Sums([
        { name: 'b.img.xz', sha256: D('b') },
        { name: 'a.img', sha256: D('a') },
      ]),
    ).toBe(`${D('b')}  b.img.xz\n${D('a')}  a.img\n`);
  });

  it('is empty for no entries', () => {
    expect(renderSha256Sums([])).toBe('');
  });

  const missing = missingTools(['sha256sum']);
  if (missing.length > 0) skipReason('renderSha256Sums against sha256sum', 'sha256sum is not installed');
  describe.skipIf(missing.length > 0)('against sha256sum -c', () => {
    const dir = mkdtempSync(join(tmpdir(), 'checksums-test-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('is a file sha256sum -c checks, and fails when a file changes', () => {
      const files = { 'appliance.img.xz': 'compressed', 'appliance.img': 'raw bytes' };
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
      const sums = Object.entries(files).map(([name, text]) => ({ name, sha256: createHash('sha256').update(text).digest('hex') }));
      writeFileSync(join(dir, 'SHA256SUMS'), renderSha256Sums(sums));
      const check = () => spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: dir, encoding: 'utf8' });
      expect(check()).toMatchObject({ status: 0, stdout: 'appliance.img.xz: OK\nappliance.img: OK\n' });
      writeFileSync(join(dir, 'appliance.img'), 'other bytes');
      expect(check()).toMatchObject({ status: 1, stdout: 'appliance.img.xz: OK\nappliance.img: FAILED\n' });
    });
  });

  it('refuses a name sha256sum would have to escape, or a digest that is not one', () => {
    const sha256 = 'a'.repeat(64);
    for (const name of ['two\nlines', 'back\\slash', 'cr\r']) {
      expect(() => renderSha256Sums([{ name, sha256 }])).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    }
    expect(() => renderSha256Sums([{ name: 'x', sha256: 'A'.repeat(64) }])).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });
});
