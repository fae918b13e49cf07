/**
 * Container builds run upstream pi-gen's real build-docker.sh; only the engine
 * is a stand-in (no container engine runs on this machine): a `docker` found
 * first on PATH that records its calls (test/support/fake-engine/docker). This
 * proves the wiring: the chosen CLI, the per-job container name, read-only
 * stage mounts, the quoted config mounted as /config, deploy/ copied out into
 * the work directory, leftover removal, CONTINUE, and cleanup.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runPiImage } from '../support/cli';
import { LoopDevices, loopDevicesUnavailable } from '../support/loop-devices';
import { makeInfo, makeSmallImage, SMALL_IMAGE_TOOLS } from '../support/small-image';
import { testPiGen } from '../support/pigen';
import { REPO_ROOT } from '../support/test-image';
import { missingTools, sh, skipReason } from '../support/tools';

const pigen = testPiGen();
const pigenDir = 'dir' in pigen ? pigen.dir : undefined;
const missing = missingTools([...SMALL_IMAGE_TOOLS, 'zip', 'tar']);
const why = !pigenDir
  ? `${'why' in pigen ? pigen.why : 'pi-gen is not present'} (its build-docker.sh is what this test drives)`
  : missing.length > 0
    ? `missing tools: ${missing.join(', ')}`
    : process.arch !== 'arm64' && !existsSync('/proc/sys/fs/binfmt_misc/qemu-aarch64')
      ? 'arm64 emulation is not registered with binfmt_misc'
      : undefined;
if (why) skipReason('container runtime wiring test', why);

const FIXTURES = join(REPO_ROOT, 'test/fixtures/pigen-stages');
const FAKE = join(REPO_ROOT, 'test/support/fake-engine');
const HASH = 'c0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ff';

describe.skipIf(why !== undefined)('pi-image build --runtime docker (real build-docker.sh, stand-in engine)', () => {
  let work: string;
  let engine: string;
  let ourbox: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'container-build-'));
    engine = join(work, 'engine');
    mkdirSync(join(engine, 'deploy'), { recursive: true });
    ourbox = join(work, 'stages', 'stage-ourbox-mini');
    cpSync(join(REPO_ROOT, 'pigen/stages/stage-ourbox-mini'), ourbox, { recursive: true });
    // What pi-gen would leave in /pi-gen/deploy: a zip named after the version, and the .info.
    const img = join(work, 'ourbox-test-2.0.0.img');
    makeSmallImage(img);
    sh('zip', ['-q', '-0', '-j', join(engine, 'deploy', 'image_ourbox-test-2.0.0.zip'), img]);
    writeFileSync(join(engine, 'deploy', 'ourbox-test-2.0.0.info'), makeInfo(3));
  });
  afterAll(() => {
    // build-docker.sh registers its own binfmt entry when it can (it needs sudo; none here): undo it.
    if (existsSync('/proc/sys/fs/binfmt_misc/qemu-aarch64-rpi')) writeFileSync('/proc/sys/fs/binfmt_misc/qemu-aarch64-rpi', '-1');
    rmSync(work, { recursive: true, force: true });
  });

  const build = (extra: string[], env: Record<string, string> = {}) =>
    runPiImage(
      [
        'build',
        '--config',
        join(FIXTURES, 'test.env'),
        '--set',
        `STAGE_LIST=stage0 ${ourbox}`,
        '--version',
        '2.0.0',
        '--runtime',
        'docker',
        '--work-dir',
        join(work, 'out'),
        '--pigen-dir',
        pigenDir!,
        '--recipe-git-hash',
        HASH,
        '--min-free-gb',
        '1',
        ...extra,
      ],
      { cwd: REPO_ROOT, env: { PATH: `${FAKE}:${process.env.PATH}`, FAKE_ENGINE_DIR: engine, ...env } },
    );
  const calls = (): string[] => (existsSync(join(engine, 'calls')) ? readFileSync(join(engine, 'calls'), 'utf8').trim().split('\n') : []);
  const resetCalls = (): void => rmSync(join(engine, 'calls'), { force: true });

  it('runs build-docker.sh with the container name, read-only stage mounts and the config, then copies deploy/ out', () => {
    resetCalls();
    const r = build([]);
    if (r.code !== 0) console.error(r.stderr.slice(-3000));
    expect(r.code).toBe(0);
    const run = calls().find((c) => c.startsWith('run '))!;
    expect(run).toContain('--name pigen-ourbox-test --privileged');
    expect(run).toContain(`-v ${ourbox}:${ourbox}:ro`);
    expect(run).not.toContain('/pi-gen/stage0:');
    expect(run).toContain(`--volume ${join(work, 'out', 'config')}:/config:ro`);
    expect(run).toContain(`-e GIT_HASH=${HASH}`);
    expect(calls()).toContain('cp pigen-ourbox-test:/pi-gen/deploy -');
    // The CLI removes the container afterwards.
    expect(calls()).toContain('rm -f -v pigen-ourbox-test');
    expect(existsSync(join(engine, 'containers', 'pigen-ourbox-test'))).toBe(false);

    const result = JSON.parse(r.stdout);
    expect(result.image).toBe(join(work, 'out', 'deploy', 'image_ourbox-test-2.0.0.zip'));
    expect(r.stderr).toContain('── pi-gen stage-ourbox-mini ──');
    const config = readFileSync(join(work, 'out', 'config'), 'utf8');
    expect(config).toContain(`export STAGE_LIST='/pi-gen/stage0 ${ourbox}'`);
    expect(config).not.toContain('DEPLOY_DIR');
  });

  it('removes a container left by an earlier build, with a message', () => {
    resetCalls();
    writeFileSync(join(engine, 'containers', 'pigen-ourbox-test'), 'stopped');
    const r = build([]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('removing container pigen-ourbox-test left by an earlier build (set continue to resume it instead)');
    const c = calls();
    expect(c.indexOf('rm -f -v pigen-ourbox-test')).toBeLessThan(c.findIndex((x) => x.startsWith('run ')));
    expect(c.find((x) => x.startsWith('run '))).toContain('--name pigen-ourbox-test ');
  });

  it('resumes with --continue: pi-gen runs NAME_cont with the volumes of the interrupted one', () => {
    resetCalls();
    writeFileSync(join(engine, 'containers', 'pigen-ourbox-test'), 'stopped');
    const r = build(['--continue', '--keep-container']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('continuing the interrupted build in container pigen-ourbox-test');
    const run = calls().find((x) => x.startsWith('run '))!;
    expect(run).toContain('--name pigen-ourbox-test_cont');
    expect(run).toContain('--volumes-from=pigen-ourbox-test');
    expect(calls().filter((x) => x.startsWith('rm '))).toEqual([]);
    rmSync(join(engine, 'containers'), { recursive: true, force: true });
  });

  it('names the failed stage and step, and still removes the container', () => {
    resetCalls();
    const r = build([], { FAKE_ENGINE_FAIL_STEP: '01-storage-contract/00-run.sh' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/pi-gen failed in stage stage-ourbox-mini, step 01-storage-contract\/00-run\.sh \(exit code 1\)/);
    expect(calls()).toContain('rm -f -v pigen-ourbox-test');
  });

  it('refuses to start while a build is running in the same container', () => {
    writeFileSync(join(engine, 'containers', 'pigen-ourbox-test'), 'running');
    const r = build([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('a build is already running in container pigen-ourbox-test');
    rmSync(join(engine, 'containers', 'pigen-ourbox-test'));
  });
});

const ROOTLESS_TOOLS = ['mkfs.ext4', 'mkfs.fat', 'mcopy', 'mtype', 'sfdisk', 'debugfs', 'setcap', 'mknod', 'e2fsck'];
const rootlessWhy =
  why ??
  (process.getuid?.() !== 0
    ? 'the prepared tree (root-owned files, a device node, a file capability) is made as root'
    : (loopDevicesUnavailable() ?? (missingTools(ROOTLESS_TOOLS).length > 0 ? `missing tools: ${missingTools(ROOTLESS_TOOLS).join(', ')}` : undefined)));
if (rootlessWhy) skipReason('container runtime with EXPORT=rootless', rootlessWhy);

/**
 * EXPORT=rootless with a container runtime: pi-image's export stage is mounted
 * into the container (EXPORT_CONFIG_DIR), the trees it prepared are streamed
 * out with `docker cp … -` into tar as root on this host, and the image is
 * assembled here. The stand-in engine serves a prepared tree this test makes
 * as root: owners, modes, a directory only root may enter, a device node, a
 * hard link and a file capability must all reach the image.
 */
describe.skipIf(rootlessWhy !== undefined)('pi-image build --runtime docker with EXPORT=rootless (real build-docker.sh, stand-in engine)', () => {
  let work: string;
  let engine: string;
  let ourbox: string;
  const loops = new LoopDevices();
  const NAME = 'ourbox-test-2.0.0';

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'container-rootless-'));
    engine = join(work, 'engine');
    mkdirSync(join(engine, 'deploy'), { recursive: true });
    ourbox = join(work, 'stages', 'stage-ourbox-mini');
    cpSync(join(REPO_ROOT, 'pigen/stages/stage-ourbox-mini'), ourbox, { recursive: true });
    // What the export stage leaves in the container: WORK_DIR/rootless-export/NAME/{rootfs,bootfs,NAME.info,.prepared}.
    const prepared = join(engine, 'work/ourbox-test/rootless-export', NAME);
    const rootfs = join(prepared, 'rootfs');
    const bootfs = join(prepared, 'bootfs');
    for (const d of ['etc', 'usr/bin', 'dev', 'home/ourbox', 'root', 'boot/firmware']) mkdirSync(join(rootfs, d), { recursive: true });
    writeFileSync(join(rootfs, 'etc/fstab'), 'proc /proc proc defaults 0 0\nBOOTDEV /boot/firmware vfat defaults 0 2\nROOTDEV / ext4 defaults,noatime 0 1\n');
    writeFileSync(join(rootfs, 'usr/bin/ping'), 'ping\n');
    chmodSync(join(rootfs, 'usr/bin/ping'), 0o4755);
    sh('setcap', ['cap_net_raw+ep', join(rootfs, 'usr/bin/ping')]);
    linkSync(join(rootfs, 'usr/bin/ping'), join(rootfs, 'usr/bin/ping-link'));
    sh('mknod', [join(rootfs, 'dev/null'), 'c', '1', '3']);
    chownSync(join(rootfs, 'home/ourbox'), 1000, 1000);
    chmodSync(join(rootfs, 'root'), 0o700);
    writeFileSync(join(rootfs, 'root/.secret'), 'only root reads this\n', { mode: 0o600 });
    mkdirSync(bootfs);
    writeFileSync(join(bootfs, 'cmdline.txt'), 'console=serial0,115200 root=ROOTDEV rootfstype=ext4 rootwait\n');
    writeFileSync(join(bootfs, 'config.txt'), '[all]\narm_64bit=1\n');
    writeFileSync(join(prepared, `${NAME}.info`), makeInfo(3));
    writeFileSync(join(prepared, '.prepared'), '');
  });
  afterEach(() => loops.release());
  afterAll(() => {
    if (existsSync('/proc/sys/fs/binfmt_misc/qemu-aarch64-rpi')) writeFileSync('/proc/sys/fs/binfmt_misc/qemu-aarch64-rpi', '-1');
    rmSync(work, { recursive: true, force: true });
  });

  it('mounts the export stage, copies the prepared tree out with owners, modes, links, device nodes and capabilities, and assembles the image here', () => {
    const out = join(work, 'out');
    const r = runPiImage(
      [
        'build',
        '--config',
        join(FIXTURES, 'test.env'),
        '--set',
        `STAGE_LIST=stage0 ${ourbox}`,
        '--set',
        'EXPORT=rootless',
        '--version',
        '2.0.0',
        '--runtime',
        'docker',
        '--work-dir',
        out,
        '--pigen-dir',
        pigenDir!,
        '--recipe-git-hash',
        HASH,
        '--min-free-gb',
        '1',
      ],
      { cwd: REPO_ROOT, env: { PATH: `${FAKE}:${process.env.PATH}`, FAKE_ENGINE_DIR: engine } },
    );
    if (r.code !== 0) console.error(r.stderr.slice(-3000));
    expect(r.code).toBe(0);
    const calls = readFileSync(join(engine, 'calls'), 'utf8').trim().split('\n');
    const stageDir = join(out, 'export-rootless');
    expect(calls.find((c) => c.startsWith('run '))).toContain(`-v ${stageDir}:${stageDir}:ro`);
    expect(readFileSync(join(out, 'config'), 'utf8')).toContain(`export EXPORT_CONFIG_DIR='${stageDir}'`);
    expect(calls).toContain('cp pigen-ourbox-test:/pi-gen/work/ourbox-test/rootless-export -');

    const image = join(out, 'deploy', `${NAME}.img`);
    expect(JSON.parse(r.stdout).image).toBe(image);
    expect(readdirSync(join(out, 'deploy')).filter((n) => n.startsWith('.'))).toEqual([]);
    const table = (JSON.parse(sh('sfdisk', ['--json', image])) as { partitiontable: { id: string; partitions: { start: number; size: number }[] } })
      .partitiontable;
    expect(table.partitions).toHaveLength(2);
    const [boot, root] = table.partitions as [{ start: number; size: number }, { start: number; size: number }];
    const rootPartuuid = `${table.id.replace(/^0x/, '')}-02`;
    const mtype = sh('mtype', ['-i', `${image}@@${boot.start * 512}`, '::cmdline.txt'], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
    expect(mtype).toContain(`root=PARTUUID=${rootPartuuid} `);

    const dev = loops.attachRange(image, root.start * 512, root.size * 512);
    const fsck = spawnSync('e2fsck', ['-fn', dev], { encoding: 'utf8' });
    expect(fsck.status, fsck.stdout).toBe(0);
    const debugfs = (request: string): string => execFileSync('debugfs', ['-R', request, dev], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(debugfs('cat /etc/fstab')).toContain(`PARTUUID=${rootPartuuid} / ext4`);
    const ping = debugfs('stat /usr/bin/ping');
    expect(ping).toMatch(/Mode:\s+04755/);
    expect(ping).toMatch(/User:\s+0\s+Group:\s+0/);
    expect(ping).toMatch(/Links: 2/);
    expect(debugfs('ea_list /usr/bin/ping')).toContain('security.capability');
    expect(debugfs('stat /dev/null')).toMatch(/Type: character special/);
    expect(debugfs('stat /home/ourbox')).toMatch(/User:\s+1000\s+Group:\s+1000/);
    expect(debugfs('stat /root')).toMatch(/Mode:\s+0700/);
    expect(debugfs('cat /root/.secret')).toBe('only root reads this\n');
  });
});
