import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOrder, readModuleInfo, type ModuleInfo } from './kernel-module';

const cc = spawnSync('cc', ['--version']).status === 0;

/** A real ELF relocatable object with a .modinfo section, as the kernel's build makes one (the machine's own C compiler). */
function objectWithModinfo(modinfo: string): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'modinfo-'));
  try {
    const bytes = [...Buffer.from(modinfo, 'utf8')].map((b) => `0x${b.toString(16)}`).join(',');
    writeFileSync(
      join(dir, 'm.c'),
      `__attribute__((section(".modinfo"), used)) static const char info[] = {${bytes}, 0};\nint unrelated(void) { return 1; }\n`,
    );
    execFileSync('cc', ['-c', '-o', join(dir, 'm.o'), join(dir, 'm.c')]);
    return readFileSync(join(dir, 'm.o'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('kernel modules', () => {
  it.skipIf(!cc)("reads the name and dependencies from an ELF object's .modinfo (no C compiler: skipped)", () => {
    const elf = objectWithModinfo('license=GPL\0depends=jbd2,mbcache,crc16\0name=ext4\0vermagic=6.1.0');
    expect(readModuleInfo(elf, 'ext4.ko')).toEqual({ name: 'ext4', depends: ['jbd2', 'mbcache', 'crc16'] });
    const none = objectWithModinfo('depends=\0name=virtio-rng');
    expect(readModuleInfo(none, 'virtio-rng.ko')).toEqual({ name: 'virtio_rng', depends: [] });
  });

  it('refuses what is not a module, and section tables pointing outside the file', () => {
    expect(() => readModuleInfo(Buffer.from('not an elf at all, not at all, not at all, not at all, not at all'), 'x.ko')).toThrow(
      /x\.ko: not a kernel module: no ELF header/,
    );
    const elf = Buffer.alloc(64);
    elf.writeUInt32BE(0x7f454c46, 0);
    elf[4] = 2;
    elf[5] = 1;
    elf.writeBigUInt64LE(1n << 40n, 0x28);
    elf.writeUInt16LE(64, 0x3a);
    elf.writeUInt16LE(3, 0x3c);
    expect(() => readModuleInfo(elf, 'y.ko')).toThrow(/section headers outside the file/);
  });

  const info = new Map<string, ModuleInfo>([
    ['ext4', { name: 'ext4', depends: ['jbd2', 'mbcache', 'crc16'] }],
    ['jbd2', { name: 'jbd2', depends: [] }],
    ['mbcache', { name: 'mbcache', depends: [] }],
    ['crc16', { name: 'crc16', depends: [] }],
    ['vfat', { name: 'vfat', depends: ['fat'] }],
    ['fat', { name: 'fat', depends: [] }],
    ['a', { name: 'a', depends: ['b'] }],
    ['b', { name: 'b', depends: ['a'] }],
  ]);

  it('orders modules after their dependencies, each once, built-in ones skipped', () => {
    expect(loadOrder(['vfat', 'ext4', 'fat'], info, new Set(['mbcache']))).toEqual(['fat', 'vfat', 'jbd2', 'crc16', 'ext4']);
    expect(loadOrder(['virtio-blk'], info, new Set(['virtio_blk']))).toEqual([]);
  });

  it('names a missing module and who needs it, and a dependency loop', () => {
    expect(() => loadOrder(['ext4'], new Map([['ext4', info.get('ext4')!]]), new Set())).toThrow(/no module jbd2 \(needed by ext4\)/);
    expect(() => loadOrder(['a'], info, new Set())).toThrow(/in a loop: a → b → a/);
  });
});
