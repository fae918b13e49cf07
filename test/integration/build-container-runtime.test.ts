/**
 * Container builds run upstream pi-gen's real build-docker.sh; only the engine
 * is a stand-in (no container engine runs on this machine): a `docker` found
 * first on PATH that records its calls (test/support/fake-engine/docker). This
 * proves the wiring: the chosen CLI, the per-job container name, read-only
 * stage mounts, the quoted config mounted as /config, deploy/ copied out into
 * the work directory, leftover removal, CONTINUE, and cleanup.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPiImage } from '../support/cli';
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
