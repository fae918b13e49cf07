import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeSmallImage, SMALL_IMAGE_TOOLS } from '../../../test/support/small-image';
import { DATA_FSTAB_ENTRY } from '../../../test/support/ourbox-contract';
import { missingTools, sh, skipReason } from '../../../test/support/tools';
import { FileByteSource, SliceByteSource } from './byte-source';
import { Ext4FileSystem } from './ext4';
import { inspectImage, parseFstab, parseKeyValues } from './inspect';

const missing = missingTools([...SMALL_IMAGE_TOOLS, 'debugfs']);
const dir = mkdtempSync(join(tmpdir(), 'inspect-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function inspectFile(path: string) {
  const src = await FileByteSource.open(path);
  try {
    return await inspectImage(src);
  } finally {
    await src.close();
  }
}

describe.skipIf(missing.length > 0)('inspectImage on real images made by mkfs.vfat, mtools, mkfs.ext4 and sfdisk', () => {
  it.each([12, 16, 32] as const)('reads a FAT%i boot partition and an ext4 root', async (fat) => {
    const path = join(dir, `fat${fat}.img`);
    makeSmallImage(path, { fat, bootMiB: fat === 12 ? 4 : fat === 16 ? 20 : 40 });
    const r = await inspectFile(path);
    expect(r.partitionTable.scheme).toBe('mbr');
    expect(r.partitionTable.diskId).toBe('0badcafe');
    expect(r.partitionTable.partitions.map((p) => [p.number, p.type, p.filesystem.type, p.filesystem.label, p.partuuid])).toEqual([
      [1, '0c', 'vfat', 'bootfs', '0badcafe-01'],
      [2, '83', 'ext4', 'rootfs', '0badcafe-02'],
    ]);
    expect(r.partitionTable.partitions[0]!.startBytes).toBe(8 * 1024 * 1024);
    expect(r.boot!.files).toEqual([
      { path: '/cmdline.txt', directory: false, size: 'console=tty1 root=PARTUUID=0badcafe-02 rootwait\n'.length },
      { path: '/config.txt', directory: false, size: 'arm_64bit=1\n# comment\ndtparam=pciex1\n'.length },
      { path: '/kernel8.img', directory: false, size: 70000 },
      { path: '/overlays', directory: true, size: 0 },
      { path: '/overlays/A Long File Name For LFN.dtbo', directory: false, size: 5000 },
    ]);
    expect(r.boot!.configTxt).toBe('arm_64bit=1\n# comment\ndtparam=pciex1\n');
    expect(r.boot!.cmdlineTxt).toContain('root=PARTUUID=0badcafe-02');
    expect(r.root!.osRelease).toEqual({ PRETTY_NAME: 'Debian GNU/Linux 13 (trixie)', ID: 'debian', VERSION_CODENAME: 'trixie' });
    expect(r.root!.productRelease).toEqual({
      path: '/etc/ourbox/release',
      values: { OURBOX_PRODUCT: 'ourbox', OURBOX_DEVICE: 'mini', OURBOX_SKU: 'TOO-OBX-MINI-01' },
    });
    expect(r.root!.hostname).toBe('small');
    expect(r.root!.fstab![1]).toEqual(DATA_FSTAB_ENTRY);
    expect(r.root!.enabledUnits).toEqual([
      { unit: 'fstrim.timer', wantedBy: 'timers.target', relation: 'wants' },
      { unit: 'ssh.service', wantedBy: 'multi-user.target', relation: 'wants' },
    ]);
    expect(r.root!.maskedUnits).toEqual(['bluetooth.service']);
    expect(r.warnings).toEqual([]);
  });

  it('reads a GPT disk', async () => {
    const path = join(dir, 'gpt.img');
    makeSmallImage(path, { gpt: true });
    const r = await inspectFile(path);
    expect(r.partitionTable.scheme).toBe('gpt');
    expect(r.partitionTable.partitions.map((p) => [p.typeName, p.name, p.filesystem.type])).toEqual([
      ['EFI System', 'boot', 'vfat'],
      ['Linux filesystem', 'root', 'ext4'],
    ]);
    expect(r.root!.hostname).toBe('small');
  });

  it('reads an htree directory, a 32-bit ext4 and a file bigger than one extent block, matching debugfs', async () => {
    const big = 'x'.repeat(300_000) + 'END';
    const path = join(dir, 'htree.img');
    makeSmallImage(path, { bigDirectory: 600, ext4Features: '^64bit,^metadata_csum', rootFiles: { 'opt/big.txt': big }, rootMiB: 40 });
    const disk = await FileByteSource.open(path);
    try {
      const r = await inspectImage(disk);
      const root = r.partitionTable.partitions[1]!;
      const fs = await Ext4FileSystem.open(new SliceByteSource(disk, root.startBytes, root.sizeBytes, 'root'));
      const listing = await fs.list('/big');
      expect(listing).toHaveLength(600);
      // debugfs, run on the same partition, is the reference.
      const part = join(dir, 'root.part');
      sh('dd', [`if=${path}`, `of=${part}`, 'bs=1M', `skip=${root.startBytes / 1048576}`, `count=${root.sizeBytes / 1048576}`, 'status=none']);
      expect(sh('debugfs', ['-R', 'cat /big/file-with-a-longish-name-599', part])).toBe('599');
      expect((await fs.readFile('/big/file-with-a-longish-name-599'))!.toString()).toBe('599');
      expect((await fs.readFile('/opt/big.txt'))!.toString()).toBe(big);
      expect(await fs.readFile('/nope')).toBeUndefined();
      expect(await fs.readFile('/etc')).toBeUndefined();
    } finally {
      await disk.close();
    }
  });

  it('refuses files that are not disk images, naming them', async () => {
    const junk = join(dir, 'junk.img');
    writeFileSync(junk, Buffer.alloc(4096, 0x41));
    await expect(inspectFile(junk)).rejects.toThrow(/junk.img: not a disk image/);
    const tiny = join(dir, 'tiny.img');
    writeFileSync(tiny, 'hi');
    await expect(inspectFile(tiny)).rejects.toThrow(/tiny.img: 2 bytes is too small/);
  });

  it('refuses a truncated image whose partitions run past its end', async () => {
    const path = join(dir, 'cut.img');
    makeSmallImage(path);
    sh('truncate', ['-s', '60M', path]);
    await expect(inspectFile(path)).rejects.toThrow(/partition 2 ends past the end of the image/);
  });
});

// Skipped, not passed, when the tools are missing: the reason is printed (and CI fails on any skip).
if (missing.length > 0) skipReason('inspectImage on real images', `missing tools: ${missing.join(', ')}`);

describe('parsers', () => {
  it('reads os-release quoting', () => {
    expect(parseKeyValues('A="x y"\nB=\'q\'\n# c\nC=plain\nD="a\\"b"\nbad line')).toEqual({ A: 'x y', B: 'q', C: 'plain', D: 'a"b' });
  });
  it('reads fstab, skipping comments', () => {
    expect(parseFstab('# x\n\nUUID=1 / ext4 defaults 0 1\n')).toEqual([
      { spec: 'UUID=1', file: '/', vfstype: 'ext4', options: 'defaults', freq: 0, passno: 1 },
    ]);
  });
});
