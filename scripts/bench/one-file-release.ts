// The smallest release directory the benchmarks need: one image file,
// bench.img.xz, and a manifest.json listing it (version 1.0.0, stable).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const BENCH_IMAGE = 'bench.img.xz';

export function writeOneFileManifest(release: string, image: { size: number; sha256: string }): void {
  const { size, sha256 } = image;
  const manifest = {
    schemaVersion: 1,
    name: 'bench',
    version: '1.0.0',
    channel: 'stable',
    created: '2026-01-19T00:00:00Z',
    image: { path: BENCH_IMAGE, compression: 'xz', raw: { size, sha256 } },
    files: [{ path: BENCH_IMAGE, role: 'image', mediaType: 'application/x-xz', size, sha256 }],
  };
  writeFileSync(join(release, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}
