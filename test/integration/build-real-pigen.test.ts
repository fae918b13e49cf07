/**
 * `pi-image build --runtime native` driving upstream pi-gen's real build.sh:
 * a Debian-only base stage (this machine cannot reach archive.raspberrypi.com
 * for upstream stage0-2), then the real stage-ourbox-mini (with SKIP_IMAGES:
 * export-image needs vfat mounts this kernel lacks). Checks both host
 * contracts in the root file system pi-gen built, and reads pi-gen's real
 * build.log with the package step's parser. Needs pi-gen (PI_GEN_DIR,
 * vendor/pi-gen, or the shared git bundle of the pinned commit), root, and
 * pi-gen's dependencies; says which is missing and skips otherwise (in CI
 * a skip fails the run). The full build (stage0-2, export) runs in
 * .github/workflows on GitHub's runners.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseBuildLog, stagesOf } from '../../src/lib/pigen/build-log';
import { parseDepends } from '../../src/lib/build/preflight';
import { runPiImage } from '../support/cli';
import { DATA_FSTAB_LINE } from '../support/ourbox-contract';
import { testPiGen } from '../support/pigen';
import { REPO_ROOT } from '../support/test-image';
import { isRoot, missingTools, skipReason } from '../support/tools';

const pigen = testPiGen();
const pigenDir = 'dir' in pigen ? pigen.dir : undefined;
function unavailable(): string | undefined {
  if (!pigenDir) return 'why' in pigen ? pigen.why : 'pi-gen is not present';
  if (!isRoot()) return "pi-gen's build.sh runs as root";
  const missing = missingTools([
    ...parseDepends(readFileSync(join(pigenDir, 'depends'), 'utf8'))
      .map((d) => d.tool)
      .filter((t) => !t.startsWith('qemu-')),
    'qemu-aarch64-static',
  ]);
  return missing.length > 0 ? `pi-gen's dependencies are missing: ${missing.join(', ')}` : undefined;
}
const why = unavailable();
if (why) skipReason('real pi-gen build', why);

const FIXTURES = join(REPO_ROOT, 'test/fixtures/pigen-stages');
const HASH = 'feedfacefeedfacefeedfacefeedfacefeedface';

describe.skipIf(why !== undefined)('pi-image build on real pi-gen (native build.sh)', () => {
  const work = mkdtempSync(join(tmpdir(), 'pigen-build-'));
  afterAll(() => {
    // pi-gen leaves nothing mounted on success; be safe before removing its tree.
    spawnSync('sh', ['-c', `grep -o " ${work}[^ ]*" /proc/mounts | sort -r | xargs -r umount -l`]);
    rmSync(work, { recursive: true, force: true });
  });
  const ourbox = join(work, 'stages', 'stage-ourbox-mini');
  cpSync(join(REPO_ROOT, 'pigen/stages/stage-ourbox-mini'), ourbox, { recursive: true });
  writeFileSync(join(ourbox, 'SKIP_IMAGES'), '');

  it('builds both contracts into the root file system and leaves a build.log the parser reads', () => {
    const out = join(work, 'build');
    const r = runPiImage(
      [
        'build',
        '--config',
        join(FIXTURES, 'test.env'),
        '--set',
        `STAGE_LIST=${join(FIXTURES, 'stage-debian-base')} ${ourbox}`,
        '--set',
        `KEYBOARD_LAYOUT=English (US) "quoted" $(touch ${work}/pwned) \`id\``,
        '--version',
        '1.2.3',
        '--runtime',
        'native',
        '--work-dir',
        out,
        '--pigen-dir',
        pigenDir!,
        '--recipe-git-hash',
        HASH,
        '--min-free-gb',
        '2',
        '--apt-cache',
        join(work, 'apt-cache'),
      ],
      { cwd: REPO_ROOT, env: { PI_IMAGE_FIRST_USER_PASS: 'hunter2-secret' } },
    );
    if (r.code !== 0) console.error(r.stderr.slice(-4000));
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('── pi-gen stage-debian-base ──');
    expect(r.stderr).toContain('── pi-gen stage-ourbox-mini ──');
    expect(r.stderr).not.toContain('hunter2-secret');
    expect(existsSync(join(work, 'pwned'))).toBe(false);
    // debootstrap and apt fetched through the build's apt proxy; the packages are kept for next time.
    const debs = (readdirSync(join(work, 'apt-cache'), { recursive: true }) as string[]).filter((f) => f.endsWith('.deb'));
    expect(debs.length).toBeGreaterThan(50);
    expect(r.stderr).toMatch(/apt cache: 0 package files from the cache, \d+ downloaded and kept/);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ deployDir: join(out, 'deploy'), image: null, buildLog: join(out, 'deploy', 'build.log') });

    const rootfs = join(out, 'work', 'stage-ourbox-mini', 'rootfs');
    expect(readFileSync(join(rootfs, 'etc/pi-image-test-arch'), 'utf8').trim()).toBe('aarch64');
    expect(readFileSync(join(rootfs, 'etc/ourbox/release'), 'utf8')).toBe(
      `OURBOX_PRODUCT=ourbox\nOURBOX_DEVICE=mini\nOURBOX_TARGET=rpi\nOURBOX_SKU=TOO-OBX-MINI-01\nOURBOX_VARIANT=test\nOURBOX_VERSION=1.2.3\nOURBOX_RECIPE_GIT_HASH=${HASH}\n`,
    );
    const fstab = readFileSync(join(rootfs, 'etc/fstab'), 'utf8').split('\n');
    expect(fstab.filter((l) => l.includes('OURBOX_DATA'))).toEqual([DATA_FSTAB_LINE]);
    expect(fstab.filter((l) => /BOOTDEV|ROOTDEV/.test(l))).toHaveLength(2);
    expect(existsSync(join(rootfs, 'var/lib/ourbox'))).toBe(true);
    expect(readlinkSync(join(rootfs, 'etc/systemd/system/timers.target.wants/fstrim.timer'))).toMatch(/\/lib\/systemd\/system\/fstrim\.timer$/);

    const timeline = parseBuildLog(readFileSync(result.buildLog, 'utf8'), 'build.log');
    expect(timeline.result).toBe('finished');
    expect(stagesOf(timeline).map((s) => [s.name, s.complete])).toEqual([
      ['stage-debian-base', true],
      ['stage-ourbox-mini', true],
    ]);
    expect(stagesOf(timeline)[1]!.children.map((c) => c.name)).toEqual(['prerun.sh', '00-ourbox-contract', '01-storage-contract']);

    const config = readFileSync(join(out, 'config'), 'utf8');
    expect(config).toContain("export IMG_FILENAME='ourbox-test-1.2.3'");
    expect(config).toContain("export ARCHIVE_FILENAME='image_ourbox-test-1.2.3'");
    expect(config).toContain(`export GIT_HASH='${HASH}'`);
    expect(config).not.toMatch(/^#.*hunter2/m);
  });

  it('names the stage and step that failed', () => {
    const failing = join(work, 'stage-fails');
    mkdirSync(join(failing, '00-broken'), { recursive: true });
    writeFileSync(join(failing, '00-broken', '00-run.sh'), '#!/bin/bash -e\necho "about to fail"\nexit 3\n', { mode: 0o755 });
    const r = runPiImage(
      [
        'build',
        '--config',
        join(FIXTURES, 'test.env'),
        '--set',
        `STAGE_LIST=${failing}`,
        '--runtime',
        'native',
        '--work-dir',
        join(work, 'fail'),
        '--pigen-dir',
        pigenDir!,
        '--min-free-gb',
        '1',
      ],
      { cwd: REPO_ROOT },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('about to fail');
    expect(r.stderr).toMatch(/pi-gen failed in stage stage-fails, step 00-broken\/00-run\.sh \(exit code \d+\); full log: .*build\.log \[BUILD_FAILED\]/);
  });
});
