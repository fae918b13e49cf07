/**
 * The trust root for verification: a TrustedRoot JSON file (offline, or a
 * private Sigstore instance), else Sigstore's public-good root fetched and
 * checked through TUF (network). A file is checked when it is loaded: a
 * garbage root is a bad input, not a bad signature.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { getTrustedRoot } from '@sigstore/tuf';
import { toTrustMaterial } from '@sigstore/verify';
import { PiImageError } from '../core/errors';
import { readSmallFile } from '../core/small-file';

const MAX_TRUSTED_ROOT_BYTES = 4 * 1024 * 1024;

/** Refuses a trusted root that could verify nothing: no certificate authority, no log or timestamp authority, keys that do not parse. */
export function checkTrustedRoot(json: unknown, label: string): void {
  const bad = (why: string, cause?: unknown): PiImageError => new PiImageError('INPUT_INVALID', `the trusted root ${label} ${why}`, { cause });
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('is not a Sigstore TrustedRoot (a JSON object)');
  let material;
  try {
    material = toTrustMaterial(TrustedRoot.fromJSON(json));
  } catch (e) {
    throw bad(`is not a Sigstore TrustedRoot: ${(e as Error).message}`, e);
  }
  if (material.certificateAuthorities.length === 0) throw bad('names no certificate authority: it cannot vouch for any signing certificate');
  if (material.tlogs.length === 0 && material.timestampAuthorities.length === 0) throw bad('names no transparency log and no timestamp authority');
}

export async function loadTrustedRoot(path: string | undefined, cacheDir = join(homedir(), '.cache', 'pi-image-release', 'tuf')): Promise<unknown> {
  if (path) {
    let json: unknown;
    try {
      json = JSON.parse((await readSmallFile(path, MAX_TRUSTED_ROOT_BYTES)).toString('utf8'));
    } catch (e) {
      if (e instanceof PiImageError) throw e;
      throw new PiImageError('INPUT_INVALID', `trusted root ${path} cannot be read as JSON: ${(e as Error).message}`, { cause: e });
    }
    checkTrustedRoot(json, path);
    return json;
  }
  try {
    return TrustedRoot.toJSON(await getTrustedRoot({ cachePath: cacheDir }));
  } catch (e) {
    throw new PiImageError(
      'EXEC_FAILED',
      `Sigstore's public-good trusted root could not be fetched (offline? pass --trusted-root FILE): ${(e as Error).message}`,
      { cause: e },
    );
  }
}
