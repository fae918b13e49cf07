// Package benchmark: `pi-image package` against plain `xz -T0 -6` of the same
// 4 GiB image (at least 1 GiB of real files), side by side in one run,
// alternating, each RUNS times. Reports wall time, the ratio of medians and the
// peak RSS of each whole process tree. Writes results as JSON and markdown.
//
//   node scripts/bench/package/run.mjs [--runs N] [--dir DIR]
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { machine, measure, median } from '../measure.mjs';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const { values } = parseArgs({ options: { runs: { type: 'string', default: '2' }, dir: { type: 'string', default: '/tmp/pi-image-bench' } } });
const runs = Number(values.runs);
const dir = values.dir;
const deploy = join(dir, 'deploy');
const image = join(deploy, '2026-01-19-bench.img');

if (!existsSync(image)) {
  mkdirSync(dir, { recursive: true });
  execFileSync('bash', [join(root, 'scripts/bench/package/make-image.sh'), deploy], { stdio: 'inherit' });
}
const size = statSync(image).size;
const allocated = Number(execFileSync('du', ['-B1', image], { encoding: 'utf8' }).split('\t')[0]);

const results = { xz: [], package: [] };
for (let i = 0; i < runs; i++) {
  const xzOut = join(dir, 'plain.img.xz');
  const fd = openSync(xzOut, 'w');
  const xz = await measure('xz', ['-T0', '-6', '-c', image], { stdout: fd });
  closeSync(fd);
  if (xz.code !== 0) throw new Error('xz failed');
  results.xz.push({ ...xz, outputBytes: statSync(xzOut).size });
  rmSync(xzOut);

  const out = join(dir, 'release');
  rmSync(out, { recursive: true, force: true });
  const pkg = await measure(process.execPath, [join(root, 'dist/cli/pi-image.cjs'), 'package', deploy, '--out', out, '--compression-level', '6', '--quiet']);
  if (pkg.code !== 0) throw new Error('pi-image package failed');
  results.package.push({
    ...pkg,
    outputBytes: statSync(
      join(
        out,
        readdirSync(out).find((f) => f.endsWith('.img.xz')),
      ),
    ).size,
  });
  console.log(
    `run ${i + 1}: xz ${xz.seconds.toFixed(1)} s, ${xz.peakRssMiB.toFixed(0)} MiB; ` +
      `package ${pkg.seconds.toFixed(1)} s, ${pkg.peakRssMiB.toFixed(0)} MiB (node alone ${pkg.peakOwnRssMiB.toFixed(0)} MiB)`,
  );
}

const summary = {
  date: new Date().toISOString(),
  machine: machine({ xz: execFileSync('xz', ['--version'], { encoding: 'utf8' }).split('\n')[0] }),
  image: { bytes: size, allocatedBytes: allocated },
  runs,
  xz: {
    medianSeconds: median(results.xz.map((r) => r.seconds)),
    peakRssMiB: Math.max(...results.xz.map((r) => r.peakRssMiB)),
    outputBytes: results.xz[0].outputBytes,
  },
  package: {
    medianSeconds: median(results.package.map((r) => r.seconds)),
    peakRssMiB: Math.max(...results.package.map((r) => r.peakRssMiB)),
    peakNodeRssMiB: Math.max(...results.package.map((r) => r.peakOwnRssMiB)),
    outputBytes: results.package[0].outputBytes,
  },
};
summary.ratio = summary.package.medianSeconds / summary.xz.medianSeconds;
writeFileSync(join(dir, 'package-bench.json'), `${JSON.stringify({ summary, results }, null, 2)}\n`);
console.log(JSON.stringify(summary, null, 2));
