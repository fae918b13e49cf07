/**
 * The trust root for verification: a TrustedRoot JSON file (offline, or a
 * private Sigstore instance), else Sigstore's public-good root fetched and
 * checked through TUF (network).
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { getTrustedRoot } from '@sigstore/tuf';
import { PiImageError } from '../core/errors';

export async function loadTrustedRoot(path: string | undefined, cacheDir = join(homedir(), '.cache', 'pi-image-release', 'tuf')): Promise<unknown> {
  if (path) {
    try {
      return JSON.parse(await readFile(path, 'utf8'));
    } catch (e) {
      throw new PiImageError('INPUT_INVALID', `trusted root ${path} cannot be read as JSON: ${(e as Error).message}`, { cause: e });
    }
  }
  try {
    return TrustedRoot.toJSON(await getTrustedRoot({ cachePath: cacheDir }));
  } catch (e) {
    throw new PiImageError('EXEC_FAILED', `Sigstore's public-good trusted root could not be fetched (offline? pass --trusted-root FILE): ${(e as Error).message}`, { cause: e });
  }
}
