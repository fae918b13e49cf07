// Boot test benchmark: `pi-image smoke-test` on the project's arm64 test image
// (Debian bookworm laid out like pi-gen's export; built by the tests, cached
// in ~/.cache/pi-image-release), RUNS times, with the OurBox checks and the
// DATA disk (two boots). Reports, from each run's smoke-test.json, the time
// from QEMU's start to the kernel, the handover, multi-user and the checks'
// end for each boot, and the whole command's wall time. The boot kit is made
// before the first timed run (a cold cache costs a download, not boot time).
//
//   node scripts/bench/boot/run.mjs [--runs N] [--image IMG] [--accel tcg|kvm]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { machine, measure } from '../measure.mjs';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const cli = join(root, 'dist/cli/pi-image.cjs');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, image: { type: 'string' }, accel: { type: 'string', default: 'tcg' } } });
const cache = join(process.env.HOME ?? tmpdir(), '.cache', 'pi-image-release');
const image =
  values.image ??
  (() => {
    // The newest test image (an older one may be left from an earlier version of its script).
    const dir = readdirSync(cache)
      .filter((d) => d.startsWith('test-image-') && readdirSync(join(cache, d)).some((f) => f.endsWith('.img')))
      .sort((a, b) => statSync(join(cache, b)).mtimeMs - statSync(join(cache, a)).mtimeMs)[0];
    if (!dir) throw new Error('no test image in ~/.cache/pi-image-release: run the tests once (npm test) or give --image');
    return join(
      cache,
      dir,
      readdirSync(join(cache, dir)).find((f) => f.endsWith('.img')),
    );
  })();
const work = mkdtempSync(join(tmpdir(), 'pi-image-bench-boot-'));
const args = (evidence) => [
  cli,
  'smoke-test',
  image,
  '--checks',
  join(root, 'pigen/checks'),
  '--data-label',
  'OURBOX_DATA',
  '--data-mount',
  '/var/lib/ourbox',
  '--expected-version',
  '0.0.0-test',
  '--accel',
  values.accel,
  '--evidence-dir',
  evidence,
  '--quiet',
];
try {
  execFileSync(process.execPath, args(join(work, 'warm-up')), { stdio: 'inherit' });
  const rows = [];
  for (let i = 0; i < Number(values.runs); i++) {
    const evidence = join(work, `run-${i + 1}`);
    const m = await measure(process.execPath, args(evidence));
    if (m.code !== 0) throw new Error(`run ${i + 1} failed with exit ${m.code}`);
    const report = JSON.parse(readFileSync(join(evidence, 'smoke-test.json'), 'utf8'));
    const row = {
      run: i + 1,
      wallSeconds: Math.round(m.seconds * 10) / 10,
      peakRssMiB: Math.round(m.peakRssMiB),
      boots: report.boots.map((b) => ({ name: b.name, seconds: b.seconds, ...b.times })),
    };
    rows.push(row);
    console.log(JSON.stringify(row));
  }
  console.log(
    JSON.stringify(
      {
        machine: machine(),
        accel: values.accel,
        image,
        rows,
      },
      null,
      2,
    ),
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
