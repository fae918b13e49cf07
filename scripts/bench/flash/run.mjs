// Flash benchmark: `pi-image flash` against `xzcat IMG.xz | dd bs=4M conv=fsync`
// and `bmaptool copy`, side by side in one run, alternating, each RUNS times,
// onto the same loop device. The image is 4 GiB, about half of it allocated
// (real files from this machine's /usr), packaged once by `pi-image package`.
// Reports wall time, ratios of medians and the peak RSS of each process tree.
// Needs root (loop devices), bmaptool, xz, and what make-image.sh needs.
//
//   node scripts/bench/flash/run.mjs [--runs N] [--dir DIR]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { machine, measure, median } from '../measure.mjs';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const cli = join(root, 'dist/cli/pi-image.cjs');
const { values } = parseArgs({
  options: { runs: { type: 'string', default: '2' }, dir: { type: 'string', default: '/tmp/pi-image-bench-flash' } },
});
const runs = Number(values.runs);
const dir = values.dir;
const deploy = join(dir, 'deploy');
const release = join(dir, 'release');
if (process.getuid?.() !== 0) throw new Error('the flash benchmark writes a loop device: run it as root');

const sh = (cmd, args) => execFileSync(cmd, args, { encoding: 'utf8' }).trim();

// The input: a 4 GiB pi-gen-like image with about 1.9 GiB of real files, packaged once.
if (!existsSync(join(deploy, '2026-01-19-bench.img'))) {
  mkdirSync(dir, { recursive: true });
  execFileSync('bash', [join(root, 'scripts/bench/package/make-image.sh'), deploy, '1850'], { stdio: 'inherit' });
}
if (!existsSync(join(release, 'manifest.json'))) {
  rmSync(release, { recursive: true, force: true });
  execFileSync(process.execPath, [cli, 'package', deploy, '--out', release, '--quiet'], { stdio: 'inherit' });
}
const files = readdirSync(release);
const xzImage = join(
  release,
  files.find((f) => f.endsWith('.img.xz')),
);
const bmap = join(
  release,
  files.find((f) => f.endsWith('.bmap')),
);
const rawImage = join(deploy, '2026-01-19-bench.img');
const imageBytes = statSync(rawImage).size;
const allocatedBytes = Number(sh('du', ['-B1', rawImage]).split('\t')[0]);
const bmapText = sh('cat', [bmap]);
const mappedBytes = Number(/<MappedBlocksCount>\s*(\d+)/.exec(bmapText)[1]) * Number(/<BlockSize>\s*(\d+)/.exec(bmapText)[1]);

// The target: a loop device over a sparse file a little larger than the image.
const backing = join(dir, 'target.disk');
rmSync(backing, { force: true });
execFileSync('truncate', ['-s', String(imageBytes + 256 * 2 ** 20), backing]);
const device = sh('losetup', ['--find', '--show', backing]);
const detach = () => {
  try {
    execFileSync('losetup', ['-d', device]);
  } catch {
    // already gone
  }
  rmSync(backing, { force: true });
};
process.on('exit', detach);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

/** Every tool starts from the same state: an empty (discarded) target and cold caches. */
function reset() {
  execFileSync('blkdiscard', ['-f', device]);
  execFileSync('sync');
  writeFileSync('/proc/sys/vm/drop_caches', '3\n');
}

const tools = {
  dd: () => measure('bash', ['-c', 'set -o pipefail; xzcat -- "$1" | dd of="$2" bs=4M conv=fsync status=none', 'dd', xzImage, device]),
  bmaptool: () => measure('bmaptool', ['--quiet', 'copy', '--bmap', bmap, xzImage, device]),
  flash: () => measure(process.execPath, [cli, 'flash', release, device, '--yes', '--quiet']),
  flashNoVerify: () => measure(process.execPath, [cli, 'flash', release, device, '--yes', '--quiet', '--no-verify']),
};
const results = Object.fromEntries(Object.keys(tools).map((name) => [name, []]));
for (let i = 0; i < runs; i++) {
  const line = [];
  for (const [name, run] of Object.entries(tools)) {
    reset();
    const result = await run();
    if (result.code !== 0) throw new Error(`${name} failed with exit ${result.code}`);
    results[name].push(result);
    line.push(`${name} ${result.seconds.toFixed(1)} s ${result.peakRssMiB.toFixed(0)} MiB`);
  }
  console.log(`run ${i + 1}: ${line.join('; ')}`);
}

const summarise = (name) => ({
  medianSeconds: median(results[name].map((r) => r.seconds)),
  peakRssMiB: Math.max(...results[name].map((r) => r.peakRssMiB)),
  peakOwnRssMiB: Math.max(...results[name].map((r) => r.peakOwnRssMiB)),
});
const summary = {
  date: new Date().toISOString(),
  machine: machine({ xz: sh('xz', ['--version']).split('\n')[0], bmaptool: sh('bmaptool', ['--version']) }),
  image: { bytes: imageBytes, allocatedBytes, mappedBytes, compressedBytes: statSync(xzImage).size },
  runs,
  ...Object.fromEntries(Object.keys(tools).map((name) => [name, summarise(name)])),
};
summary.speedup = {
  flashOverDd: summary.dd.medianSeconds / summary.flash.medianSeconds,
  flashOverBmaptool: summary.bmaptool.medianSeconds / summary.flash.medianSeconds,
  flashNoVerifyOverDd: summary.dd.medianSeconds / summary.flashNoVerify.medianSeconds,
  flashNoVerifyOverBmaptool: summary.bmaptool.medianSeconds / summary.flashNoVerify.medianSeconds,
};
writeFileSync(join(dir, 'flash-bench.json'), `${JSON.stringify({ summary, results }, null, 2)}\n`);
console.log(JSON.stringify(summary, null, 2));
