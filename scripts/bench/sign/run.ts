// Sign benchmark: signs and verifies a release whose image is 8 GiB, with
// Sigstore's mock services on loopback, and reports the wall time and the peak
// RSS of `pi-image sign` and `pi-image verify` (each streams every file once).
// Run with Node 24 (it runs TypeScript): node scripts/bench/sign/run.ts [--gib N]
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, rmSync, writeFileSync, truncateSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startSigstoreMock } from '../../../test/support/sigstore-mock.ts';
import { measure } from '../measure.mjs';
import { writeOneFileManifest } from '../one-file-release.ts';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const { values } = parseArgs({ options: { gib: { type: 'string', default: '8' }, dir: { type: 'string', default: '/tmp/pi-image-sign-bench' } } });
const dir = values.dir;
const release = join(dir, 'release');
rmSync(dir, { recursive: true, force: true });
mkdirSync(release, { recursive: true });

// An image of the asked size: sparse, with some data at both ends.
const image = join(release, 'bench.img.xz');
truncateSync(openSyncClose(image), Number(values.gib) * 2 ** 30);
const fd = openSync(image, 'r+');
writeSync(fd, Buffer.alloc(1 << 20, 7), 0, 1 << 20, 0);
writeSync(fd, Buffer.alloc(1 << 20, 9), 0, 1 << 20, Number(values.gib) * 2 ** 30 - (1 << 20));
closeSync(fd);
function openSyncClose(path: string): string {
  closeSync(openSync(path, 'w'));
  return path;
}
const digest = async (path: string) => {
  const h = createHash('sha256');
  let size = 0;
  for await (const c of createReadStream(path, { highWaterMark: 1 << 20 })) {
    h.update(c as Buffer);
    size += (c as Buffer).length;
  }
  return { sha256: h.digest('hex'), size };
};
const d = await digest(image);
writeOneFileManifest(release, d);

const mock = await startSigstoreMock();
const run = { repository: 'acme/bench', ref: 'refs/tags/v1.0.0' };
const cli = join(root, 'dist/cli/pi-image.cjs');
const sign = await measure(process.execPath, [cli, 'sign', release, '--fulcio-url', mock.url, '--rekor-url', mock.url, '-q'], {
  env: { SIGSTORE_ID_TOKEN: mock.githubToken(run) },
});
writeFileSync(join(dir, 'trusted_root.json'), JSON.stringify(mock.trustedRoot));
const verify = await measure(process.execPath, [
  cli,
  'verify',
  release,
  '--repository',
  run.repository,
  '--signer-workflow',
  `${run.repository}/.github/workflows/release.yml`,
  '--trusted-root',
  join(dir, 'trusted_root.json'),
  '-q',
]);
await mock.close();
console.log(JSON.stringify({ imageGiB: Number(values.gib), node: process.version, sign, verify }, null, 2));
if (sign.code !== 0 || verify.code !== 0) process.exit(1);
