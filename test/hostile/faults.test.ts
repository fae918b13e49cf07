/**
 * Faults that are not the input's: a full output disk (a real tmpfs of a few
 * KiB), an interrupted run (SIGINT, SIGTERM), a FIFO where a file belongs, an
 * output that would replace its input. Each must end by itself, blame the
 * right thing (output failures exit 1 naming the output; input errors exit 2
 * naming the input), stop its children, and leave no partial output.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSigstoreMock } from '../support/sigstore-mock';
import { makeInfo, makeSmallImage, SMALL_IMAGE_TOOLS } from '../support/small-image';
import { isRoot, missingTools, skipReason } from '../support/tools';
import { expectBounded, runBounded, type BoundedRun } from './support/bounded-cli';
import { childOf, processesMentioning, withSmallDisk } from './support/craft';

const missing = missingTools([...SMALL_IMAGE_TOOLS, 'xz', 'mkfifo', '/usr/bin/time']);
if (missing.length > 0) skipReason('hostile faults', `missing tools: ${missing.join(', ')}`);
const root = isRoot();
if (!root) skipReason('full-disk cases', 'they mount a small tmpfs as the output disk, which needs root');

const work = mkdtempSync(join(tmpdir(), 'hostile-faults-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function deployOf(name: string, options: { xz?: boolean; randomMiB?: number } = {}): { deploy: string; image: string } {
  const deploy = join(work, `deploy-${name}`);
  mkdirSync(deploy);
  const raw = join(deploy, '2026-01-19-faulty.img');
  makeSmallImage(raw, {
    ...(options.randomMiB ? { rootMiB: options.randomMiB + 24, rootFiles: { 'var/noise': randomBytes(options.randomMiB * 786432).toString('base64') } } : {}),
  });
  writeFileSync(join(deploy, '2026-01-19-faulty.info'), makeInfo(3));
  if (!options.xz) return { deploy, image: raw };
  execFileSync('xz', ['-0', '-T1', raw]);
  return { deploy, image: `${raw}.xz` };
}

const partials = (dir: string): string[] => readdirSync(dir).filter((n) => n.includes('.partial-') || n.startsWith('pi-image-'));

describe.skipIf(missing.length > 0)('faults: the right thing blamed, nothing left behind', () => {
  let small: { deploy: string; image: string };
  let compressed: { deploy: string; image: string };
  beforeAll(() => {
    // A MiB of noise: its compressed image cannot fit the small disks below.
    small = deployOf('raw', { randomMiB: 1 });
    compressed = deployOf('xz', { xz: true, randomMiB: 1 });
  });

  it.skipIf(!root)('a full output disk while the image is compressed: the output is blamed (exit 1), not the image', async () => {
    await withSmallDisk(256, 100, async (disk) => {
      const out = join(disk, 'release');
      const run = await runBounded(['package', small.deploy, '--out', out, '--compression-level', '0'], { timeoutMs: 60_000 });
      expect(expectBounded(run, 30)).toEqual([]);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(new RegExp(`cannot write ${disk}/\\.release\\.partial-[^/]+/faulty\\.img\\.xz: .*(ENOSPC|no space)`, 'i'));
      expect(run.stderr).toContain('[IO_FAILED]');
      expect(run.stderr).not.toMatch(/IMAGE_CORRUPT|cannot be read to the end/);
      expect(readdirSync(disk)).toEqual([]);
    });
  });

  it.skipIf(!root)('a disk that runs out of room for the small files: the file is named (exit 1)', async () => {
    // Room for the partial directory and the compressed image, not one file more.
    await withSmallDisk(16 * 1024, 3, async (disk) => {
      const run = await runBounded(['package', small.deploy, '--out', join(disk, 'release'), '--compression-level', '0'], { timeoutMs: 60_000 });
      expect(expectBounded(run, 30)).toEqual([]);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(new RegExp(`cannot write ${disk}/\\.release\\.partial-[^/]+/faulty\\.img\\.xz\\.sha256: .*(ENOSPC|no space)`, 'i'));
      expect(readdirSync(disk)).toEqual([]);
    });
  });

  it.skipIf(!root)('a full disk while an .img.xz is copied: the process ends, the decompressor with it (once it never exited)', async () => {
    await withSmallDisk(256, 100, async (disk) => {
      const run = await runBounded(['package', compressed.deploy, '--out', join(disk, 'release')], { timeoutMs: 60_000 });
      expect(expectBounded(run, 30)).toEqual([]);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(new RegExp(`cannot write ${disk}/\\.release\\.partial-[^/]+/[^:]+: ENOSPC.*\\[IO_FAILED\\]`));
      expect(processesMentioning(compressed.image)).toEqual([]);
      expect(readdirSync(disk)).toEqual([]);
    });
  });

  /** Runs the CLI and sends `signal` once `ready()`; `times` > 1 repeats it, as an impatient user presses Ctrl-C again. */
  const interrupted = async (args: string[], signal: NodeJS.Signals, ready: () => boolean, tmp: string, times = 1): Promise<BoundedRun> => {
    const run = runBounded(args, {
      env: { TMPDIR: tmp },
      timeoutMs: 120_000,
      onStart: (pid) => {
        void (async () => {
          const cli = await childOf(pid);
          for (let i = 0; i < 600 && !ready(); i++) await new Promise((r) => setTimeout(r, 50));
          for (let i = 0; i < times; i++) {
            if (i > 0) await new Promise((r) => setTimeout(r, 30));
            try {
              process.kill(cli, signal);
            } catch {
              // already gone
            }
          }
        })();
      },
    });
    return run;
  };

  it('SIGINT twice during package: exit 130, the partial release removed, xz stopped, no misleading error', async () => {
    const big = deployOf('big', { randomMiB: 48 });
    const tmp = join(work, 'tmp-int');
    mkdirSync(tmp);
    const outParent = join(work, 'int-out');
    mkdirSync(outParent);
    const run = await interrupted(
      ['package', big.deploy, '--out', join(outParent, 'release'), '--compression-level', '9', '--threads', '1'],
      'SIGINT',
      () => readdirSync(outParent).length > 0,
      tmp,
      2,
    );
    expect(expectBounded(run, 60), run.stderr).toEqual([]);
    expect(run.code, run.stderr).toBe(130);
    expect(run.stderr).toMatch(/SIGINT: stopping; removing partial output/);
    expect(run.stderr.match(/stopping/g), 'the second SIGINT is ignored while cleaning up').toHaveLength(1);
    expect(run.stderr).not.toMatch(/error:/);
    expect(readdirSync(outParent)).toEqual([]);
    expect(readdirSync(tmp)).toEqual([]);
    expect(processesMentioning('--compress --stdout -9')).toEqual([]);
  });

  it('SIGTERM during inspect of an .img.xz: exit 143, the temporary copy removed, xz stopped', async () => {
    const big = deployOf('big-xz', { randomMiB: 48, xz: true });
    const tmp = join(work, 'tmp-term');
    mkdirSync(tmp);
    const run = await interrupted(['inspect', big.image], 'SIGTERM', () => readdirSync(tmp).length > 0, tmp);
    expect(expectBounded(run, 60), run.stderr).toEqual([]);
    expect(run.code, run.stderr).toBe(143);
    expect(readdirSync(tmp)).toEqual([]);
    expect(processesMentioning(big.image)).toEqual([]);
  });

  it('a FIFO given as an image, as the deploy image, or as a signature: refused at once, never read', async () => {
    const fifo = join(work, 'image.img');
    execFileSync('mkfifo', [fifo]);
    const inspect = await runBounded(['inspect', fifo], { timeoutMs: 20_000 });
    expect(expectBounded(inspect, 10)).toEqual([]);
    expect(inspect.code).toBe(2);
    expect(inspect.stderr).toContain(`${fifo} is not a regular file (a FIFO)`);

    const deploy = join(work, 'deploy-fifo');
    mkdirSync(deploy);
    execFileSync('mkfifo', [join(deploy, '2026-01-19-x.img')]);
    writeFileSync(join(deploy, '2026-01-19-x.info'), makeInfo(1));
    const pkg = await runBounded(['package', deploy, '--out', join(work, 'never'), '--image', '2026-01-19-x.img'], { timeoutMs: 20_000 });
    expect(expectBounded(pkg, 10)).toEqual([]);
    expect(pkg.code, pkg.stderr).toBe(2);
    expect(pkg.stderr).toMatch(/2026-01-19-x\.img is not a regular file \(a FIFO\)/);
    expect(existsSync(join(work, 'never'))).toBe(false);

    const release = join(work, 'release-fifo');
    const made = await runBounded(['package', small.deploy, '--out', release, '--compression-level', '0', '-q'], { timeoutMs: 60_000 });
    expect(made.code, made.stderr).toBe(0);
    execFileSync('mkfifo', [join(release, 'faulty.sigstore.json')]);
    const mock = await startSigstoreMock();
    const trustedRoot = join(work, 'trusted-root.json');
    writeFileSync(trustedRoot, JSON.stringify(mock.trustedRoot));
    await mock.close();
    const verify = await runBounded(
      ['verify', release, '--repository', 'acme/appliance', '--signer-workflow', 'acme/appliance/.github/workflows/release.yml', '--trusted-root', trustedRoot],
      { timeoutMs: 20_000 },
    );
    expect(expectBounded(verify, 10)).toEqual([]);
    expect(verify.code, verify.stderr).toBe(1);
    expect(verify.stderr).toMatch(/faulty\.sigstore\.json cannot be read as a Sigstore bundle: .*is not a regular file \(a FIFO\) \[BUNDLE_CORRUPT\]/);
  });

  it('an output that is the deploy directory, or holds it, is refused even with --force: the input survives', async () => {
    const { deploy } = deployOf('self');
    const before = readdirSync(deploy).sort();
    for (const out of [deploy, join(deploy, '..')]) {
      const run = await runBounded(['package', deploy, '--out', out, '--force', '--compression-level', '0'], { timeoutMs: 30_000 });
      expect(expectBounded(run, 20)).toEqual([]);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toMatch(/--out .* is, or holds, the input .*: writing there would replace it/);
      expect(readdirSync(deploy).sort()).toEqual(before);
    }
    expect(partials(work)).toEqual([]);
  });
});
