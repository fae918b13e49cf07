/**
 * `os-artifact.ref`: the pinned reference (`name@sha256:…`) a release was
 * published to or pulled from, one line, recorded in manifest.json with the
 * role `oci-reference`. Not signed and not published: it names the artifact.
 */
import { createHash } from 'node:crypto';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MANIFEST_FILE, readManifest, renderJson, sortFiles } from '../release/manifest';
import { OCI_REF_FILE } from './release-content';

async function writeAtomic(path: string, text: string): Promise<void> {
  const temp = `${path}.partial-${process.pid}`;
  await writeFile(temp, text);
  await rename(temp, path);
}

export async function recordReference(releaseDir: string, reference: string): Promise<void> {
  const text = `${reference}\n`;
  await writeAtomic(join(releaseDir, OCI_REF_FILE), text);
  const manifest = await readManifest(releaseDir);
  const files = manifest.files.filter((f) => f.path !== OCI_REF_FILE);
  files.push({ path: OCI_REF_FILE, role: 'oci-reference', mediaType: 'text/plain', size: Buffer.byteLength(text), sha256: createHash('sha256').update(text).digest('hex') });
  await writeAtomic(join(releaseDir, MANIFEST_FILE), renderJson({ ...manifest, files: sortFiles(files) }));
}
