import { describe, expect, it } from 'vitest';
import { parseDepends, preflight, type HostFacts } from './preflight';

function host(over: Partial<HostFacts> & { files?: Record<string, string>; tools?: string[] }): HostFacts {
  const files = over.files ?? {};
  return {
    arch: over.arch ?? 'x64',
    freeBytes: over.freeBytes ?? (async () => 50 * 2 ** 30),
    exists: (p) => p in files,
    read: (p) => files[p],
    onPath: (t) => (over.tools ?? []).includes(t),
  };
}

const ready = {
  '/dev/loop-control': '',
  '/proc/sys/fs/binfmt_misc/status': 'enabled',
  '/proc/sys/fs/binfmt_misc/qemu-aarch64': 'enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: PF\n',
  '/pg/depends': 'quilt\nqemu-arm:qemu-user-binfmt\nmkdosfs:dosfstools\n# comment\n',
};

describe('preflight', () => {
  it('passes a ready x86 host', async () => {
    const r = await preflight(
      { workDir: '/w', minFreeGiB: 10, native: true, dependsFile: '/pg/depends', provided: ['qemu-arm'] },
      host({ files: ready, tools: ['quilt', 'mkdosfs'] }),
    );
    expect(r.map((c) => [c.check, c.ok])).toEqual([
      ['disk space', true],
      ['loop devices', true],
      ['arm64 emulation (binfmt_misc)', true],
      ["pi-gen's dependencies", true],
    ]);
  });

  it('gives each failure its fix', async () => {
    const r = await preflight(
      { workDir: '/w', minFreeGiB: 20, native: true, dependsFile: '/pg/depends' },
      host({ files: { '/pg/depends': ready['/pg/depends'] }, freeBytes: async () => 3 * 2 ** 30 }),
    );
    const failed = Object.fromEntries(r.filter((c) => !c.ok).map((c) => [c.check, `${c.detail} | ${c.fix}`]));
    expect(failed['disk space']).toMatch(/^3\.0 GiB free at \/w, 20 GiB needed \| free space/);
    expect(failed['loop devices']).toMatch(/modprobe loop/);
    expect(failed['arm64 emulation (binfmt_misc)']).toMatch(/binfmt_misc is not mounted \| sudo apt-get install qemu-user-static binfmt-support/);
    expect(failed["pi-gen's dependencies"]).toBe('missing: quilt, qemu-arm, mkdosfs | sudo apt-get install quilt qemu-user-binfmt dosfstools');
  });

  it('skips the emulation check on ARM hosts', async () => {
    const r = await preflight({ workDir: '/w', minFreeGiB: 1, native: false }, host({ arch: 'arm64', files: { '/dev/loop-control': '' } }));
    expect(r.map((c) => c.check)).toEqual(['disk space', 'loop devices']);
  });

  it("reads pi-gen's depends format", () => {
    expect(parseDepends('a\nb:pkg-b # why\n\n# x\n')).toEqual([
      { tool: 'a', pkg: 'a' },
      { tool: 'b', pkg: 'pkg-b' },
    ]);
  });
});
