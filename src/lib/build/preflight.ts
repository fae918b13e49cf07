/**
 * Checks a host before a forty-minute build, each failure with its fix: free
 * disk space, loop devices (export-image needs them), binfmt_misc with an
 * aarch64 interpreter on hosts that are not ARM, and for native builds the
 * tools pi-gen's `depends` file lists.
 */
import { existsSync, readFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';

export interface PreflightResult {
  check: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

export interface HostFacts {
  arch: string;
  freeBytes: (path: string) => Promise<number>;
  exists: (path: string) => boolean;
  read: (path: string) => string | undefined;
  onPath: (tool: string) => boolean;
}

export const realHost: HostFacts = {
  arch: process.arch,
  freeBytes: async (path) => {
    const s = await statfs(path);
    return s.bavail * s.bsize;
  },
  exists: (path) => existsSync(path),
  read: (path) => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  },
  onPath: (tool) =>
    (process.env.PATH ?? '')
      .split(':')
      .filter(Boolean)
      .some((dir) => existsSync(`${dir}/${tool}`)),
};

export function isArmHost(arch: string): boolean {
  return arch === 'arm64' || arch === 'arm';
}

/** pi-gen's depends file: one `tool[:package]` per line, # comments. */
export function parseDepends(text: string): { tool: string; pkg: string }[] {
  return text
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean)
    .map((l) => {
      const [tool, pkg] = l.split(':', 2) as [string, string | undefined];
      return { tool, pkg: pkg ?? tool };
    });
}

export interface PreflightOptions {
  workDir: string;
  minFreeGiB: number;
  native: boolean;
  /** pi-gen's depends file, for native builds. */
  dependsFile?: string;
  /** Tools put on PATH by the build itself (qemu shims). */
  provided?: readonly string[];
  /** EXPORT=rootless: no loop devices needed, the image assembler's tools instead. */
  rootlessExport?: boolean;
}

/** What the rootless export runs on the host to assemble an image: tool and Debian package. */
export const ROOTLESS_EXPORT_TOOLS = [
  { tool: 'sfdisk', pkg: 'fdisk' },
  { tool: 'mkfs.ext4', pkg: 'e2fsprogs' },
  { tool: 'mkfs.fat', pkg: 'dosfstools' },
  { tool: 'mcopy', pkg: 'mtools' },
  { tool: 'mmd', pkg: 'mtools' },
] as const;

export async function preflight(options: PreflightOptions, host: HostFacts = realHost): Promise<PreflightResult[]> {
  const results: PreflightResult[] = [];
  const free = await host.freeBytes(options.workDir);
  const freeGiB = free / 2 ** 30;
  results.push({
    check: 'disk space',
    ok: freeGiB >= options.minFreeGiB,
    detail: `${freeGiB.toFixed(1)} GiB free at ${options.workDir}, ${options.minFreeGiB} GiB needed`,
    fix: 'free space (on GitHub runners: sudo rm -rf /usr/local/lib/android /opt/hostedtoolcache /usr/share/dotnet), or build on a larger disk (work-dir)',
  });
  if (options.rootlessExport) {
    const missing = ROOTLESS_EXPORT_TOOLS.filter((t) => !host.onPath(t.tool));
    results.push({
      check: 'rootless export tools',
      ok: missing.length === 0,
      detail: missing.length === 0 ? ROOTLESS_EXPORT_TOOLS.map((t) => t.tool).join(', ') + ' found' : `missing: ${missing.map((m) => m.tool).join(', ')}`,
      fix: `sudo apt-get install ${[...new Set(missing.map((m) => m.pkg))].join(' ')}`,
    });
  } else {
    results.push({
      check: 'loop devices',
      ok: host.exists('/dev/loop-control'),
      detail: host.exists('/dev/loop-control')
        ? '/dev/loop-control present'
        : 'no /dev/loop-control: export-image cannot attach the image (EXPORT=rootless needs none)',
      fix: 'sudo modprobe loop (and run containers --privileged, as build-docker.sh does), or set EXPORT=rootless',
    });
  }
  if (!isArmHost(host.arch)) {
    const mounted = host.exists('/proc/sys/fs/binfmt_misc/status');
    const entry = host.read('/proc/sys/fs/binfmt_misc/qemu-aarch64') ?? '';
    const ok = mounted && /^enabled/m.test(entry);
    results.push({
      check: 'arm64 emulation (binfmt_misc)',
      ok,
      detail: !mounted
        ? 'binfmt_misc is not mounted'
        : ok
          ? `qemu-aarch64 registered (${/interpreter (\S+)/.exec(entry)?.[1] ?? 'interpreter unknown'})`
          : 'no enabled qemu-aarch64 entry',
      fix: 'sudo apt-get install qemu-user-static binfmt-support && sudo update-binfmts --enable qemu-aarch64',
    });
  }
  if (options.native && options.dependsFile) {
    const text = host.read(options.dependsFile);
    if (text !== undefined) {
      const provided = new Set(options.provided ?? []);
      const missing = parseDepends(text).filter((d) => !provided.has(d.tool) && !host.onPath(d.tool));
      results.push({
        check: "pi-gen's dependencies",
        ok: missing.length === 0,
        detail: missing.length === 0 ? 'all tools in pi-gen/depends found' : `missing: ${missing.map((m) => m.tool).join(', ')}`,
        fix: `sudo apt-get install ${[...new Set(missing.map((m) => m.pkg))].join(' ')}`,
      });
    }
  }
  return results;
}
