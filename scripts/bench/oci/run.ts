// OCI benchmark: pushes and pulls a release whose image is 2 GiB of
// incompressible bytes (as an .img.xz is) to Debian's docker-registry on
// loopback with `pi-image publish` / `pi-image pull`, and copies the same
// image (the same layer bytes, from an OCI layout) with `skopeo copy` side by
// side, alternating, each to a fresh repository. Reports wall time, throughput
// ratios (ours / skopeo) and the peak RSS of our process.
// Run with Node 24 (it runs TypeScript): node scripts/bench/oci/run.ts [--gib N] [--rounds N]
import { randomBytes, createHash } from 'node:crypto';
import { mkdirSync, openSync, writeSync, closeSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startRegistry } from '../../../test/support/registry.ts';
import { measure } from '../measure.mjs';
import { writeOneFileManifest } from '../one-file-release.ts';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const { values } = parseArgs({
  options: { gib: { type: 'string', default: '2' }, rounds: { type: 'string', default: '2' }, dir: { type: 'string', default: '/tmp/pi-image-oci-bench' } },
});
const gib = Number(values.gib);
const rounds = Number(values.rounds);
const dir = values.dir;
rmSync(dir, { recursive: true, force: true });
const release = join(dir, 'release');
mkdirSync(release, { recursive: true });

// The image: random bytes, written in 1 MiB chunks and hashed on the way.
// Whole MiB: the image is written in 1 MiB chunks.
const size = Math.round(gib * 1024) * 2 ** 20;
const hash = createHash('sha256');
const fd = openSync(join(release, 'bench.img.xz'), 'w');
for (let done = 0; done < size; done += 1 << 20) {
  const chunk = randomBytes(1 << 20);
  hash.update(chunk);
  writeSync(fd, chunk);
}
closeSync(fd);
const sha256 = hash.digest('hex');
writeOneFileManifest(release, { size, sha256 });

const cli = join(root, 'dist/cli/pi-image.cjs');
const layout = join(dir, 'layout');
// The reference's input: the same image (same layer bytes) in an OCI layout, written by us, untimed.
const prep = await measure(process.execPath, [cli, 'publish', release, `oci:${layout}`, '-q']);
if (prep.code !== 0) throw new Error('could not write the layout');

const results: Record<string, { seconds: number; peakRssMiB: number; peakOwnRssMiB: number }[]> = {};
const record = (name: string, r: { seconds: number; peakRssMiB: number; peakOwnRssMiB: number; code: number }) => {
  if (r.code !== 0) throw new Error(`${name} failed`);
  (results[name] ??= []).push({ seconds: r.seconds, peakRssMiB: r.peakRssMiB, peakOwnRssMiB: r.peakOwnRssMiB });
};
// A fresh registry for each tool in each round: skopeo remembers where blobs live and would
// mount them from an earlier round's repository instead of uploading.
for (let i = 0; i < rounds; i++) {
  const ours = await startRegistry();
  try {
    const host = ours.host;
    record('push image (pi-image)', await measure(process.execPath, [cli, 'publish', release, `${host}/bench/image`, '--format', 'image', '-q']));
    record('push artifact (pi-image)', await measure(process.execPath, [cli, 'publish', release, `${host}/bench/artifact`, '--format', 'artifact', '-q']));
    record('pull image (pi-image)', await measure(process.execPath, [cli, 'pull', `${host}/bench/image:1.0.0`, join(dir, `pulled-${i}`), '-q']));
    record('pull artifact (pi-image)', await measure(process.execPath, [cli, 'pull', `${host}/bench/artifact:1.0.0`, join(dir, `pulled-artifact-${i}`), '-q']));
  } finally {
    await ours.close();
  }
  const reference = await startRegistry();
  try {
    const host = reference.host;
    record(
      'push (skopeo copy)',
      await measure('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci:${layout}:1.0.0`, `docker://${host}/bench/skopeo:1.0.0`]),
    );
    record(
      'pull (skopeo copy)',
      await measure('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${host}/bench/skopeo:1.0.0`, `oci:${join(dir, `skopeo-pulled-${i}`)}:1.0.0`]),
    );
  } finally {
    await reference.close();
  }
  for (const d of [`pulled-${i}`, `pulled-artifact-${i}`, `skopeo-pulled-${i}`]) rmSync(join(dir, d), { recursive: true, force: true });
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const summary: Record<string, { medianSeconds: number; MiBps: number; peakOwnRssMiB: number; peakTreeRssMiB: number }> = {};
for (const [name, rs] of Object.entries(results)) {
  const s = median(rs.map((r) => r.seconds));
  summary[name] = {
    medianSeconds: Number(s.toFixed(2)),
    MiBps: Number((size / 2 ** 20 / s).toFixed(1)),
    peakOwnRssMiB: Number(Math.max(...rs.map((r) => r.peakOwnRssMiB)).toFixed(0)),
    peakTreeRssMiB: Number(Math.max(...rs.map((r) => r.peakRssMiB)).toFixed(0)),
  };
}
const ratio = (ours: string, ref: string) => Number((summary[ours]!.MiBps / summary[ref]!.MiBps).toFixed(2));
console.log(
  JSON.stringify(
    {
      imageGiB: gib,
      rounds,
      node: process.version,
      summary,
      throughputRatios: {
        'push image / skopeo': ratio('push image (pi-image)', 'push (skopeo copy)'),
        'push artifact / skopeo': ratio('push artifact (pi-image)', 'push (skopeo copy)'),
        'pull image / skopeo': ratio('pull image (pi-image)', 'pull (skopeo copy)'),
        'pull artifact / skopeo': ratio('pull artifact (pi-image)', 'pull (skopeo copy)'),
      },
      runs: results,
    },
    null,
    2,
  ),
);
rmSync(dir, { recursive: true, force: true });
