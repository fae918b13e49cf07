/**
 * `os-artifact.ref`: the pinned reference (`name@sha256:…`) a release was
 * published to or pulled from, one line, kept beside manifest.json. Neither
 * listed, signed nor published: it names the artifact the release is in.
 */
import { OCI_REF_FILE, writeBeside, type ReleaseDir } from '../release/release-dir';

export async function recordReference(release: ReleaseDir, reference: string): Promise<string> {
  return writeBeside(release, OCI_REF_FILE, `${reference}\n`);
}
