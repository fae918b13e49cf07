/**
 * The whole chain on this machine, with upstream pi-gen's real build.sh: the
 * Debian-only OurBox Mini (pigen/config/ourbox-mini-debian.env: a base stage
 * from Debian's archive, since this machine cannot reach
 * archive.raspberrypi.com for upstream stage0-2, then the real
 * stage-ourbox-mini), exported by pi-image's rootless export (no loop device,
 * no vfat mount, which this kernel lacks), packaged, and boot-tested under
 * QEMU. The image and its file systems are checked by independent tools.
 * Also: a failing stage is named; a second build starts clean unless
 * --continue. Needs pi-gen (PI_GEN_DIR, vendor/pi-gen, or the shared git
 * bundle of the pinned commit), root, pi-gen's dependencies and QEMU; says
 * which is missing and skips otherwise (in CI a skip fails the run).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseBuildLog, stagesOf } from '../../src/lib/pigen/build-log';
import { parseDepends } from '../../src/lib/build/preflight';
import { CLI, runPiImage } from '../support/cli';
import { makeCacheStages } from '../support/cache-stages';
import { LoopDevices } from '../support/loop-devices';
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
    'qemu-system-aarch64',
    'mcopy',
    'mtype',
    'sfdisk',
    'debugfs',
    'e2fsck',
    'fsck.fat',
  ]);
  return missing.length > 0 ? `missing: ${missing.join(', ')}` : undefined;
}
const why = unavailable();
if (why) skipReason('real pi-gen build', why);

const HASH = 'feedfacefeedfacefeedfacefeedfacefeedface';
const EPOCH = 1700000000;
const PIN = JSON.parse(readFileSync(join(REPO_ROOT, 'vendor/pi-gen.json'), 'utf8')) as { commit: string; repository: string };

interface SfdiskTable {
  label: string;
  id: string;
  partitions: { start: number; size: number; type: string }[];
}

/** `pi-image build` of small test stages (no debootstrap), natively, with the fixture config. */
const smallBuildArgs = (stageList: string, workDir: string, extra: string[] = []): string[] => [
  'build',
  '--config',
  join(REPO_ROOT, 'test/fixtures/pigen-stages/test.env'),
  '--set',
  `STAGE_LIST=${stageList}`,
  '--runtime',
  'native',
  '--work-dir',
  workDir,
  '--pigen-dir',
  pigenDir!,
  '--min-free-gb',
  '1',
  ...extra,
];

describe.skipIf(why !== undefined)('the Debian-only OurBox Mini on real pi-gen: build, rootless export, package, boot test', () => {
  const work = mkdtempSync(join(tmpdir(), 'pigen-build-'));
  const loops = new LoopDevices();
  afterEach(() => loops.release());
  afterAll(() => {
    // pi-gen leaves nothing mounted on success; be safe before removing its tree.
    spawnSync('sh', ['-c', `grep -o " ${work}[^ ]*" /proc/mounts | sort -r | xargs -r umount -l`]);
    rmSync(work, { recursive: true, force: true });
  });
  const out = join(work, 'build');
  const deploy = join(out, 'deploy');
  const release = join(work, 'release');
  const NAME = 'ourbox-mini-debian-1.2.3';

  it('builds with real pi-gen and exports the image without a loop device or a mount', () => {
    const r = runPiImage(
      [
        'build',
        '--config',
        'pigen/config/ourbox-mini-debian.env',
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
      { cwd: REPO_ROOT, env: { PI_IMAGE_FIRST_USER_PASS: 'hunter2-secret', SOURCE_DATE_EPOCH: String(EPOCH) } },
    );
    if (r.code !== 0) console.error(r.stderr.slice(-4000));
    expect(r.code).toBe(0);
    for (const stage of ['stage-debian-base', 'stage-ourbox-mini', 'export-rootless']) expect(r.stderr).toContain(`── pi-gen ${stage} ──`);
    expect(r.stderr).not.toContain('hunter2-secret');
    expect(existsSync(join(work, 'pwned'))).toBe(false);
    // debootstrap and apt fetched through the build's apt proxy; the packages are kept for next time.
    const debs = (readdirSync(join(work, 'apt-cache'), { recursive: true }) as string[]).filter((f) => f.endsWith('.deb'));
    expect(debs.length).toBeGreaterThan(50);
    expect(r.stderr).toMatch(/apt cache: 0 package files from the cache, \d+ downloaded and kept/);
    expect(r.stderr).toContain('pi-image export: userconf-pi is not in this image');
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ deployDir: deploy, image: join(deploy, `${NAME}.img`), buildLog: join(deploy, 'build.log') });

    // What the stages built, in the last stage's root file system.
    const rootfs = join(out, 'work', 'stage-ourbox-mini', 'rootfs');
    expect(readFileSync(join(rootfs, 'etc/ourbox/release'), 'utf8')).toBe(
      `OURBOX_PRODUCT=ourbox\nOURBOX_DEVICE=mini\nOURBOX_TARGET=rpi\nOURBOX_SKU=TOO-OBX-MINI-01\nOURBOX_VARIANT=debian\nOURBOX_VERSION=1.2.3\nOURBOX_RECIPE_GIT_HASH=${HASH}\n`,
    );
    // The first user was made by arm64 programs in the chroot, with a hashed password.
    expect(readFileSync(join(rootfs, 'etc/passwd'), 'utf8')).toMatch(/^ourbox:x:1000:1000::\/home\/ourbox:\/bin\/bash$/m);
    expect(readFileSync(join(rootfs, 'etc/shadow'), 'utf8')).toMatch(/^ourbox:\$y\$/m);
    const fstab = readFileSync(join(rootfs, 'etc/fstab'), 'utf8').split('\n');
    expect(fstab.filter((l) => l.includes('OURBOX_DATA'))).toEqual([DATA_FSTAB_LINE]);
    expect(readlinkSync(join(rootfs, 'etc/systemd/system/timers.target.wants/fstrim.timer'))).toMatch(/\/lib\/systemd\/system\/fstrim\.timer$/);

    const timeline = parseBuildLog(readFileSync(result.buildLog, 'utf8'), 'build.log');
    expect(timeline.result).toBe('finished');
    expect(stagesOf(timeline).map((s) => [s.name, s.complete])).toEqual([
      ['stage-debian-base', true],
      ['stage-ourbox-mini', true],
      ['export-rootless', true],
    ]);
    expect(stagesOf(timeline)[1]!.children.map((c) => c.name)).toEqual(['prerun.sh', '00-ourbox-contract', '01-storage-contract']);

    const config = readFileSync(join(out, 'config'), 'utf8');
    expect(config).toContain(`export IMG_FILENAME='${NAME}'`);
    expect(config).toContain(`export GIT_HASH='${HASH}'`);
    expect(config).toContain(`export EXPORT_CONFIG_DIR='${join(out, 'export-rootless')}'`);
    expect(config).toMatch(/^export http_proxy='http:\/\/127\.0\.0\.1:\d+'$/m);
    expect(config).not.toMatch(/^#.*hunter2/m);

    // Both commits named, and the export's layout and identifiers.
    const record = JSON.parse(readFileSync(join(deploy, 'pi-image-build.json'), 'utf8'));
    expect(record.pigen).toEqual({ repository: PIN.repository, commit: PIN.commit });
    expect(record.recipe).toEqual({ commit: HASH, modified: null });
    const exported = record.exports[NAME];
    expect(exported).toMatchObject({ kind: 'rootless', layout: 'pigen', table: 'dos', seed: 'ourbox-mini-debian 1.2.3', epoch: EPOCH });

    // The image, by independent tools: the table, each file system's own check, what fstab and cmdline.txt name.
    const image = result.image as string;
    const table = (JSON.parse(execFileSync('sfdisk', ['--json', image], { encoding: 'utf8' })) as { partitiontable: SfdiskTable }).partitiontable;
    expect(table.id).toBe(`0x${exported.diskId}`);
    expect(table.partitions.map((p) => [p.start, p.size, p.type])).toEqual([
      [16384, 1048576, 'c'],
      [16384 + 1048576, table.partitions[1]!.size, '83'],
    ]);
    const [bootDev, rootDev] = table.partitions.map((p) => loops.attachRange(image, p.start * 512, p.size * 512)) as [string, string];
    expect(execFileSync('blkid', ['-p', '-o', 'value', '-s', 'LABEL', bootDev], { encoding: 'utf8' }).trim()).toBe('bootfs');
    expect(execFileSync('blkid', ['-p', '-o', 'value', '-s', 'LABEL', rootDev], { encoding: 'utf8' }).trim()).toBe('rootfs');
    expect(spawnSync('fsck.fat', ['-n', bootDev]).status).toBe(0);
    expect(spawnSync('e2fsck', ['-fn', rootDev]).status).toBe(0);
    const inImage = (path: string): string =>
      execFileSync('debugfs', ['-R', `cat ${path}`, rootDev], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(inImage('/etc/fstab')).toMatch(new RegExp(`^PARTUUID=${exported.diskId}-01\\s+/boot/firmware\\s+vfat`, 'm'));
    expect(inImage('/etc/fstab')).toMatch(new RegExp(`^PARTUUID=${exported.diskId}-02\\s+/\\s+ext4`, 'm'));
    expect(inImage('/etc/machine-id')).toBe('uninitialized\n');
    expect(execFileSync('debugfs', ['-R', 'ls /etc/apt/apt.conf.d', rootDev], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })).not.toContain(
      '51cache',
    );
    const cmdline = execFileSync('mtype', ['-i', `${image}@@${table.partitions[0]!.start * 512}`, '::/cmdline.txt'], {
      encoding: 'utf8',
      env: { ...process.env, MTOOLS_SKIP_CHECK: '1' },
    });
    expect(cmdline).toContain(`root=PARTUUID=${exported.diskId}-02 `);
  });

  it('packages the exported image: both commits named in the metadata and the release notes', () => {
    const r = runPiImage(['package', deploy, '--out', release, '--version', '1.2.3', '--compression-level', '1']);
    if (r.code !== 0) console.error(r.stderr.slice(-3000));
    expect(r.code).toBe(0);
    const metadata = JSON.parse(readFileSync(join(release, 'metadata.json'), 'utf8'));
    expect(metadata.pigen).toMatchObject({ repository: PIN.repository, commit: PIN.commit, gitHash: HASH, exportedStage: 'stage-ourbox-mini' });
    expect(metadata.pigen.stageList).toEqual(['stage-debian-base', 'stage-ourbox-mini', 'export-rootless']);
    expect(metadata.recipe).toMatchObject({ commit: HASH, modified: null });
    expect(metadata.export).toMatchObject({ kind: 'rootless', layout: 'pigen', epoch: EPOCH });
    expect(metadata.export.partitions.map((p: { label: string; role: string }) => `${p.label}: ${p.role}`)).toEqual([
      'bootfs: boot (slot A)',
      'rootfs: root (slot A)',
    ]);
    const notes = readFileSync(join(release, 'RELEASE_NOTES.md'), 'utf8');
    expect(notes).toContain(`pi\\-gen at \`${PIN.commit}\``);
    expect(notes).toMatch(new RegExp(`^- recipe: .* at \`${HASH}\`$`, 'm'));
    expect(notes).not.toContain(`pi\\-gen at \`${HASH}\``);
  });

  it('boots under QEMU: the boot test passes on the packaged image', () => {
    const r = runPiImage(['smoke-test', release, '--checks', 'pigen/checks'], { cwd: REPO_ROOT });
    if (r.code !== 0) console.error(r.stderr.slice(-4000));
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/passed in [\d.]+ s \(the checks ran\)/);
    expect(JSON.parse(readFileSync(join(release, 'manifest.json'), 'utf8')).files.map((f: { role: string }) => f.role)).toContain('boot-test');
  });

  it('names the stage and step that failed; a second build starts clean, with one log, unless --continue', () => {
    const failing = join(work, 'stage-fails');
    mkdirSync(join(failing, '00-broken'), { recursive: true });
    // Says whether pi-gen found this stage's root file system from an earlier build.
    writeFileSync(join(failing, 'prerun.sh'), '#!/bin/bash -e\nif [ -d "${ROOTFS_DIR}" ]; then echo "REUSED ROOTFS"; fi\nmkdir -p "${ROOTFS_DIR}"\n', {
      mode: 0o755,
    });
    writeFileSync(join(failing, '00-broken', '00-run.sh'), '#!/bin/bash -e\necho "about to fail"\nexit 3\n', { mode: 0o755 });
    const build = (extra: string[] = []) => runPiImage(smallBuildArgs(failing, join(work, 'fail'), extra), { cwd: REPO_ROOT });
    const first = build();
    expect(first.code).toBe(1);
    expect(first.stderr).toContain('about to fail');
    expect(first.stderr).toMatch(/pi-gen failed in stage stage-fails, step 00-broken\/00-run\.sh \(exit code \d+\); full log: .*build\.log \[BUILD_FAILED\]/);
    expect(first.stderr).not.toContain('REUSED ROOTFS');

    const second = build();
    expect(second.code).toBe(1);
    expect(second.stderr).toContain("starting clean: removing the last build's work tree");
    expect(second.stderr).not.toContain('REUSED ROOTFS');
    const log = readFileSync(join(work, 'fail', 'deploy', 'build.log'), 'utf8');
    expect(log.match(/Begin .*\/stage-fails$/gm)).toHaveLength(1);

    const resumed = build(['--continue']);
    expect(resumed.code).toBe(1);
    expect(resumed.stderr).toContain('REUSED ROOTFS');
  });

  it('restores unchanged stages from the stage cache and runs only what changed, with owners, modes and links kept', () => {
    const { a, b, writeA: stageA, writeB: stageB } = makeCacheStages(join(work, 'cache-stages'));
    const cache = join(work, 'stage-cache');
    const out = join(work, 'cached-build');
    const build = () => runPiImage(smallBuildArgs(`${a} ${b}`, out, ['--stage-cache', cache]), { cwd: REPO_ROOT });
    const rootfs = (stage: string, path: string): string => join(out, 'work', stage, 'rootfs', path);

    let r = build();
    if (r.code !== 0) console.error(r.stderr.slice(-3000));
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/RAN stage-a 1[\s\S]*RAN stage-b 1/);
    expect(r.stderr).toMatch(/stage cache: saved stage-a-[0-9a-f]{32}/);
    expect(r.stderr).toMatch(/stage cache: saved stage-b-[0-9a-f]{32}/);

    // Nothing changed: nothing runs; the last stage's rootfs is back, the first's is not needed.
    r = build();
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('RAN stage-');
    expect(r.stderr).toContain('stage cache: stage-a, stage-b unchanged (restored); 0 stage(s) run');
    expect(readFileSync(rootfs('stage-b', 'etc/b'), 'utf8')).toBe('ab\n');
    expect(existsSync(rootfs('stage-a', 'etc/a'))).toBe(false);

    // Only the last stage changed: the first is restored as it was made, the last runs on it.
    stageB('2');
    r = build();
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('RAN stage-a');
    expect(r.stderr).toContain('RAN stage-b 2');
    expect(r.stderr).toContain('stage cache: stage-a unchanged (restored); 1 stage(s) run');
    const owner = statSync(rootfs('stage-a', 'etc/a'));
    expect([owner.uid, owner.gid]).toEqual([1234, 5678]);
    const tool = statSync(rootfs('stage-a', 'usr/bin/tool'));
    expect([tool.mode & 0o7777, tool.nlink]).toEqual([0o4755, 2]);
    expect(readlinkSync(rootfs('stage-a', 'usr/bin/tool-sym'))).toBe('tool');
    expect(readFileSync(rootfs('stage-b', 'etc/b'), 'utf8')).toBe('ab\n');

    // The first stage changed: everything after it runs again.
    stageA('2');
    r = build();
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/RAN stage-a 2[\s\S]*RAN stage-b 2/);
  });

  it('SIGTERM during a build stops everything pi-gen started (a stage still running), unmounts, exit 143', async () => {
    const slow = join(work, 'stage-slow');
    mkdirSync(slow, { recursive: true });
    // A stage still at work when the signal comes: a grandchild of pi-image, as debootstrap would be.
    writeFileSync(
      join(slow, 'prerun.sh'),
      '#!/bin/bash -e\nmkdir -p "${ROOTFS_DIR}/proc"\nmount -t proc proc "${ROOTFS_DIR}/proc"\necho "SLOW STAGE STARTED"\nsleep 347\n',
      {
        mode: 0o755,
      },
    );
    const out = join(work, 'stopped');
    const child = spawn(process.execPath, [CLI, ...smallBuildArgs(slow, out)], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve) =>
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('SLOW STAGE STARTED')) resolve();
      }),
    );
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(spawnSync('pgrep', ['-f', 'sleep 347']).status).toBe(1);
    expect(readFileSync('/proc/mounts', 'utf8')).not.toContain(out);
  });

  it('never removes a work/ it did not make: exit 2, the directory kept', () => {
    const foreign = join(work, 'foreign');
    mkdirSync(join(foreign, 'work'), { recursive: true });
    writeFileSync(join(foreign, 'work', 'precious'), 'keep me');
    const r = runPiImage(smallBuildArgs(join(REPO_ROOT, 'pigen/stages/stage-ourbox-mini'), foreign), { cwd: REPO_ROOT });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/work exists and was not made by pi-image build \(no \.pi-image-work-tree\).*\[INPUT_INVALID\]/);
    expect(readFileSync(join(foreign, 'work', 'precious'), 'utf8')).toBe('keep me');
  });
});
