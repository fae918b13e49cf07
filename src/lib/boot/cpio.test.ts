import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpioArchive, withParents } from './cpio';

const cpioTool = spawnSync('cpio', ['--version']).status === 0;

describe('cpio (newc) archives, as the kernel unpacks an initramfs', () => {
  const entries = withParents([
    { type: 'file', path: 'init', data: '#!/bin/sh\necho hi\n', mode: 0o755 },
    { type: 'file', path: 'probe/checks/a.sh', data: Buffer.from([0, 1, 2, 3, 4]), mode: 0o700 },
    { type: 'symlink', path: 'bin/sh', target: 'busybox' },
    { type: 'file', path: 'empty', data: '' },
  ]);

  it('adds each parent directory once, before its children', () => {
    expect(entries.map((e) => `${e.type}:${e.path}`)).toEqual([
      'file:init',
      'dir:probe',
      'dir:probe/checks',
      'file:probe/checks/a.sh',
      'dir:bin',
      'symlink:bin/sh',
      'file:empty',
    ]);
  });

  it('is deterministic, padded to 512 bytes, and ends with the trailer', () => {
    const a = cpioArchive(entries);
    expect(a.equals(cpioArchive(entries))).toBe(true);
    expect(a.length % 512).toBe(0);
    expect(a.subarray(0, 6).toString()).toBe('070701');
    expect(a.toString('latin1')).toContain('TRAILER!!!');
  });

  it('refuses names that would leave the archive root', () => {
    for (const path of ['/etc/passwd', '../x', 'a/../../b', '', 'a//b']) {
      expect(() => cpioArchive([{ type: 'file', path, data: 'x' }])).toThrow(/not a plain relative path/);
    }
  });

  it.skipIf(!cpioTool)('GNU cpio reads it back: names, types, modes, contents, link targets (cpio not installed: skipped)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpio-test-'));
    try {
      const archive = join(dir, 'a.cpio');
      writeFileSync(archive, Buffer.concat([cpioArchive(entries), cpioArchive([{ type: 'file', path: 'second', data: 'appended' }])]));
      const out = join(dir, 'out');
      execFileSync('sh', ['-c', 'mkdir "$1" && cd "$1" && cpio -idm --quiet < "$2"', 'sh', out, archive]);
      expect(readFileSync(join(out, 'init'), 'utf8')).toBe('#!/bin/sh\necho hi\n');
      expect(statSync(join(out, 'init')).mode & 0o777).toBe(0o755);
      expect(readFileSync(join(out, 'probe/checks/a.sh'))).toEqual(Buffer.from([0, 1, 2, 3, 4]));
      expect(statSync(join(out, 'probe/checks/a.sh')).mode & 0o777).toBe(0o700);
      expect(readlinkSync(join(out, 'bin/sh'))).toBe('busybox');
      expect(readFileSync(join(out, 'empty'), 'utf8')).toBe('');
      const listing = execFileSync('sh', ['-c', 'cpio -it --quiet < "$1"', 'sh', archive], { encoding: 'utf8' }).trim().split('\n');
      expect(listing).toEqual(['init', 'probe', 'probe/checks', 'probe/checks/a.sh', 'bin', 'bin/sh', 'empty']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
