import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../core/logger';
import { baseInitramfs, kernelFromDeb, WANTED_MODULES } from './boot-kit';
import { collect, readDebData } from './deb-package';

const tools = ['dpkg-deb', 'cc', 'xz', 'cpio'].filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);

/**
 * Kernel packages made with dpkg-deb (Debian's own packer, xz-compressed data),
 * holding modules compiled by the machine's C compiler with a .modinfo
 * section, as the kernel's build makes them.
 */
describe.skipIf(tools.length > 0)(`kernel and modules from a Debian kernel package (skipped without ${['dpkg-deb', 'cc', 'xz', 'cpio'].join(', ')})`, () => {
  let dir: string;
  const logger = new MemoryLogger();
  const VERSION = '9.9.0-1-test';
  const MODULES: Record<string, { path: string; depends: string[] }> = {
    virtio_pci: { path: 'drivers/virtio/virtio_pci.ko', depends: ['virtio_pci_modern_dev'] },
    virtio_pci_modern_dev: { path: 'drivers/virtio/virtio_pci_modern_dev.ko', depends: [] },
    virtio_blk: { path: 'drivers/block/virtio_blk.ko', depends: [] },
    virtio_net: { path: 'drivers/net/virtio_net.ko', depends: ['net_failover'] },
    net_failover: { path: 'drivers/net/net_failover.ko', depends: ['failover'] },
    failover: { path: 'net/core/failover.ko', depends: [] },
    ext4: { path: 'fs/ext4/ext4.ko', depends: ['jbd2', 'crc16'] },
    jbd2: { path: 'fs/jbd2/jbd2.ko', depends: [] },
    vfat: { path: 'fs/fat/vfat.ko', depends: ['fat'] },
    fat: { path: 'fs/fat/fat.ko', depends: [] },
    unrelated: { path: 'sound/unrelated.ko', depends: [] },
  };

  function module(name: string, depends: string[], out: string): void {
    const info = `name=${name}\0depends=${depends.join(',')}\0license=GPL`;
    const bytes = [...Buffer.from(info)].map((b) => `0x${b.toString(16)}`).join(',');
    mkdirSync(dirname(out), { recursive: true });
    const c = join(dir, `${name}.c`);
    writeFileSync(c, `__attribute__((section(".modinfo"), used)) static const char info[] = {${bytes}, 0};\n`);
    execFileSync('cc', ['-c', '-o', out, c]);
    rmSync(c);
  }

  /** A kernel package with `modules` (all but those left out), crc16 built in, a kernel of `kernelBytes`. */
  function kernelDeb(name: string, options: { leaveOut?: string[]; kernelBytes?: Buffer } = {}): string {
    const root = join(dir, name);
    mkdirSync(join(root, 'DEBIAN'), { recursive: true });
    writeFileSync(join(root, 'DEBIAN/control'), `Package: linux-image-test\nVersion: 1\nArchitecture: arm64\nMaintainer: t <t@t>\nDescription: test\n`);
    mkdirSync(join(root, 'boot'));
    writeFileSync(join(root, `boot/vmlinuz-${VERSION}`), options.kernelBytes ?? Buffer.from('ARM64 kernel image'));
    const mods = join(root, 'usr/lib/modules', VERSION);
    mkdirSync(mods, { recursive: true });
    writeFileSync(join(mods, 'modules.builtin'), 'kernel/lib/crc16.ko\nkernel/drivers/virtio/virtio.ko\n');
    for (const [m, { path, depends }] of Object.entries(MODULES)) if (!options.leaveOut?.includes(m)) module(m, depends, join(mods, 'kernel', path));
    const deb = join(dir, `${name}.deb`);
    execFileSync('dpkg-deb', ['--root-owner-group', '-Zxz', '--build', root, deb], { stdio: 'ignore' });
    return deb;
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'boot-kit-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('takes the kernel and the wanted modules with their dependencies, in load order; built-in and absent optional ones left out', async () => {
    const deb = kernelDeb('good');
    const scratch = mkdtempSync(join(dir, 'scratch-'));
    const k = await kernelFromDeb(deb, WANTED_MODULES, scratch, logger);
    expect(k.version).toBe(VERSION);
    expect(k.kernel.toString()).toBe('ARM64 kernel image');
    expect(k.modules.map((m) => m.name)).toEqual([
      'virtio_pci_modern_dev',
      'virtio_pci',
      'virtio_blk',
      'failover',
      'net_failover',
      'virtio_net',
      'jbd2',
      'ext4',
      'fat',
      'vfat',
    ]);
  });

  it('names a required module the package lacks', async () => {
    const deb = kernelDeb('no-ext4', { leaveOut: ['ext4'] });
    await expect(kernelFromDeb(deb, WANTED_MODULES, mkdtempSync(join(dir, 'scratch-')), logger)).rejects.toMatchObject({
      code: 'INPUT_INVALID',
      message: expect.stringMatching(/the kernel package has no module ext4/) as unknown,
    });
  });

  it('an entry over its size cap is refused at once, the decompressor stopped (it once waited forever)', async () => {
    const deb = kernelDeb('big-kernel', { kernelBytes: randomBytes(8 * 1024 * 1024) });
    const started = Date.now();
    await expect(
      readDebData(deb, (e) => Promise.resolve(e.path.startsWith('boot/') ? collect(1024, e.path, () => undefined) : undefined), logger),
    ).rejects.toThrow(/larger than 1024 bytes/);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('the base initramfs holds /init, busybox, the modules in order and the probe, as GNU cpio lists them', () => {
    const archive = join(dir, 'initrd.cpio');
    writeFileSync(archive, baseInitramfs(Buffer.from('busybox'), [{ name: 'ext4', bytes: Buffer.from('ko') }]));
    const listing = execFileSync('sh', ['-c', 'cpio -it --quiet < "$1"', 'sh', archive], { encoding: 'utf8' }).trim().split('\n');
    expect(listing).toEqual(
      expect.arrayContaining([
        'init',
        'bin/busybox',
        'modules/order',
        'modules/ext4.ko',
        'probe/probe.sh',
        'probe/systemd/pi-image-probe.service',
        'probe/systemd/multi-user.target.wants/pi-image-probe.service',
      ]),
    );
    const out = join(dir, 'initrd-out');
    mkdirSync(out);
    execFileSync('sh', ['-c', 'cd "$1" && cpio -idm --quiet < "$2"', 'sh', out, archive]);
    expect(readFileSync(join(out, 'modules/order'), 'utf8')).toBe('ext4\n');
    expect(readFileSync(join(out, 'init'), 'utf8')).toMatch(/^#!\/bin\/busybox sh\n/);
  });
});
