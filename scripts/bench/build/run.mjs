// Build benchmark, in one run on one machine: the Debian-only OurBox Mini
// (pigen/config/ourbox-mini-debian.env, real pi-gen, the rootless export)
//   cold        no apt cache, no stage cache (the stage cache is filled, as a first CI build would)
//   warm-apt    the apt cache full, no stage cache: every stage runs again
//   warm-stage  the apt cache and the stage cache full, the product stage changed
// then the same cold / warm-stage pair with EXPORT_UPGRADE=0 (the export refreshes and upgrades no
// packages; fresh caches of its own), each warm build compared with the cold build of its own pair,
// and then the rootless export alone (`pi-image export`) on trees of growing size
// copied from this machine's /usr. Reports wall times, ratios and peak RSS.
// Needs root, pi-gen at the pinned commit (PI_GEN_DIR, or the test cache) and
// pi-gen's dependencies.
//
//   sudo node scripts/bench/build/run.mjs [--dir DIR] [--skip-builds] [--sizes 256,1024,2048]
import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { machine, measure } from '../measure.mjs';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const cli = join(root, 'dist/cli/pi-image.cjs');
const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: '/tmp/pi-image-bench-build' },
    'skip-builds': { type: 'boolean', default: false },
    sizes: { type: 'string', default: '256,1024,2048' },
  },
});
if (process.getuid?.() !== 0) throw new Error('pi-gen builds run as root: run the benchmark as root');
const dir = values.dir;
const pin = JSON.parse(readFileSync(join(root, 'vendor/pi-gen.json'), 'utf8'));
const pigenDir = process.env.PI_GEN_DIR ?? join(process.env.PI_IMAGE_CACHE ?? join(homedir(), '.cache', 'pi-image-release'), `pi-gen-${pin.commit}`);
if (!existsSync(join(pigenDir, 'build.sh')))
  throw new Error(`no pi-gen at ${pigenDir}: set PI_GEN_DIR (the integration tests make one from the shared bundle)`);

const results = { machine: machine({ pigen: pin.commit }), builds: [], exports: [] };
mkdirSync(dir, { recursive: true });

// The recipe as a repository of its own, so the product stage can be changed without touching this one.
const recipe = join(dir, 'recipe');
const aptCache = join(dir, 'apt-cache');
const stageCache = join(dir, 'stage-cache');

async function build(label, extra, group) {
  const out = join(dir, 'work');
  const m = await measure(
    process.execPath,
    [
      cli,
      'build',
      '--config',
      'pigen/config/ourbox-mini-debian.env',
      '--version',
      '1.0.0',
      '--runtime',
      'native',
      '--work-dir',
      out,
      '--pigen-dir',
      pigenDir,
      '--recipe-git-hash',
      'b'.repeat(40),
      '--min-free-gb',
      '4',
      ...extra,
    ],
    { env: { SOURCE_DATE_EPOCH: '1700000000' }, stdout: 'ignore', cwd: recipe },
  );
  if (m.code !== 0) throw new Error(`${label} build failed (exit ${m.code}): its output is above`);
  results.builds.push({ label, group, seconds: Math.round(m.seconds), peakRssMiB: Math.round(m.peakRssMiB) });
  console.log(`${label}: ${m.seconds.toFixed(0)} s`);
}

if (!values['skip-builds']) {
  rmSync(recipe, { recursive: true, force: true });
  for (const p of ['pigen/config', 'pigen/stages']) cpSync(join(root, p), join(recipe, p), { recursive: true });
  // The product stage changes (a new line in one of its scripts): only it, and the export, run again.
  const changeProductStage = () =>
    appendFileSync(join(recipe, 'pigen/stages/stage-ourbox-mini/01-storage-contract/00-run.sh'), '\n# changed for the benchmark\n');
  for (const [group, extra] of [
    ['upgrade at export (default)', []],
    ['EXPORT_UPGRADE=0', ['--set', 'EXPORT_UPGRADE=0']],
  ]) {
    rmSync(aptCache, { recursive: true, force: true });
    rmSync(stageCache, { recursive: true, force: true });
    await build('cold', ['--apt-cache', aptCache, '--stage-cache', stageCache, ...extra], group);
    if (extra.length === 0) await build('warm-apt', ['--apt-cache', aptCache], group);
    changeProductStage();
    await build('warm-stage', ['--apt-cache', aptCache, '--stage-cache', stageCache, ...extra], group);
  }
  for (const b of results.builds) {
    const cold = results.builds.find((c) => c.group === b.group && c.label === 'cold').seconds;
    b.coldOverThis = Number((cold / b.seconds).toFixed(2));
  }
}

// The rootless export alone, by the size of the tree it packs.
for (const mib of values.sizes.split(',').map(Number)) {
  const tree = join(dir, `tree-${mib}`);
  if (!existsSync(join(tree, 'rootfs'))) {
    mkdirSync(join(tree, 'rootfs/boot/firmware'), { recursive: true });
    mkdirSync(join(tree, 'bootfs'), { recursive: true });
    writeFileSync(join(tree, 'bootfs/cmdline.txt'), 'root=ROOTDEV rootwait\n');
    // Whole files from /usr until the tree holds about `mib` MiB, copied with their paths.
    const files = [];
    let total = 0;
    const walk = (at) => {
      for (const e of readdirSync(at, { withFileTypes: true })) {
        if (total > mib * 1048576) return;
        const path = join(at, e.name);
        if (e.isDirectory()) walk(path);
        else if (e.isFile() && statSync(path).size < 64 * 1048576) {
          files.push(path.slice('/usr/'.length));
          total += statSync(path).size;
        }
      }
    };
    walk('/usr');
    mkdirSync(join(tree, 'rootfs/usr'), { recursive: true });
    for (let i = 0; i < files.length; i += 500) execFileSync('cp', ['--parents', '-p', ...files.slice(i, i + 500), join(tree, 'rootfs/usr')], { cwd: '/usr' });
  }
  const content = Number(execFileSync('du', ['-sb', join(tree, 'rootfs')], { encoding: 'utf8' }).split('\t')[0]);
  const out = join(dir, `export-${mib}.img`);
  rmSync(out, { force: true });
  const m = await measure(process.execPath, [cli, 'export', join(tree, 'rootfs'), '--boot-dir', join(tree, 'bootfs'), '--out', out, '--seed', 'bench'], {
    env: { SOURCE_DATE_EPOCH: '1700000000' },
  });
  if (m.code !== 0) throw new Error(`export of ${mib} MiB failed`);
  results.exports.push({
    contentMiB: Math.round(content / 1048576),
    seconds: Number(m.seconds.toFixed(1)),
    mibPerSecond: Math.round(content / 1048576 / m.seconds),
    peakRssMiB: Math.round(m.peakRssMiB),
  });
  console.log(`export ${Math.round(content / 1048576)} MiB: ${m.seconds.toFixed(1)} s`);
  rmSync(out, { force: true });
}

writeFileSync(join(dir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
console.log(JSON.stringify(results, null, 2));
