/**
 * The OurBox Mini stage's two host contracts. The scripts run as pi-gen runs
 * them (host side with ROOTFS_DIR, chroot side under qemu) against a real arm64
 * Debian root file system: the cached test image is built by running them,
 * twice. Their refusals are checked on scratch directories.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileByteSource, SliceByteSource } from '../../src/lib/image/byte-source';
import { Ext4FileSystem } from '../../src/lib/image/ext4';
import { readPartitionTable } from '../../src/lib/image/partition-table';
import { DATA_FSTAB_LINE } from '../support/ourbox-contract';
import { cachedTestImage, REPO_ROOT, testImageUnavailable } from '../support/test-image';
import { skipReason } from '../support/tools';

const STAGE = join(REPO_ROOT, 'pigen/stages/stage-ourbox-mini');
const IDENTITY = { OURBOX_PRODUCT: 'ourbox', OURBOX_DEVICE: 'mini', OURBOX_TARGET: 'rpi', OURBOX_SKU: 'TOO-OBX-MINI-01', OURBOX_VARIANT: 'dev' };

const why = testImageUnavailable();
if (why) skipReason('stage contracts on the real rootfs', why);

describe.skipIf(why !== undefined)('stage-ourbox-mini on a real arm64 Debian rootfs', () => {
  async function rootFs() {
    const disk = await FileByteSource.open(cachedTestImage()!.img);
    const table = await readPartitionTable(disk);
    const p = table.partitions[1]!;
    return { disk, fs: await Ext4FileSystem.open(new SliceByteSource(disk, p.startBytes, p.sizeBytes, 'rootfs')) };
  }

  it('writes /etc/ourbox/release with the seven keys, version and hash from the build', async () => {
    const { disk, fs } = await rootFs();
    try {
      expect((await fs.readFile('/etc/ourbox/release'))!.toString()).toBe(
        [
          'OURBOX_PRODUCT=ourbox',
          'OURBOX_DEVICE=mini',
          'OURBOX_TARGET=rpi',
          'OURBOX_SKU=TOO-OBX-MINI-01',
          'OURBOX_VARIANT=dev',
          'OURBOX_VERSION=0.0.0-test',
          'OURBOX_RECIPE_GIT_HASH=0123456789abcdef0123456789abcdef01234567',
          '',
        ].join('\n'),
      );
    } finally {
      await disk.close();
    }
  });

  it('leaves exactly one DATA line in fstab after two runs, keeps the others, creates the mount point and enables fstrim.timer', async () => {
    const { disk, fs } = await rootFs();
    try {
      const fstab = (await fs.readFile('/etc/fstab'))!.toString().split('\n');
      expect(fstab.filter((l) => l.includes('OURBOX_DATA'))).toEqual([DATA_FSTAB_LINE]);
      expect(fstab.filter((l) => l.startsWith('PARTUUID='))).toHaveLength(2);
      expect(await fs.list('/var/lib/ourbox')).toEqual([]);
      const wants = await fs.list('/etc/systemd/system/timers.target.wants');
      expect(wants).toContainEqual({ name: 'fstrim.timer', type: 'symlink', target: expect.stringMatching(/^\/(usr\/)?lib\/systemd\/system\/fstrim\.timer$/) });
      expect(await fs.readFile('/lib/systemd/system/fstrim.timer')).toBeDefined();
    } finally {
      await disk.close();
    }
  });
});

describe('stage-ourbox-mini refuses what would break its contracts', () => {
  const work = mkdtempSync(join(tmpdir(), 'stage-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  function run(script: string, env: Record<string, string>, rootfs: string) {
    return spawnSync('bash', [join(STAGE, script)], {
      cwd: join(STAGE, script, '..'),
      encoding: 'utf8',
      env: { PATH: process.env.PATH, ROOTFS_DIR: rootfs, ...env },
    });
  }

  it.each([
    ['a missing version', { PI_IMAGE_RECIPE_GIT_HASH: 'abc' }, /OURBOX_VERSION is not set/],
    ['a value with a space', { PI_IMAGE_VERSION: '1.0 beta', PI_IMAGE_RECIPE_GIT_HASH: 'abc' }, /OURBOX_VERSION="1.0 beta" has characters outside/],
    ['a value with a newline', { PI_IMAGE_VERSION: '1.0\nOURBOX_SKU=evil', PI_IMAGE_RECIPE_GIT_HASH: 'abc' }, /has characters outside/],
  ])('the release file refuses %s and writes nothing', (_label, env, message) => {
    const rootfs = join(work, `r-${Math.random().toString(36).slice(2)}`);
    mkdirSync(rootfs);
    const r = run('00-ourbox-contract/00-run.sh', { ...IDENTITY, ...env }, rootfs);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(spawnSync('ls', ['-A', join(rootfs, 'etc/ourbox')], { encoding: 'utf8' }).stdout).toBe('');
  });

  it('the explicit OURBOX_VERSION wins over the build version', () => {
    const rootfs = join(work, 'explicit');
    mkdirSync(rootfs);
    const r = run('00-ourbox-contract/00-run.sh', { ...IDENTITY, OURBOX_VERSION: '9.9.9', PI_IMAGE_VERSION: '1.0.0', PI_IMAGE_RECIPE_GIT_HASH: 'abc' }, rootfs);
    expect(r.status).toBe(0);
    expect(readFileSync(join(rootfs, 'etc/ourbox/release'), 'utf8')).toContain('OURBOX_VERSION=9.9.9\n');
  });

  it('fstab: replaces an older DATA entry (by label or mount point) and keeps comments and other entries', () => {
    const rootfs = join(work, 'fstab');
    mkdirSync(join(rootfs, 'etc'), { recursive: true });
    writeFileSync(
      join(rootfs, 'etc/fstab'),
      '# static file system information\nproc /proc proc defaults 0 0\nLABEL=OURBOX_DATA /data ext4 defaults 0 2\n/dev/sdb1 /var/lib/ourbox xfs defaults 0 0\n',
    );
    for (let i = 0; i < 3; i++) expect(run('01-storage-contract/00-run.sh', {}, rootfs).status).toBe(0);
    expect(readFileSync(join(rootfs, 'etc/fstab'), 'utf8')).toBe(`# static file system information\nproc /proc proc defaults 0 0\n${DATA_FSTAB_LINE}\n`);
  });
});
