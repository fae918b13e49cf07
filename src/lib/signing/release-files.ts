/** Checks that a release directory's files are what its manifest says, streaming every file once. */
import { join } from 'node:path';
import { PiImageError } from '../core/errors';
import { digestFile } from '../image/raw-image-pass';
import { MANIFEST_FILE, type ReleaseManifest } from '../release/manifest';

export async function checkFilesAgainstManifest(releaseDir: string, manifest: ReleaseManifest): Promise<void> {
  for (const f of manifest.files) {
    let actual: { size: number; sha256: string };
    try {
      actual = await digestFile(join(releaseDir, f.path));
    } catch (e) {
      throw new PiImageError('FILE_MISSING', `${f.path} is listed in ${MANIFEST_FILE} but cannot be read in ${releaseDir}`, { cause: e });
    }
    if (actual.sha256 !== f.sha256 || actual.size !== f.size) {
      throw new PiImageError('FILE_MODIFIED', `${f.path} does not match ${MANIFEST_FILE}: sha256 ${actual.sha256}, ${actual.size} bytes; listed ${f.sha256}, ${f.size} bytes`);
    }
  }
}
