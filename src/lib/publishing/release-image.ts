/**
 * The `image` format: an OCI image with one uncompressed tar layer (the image
 * is xz already) holding the release under /artifact, as the `FROM scratch`
 * images teams used to build did, so `docker create` + `docker cp` still
 * work. The layer is produced in one pass over the files: each file is hashed
 * on its way into the tar and checked against manifest.json, and the layer's
 * own digest is known when the pass ends.
 */
import { join } from 'node:path';
import { PiImageError } from '../core/errors';
import { NotRegularFileError, regularFileChunks, verifiedChunks } from '../core/file-digest';
import { MANIFEST_FILE } from '../release/manifest';
import { OCI_IMAGE_CONFIG, OCI_LAYER_TAR, OCI_MANIFEST, type Descriptor } from '../oci/media-types';
import type { ReleaseContent } from './release-content';
import { TAR_END, tarHeader, tarPadding } from '../oci/tar-format';

export const ARTIFACT_DIR = 'artifact';

/** Fixed names older consumers read (`/artifact/os.img.xz`): hard links to the release's files. */
export const COMPAT_NAMES: { name: string; role: string }[] = [
  { name: 'os.img.xz', role: 'image' },
  { name: 'os.info', role: 'pigen-info' },
  { name: 'build.log', role: 'build-log' },
];

export function epochSeconds(created: string): number {
  const t = Date.parse(created);
  return Number.isFinite(t) ? Math.floor(t / 1000) : 0;
}

/**
 * A release file's bytes, checked against manifest.json as they stream (the
 * same rules as checking a directory: missing is FILE_MISSING; another size
 * or digest, or something that is not a regular file, is FILE_MODIFIED).
 */
async function* verifiedFileChunks(dir: string, f: { path: string; size: number; sha256: string }): AsyncGenerator<Buffer> {
  const modified = (why: string): PiImageError =>
    new PiImageError('FILE_MODIFIED', `${f.path} in ${dir} does not match ${MANIFEST_FILE} (${why}; changed since it was packaged?): not published`);
  let chunks: AsyncGenerator<Buffer>;
  try {
    chunks = regularFileChunks(join(dir, f.path));
    const first = await chunks.next();
    if (!first.done) chunks = prepend(first.value, chunks);
    else chunks = prepend(Buffer.alloc(0), chunks);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new PiImageError('FILE_MISSING', `${f.path} is listed in ${MANIFEST_FILE} but missing from ${dir}`, { cause: e });
    if (e instanceof NotRegularFileError) throw modified(e.kind);
    throw e;
  }
  yield* verifiedChunks(chunks, { size: f.size, sha256: f.sha256 }, (found) =>
    modified(found.larger ? `larger than ${f.size} bytes` : `${found.actual.size} bytes, sha256 ${found.actual.sha256}`),
  );
}

async function* prepend(first: Buffer, rest: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  if (first.length > 0) yield first;
  yield* rest;
}

/** The layer's bytes, streamed; throws FILE_MODIFIED when a file is not what manifest.json says. */
export async function* releaseLayer(content: ReleaseContent): AsyncGenerator<Buffer> {
  const mtime = epochSeconds(content.manifest.created);
  yield tarHeader({ name: ARTIFACT_DIR, type: 'dir', mtime });
  yield tarHeader({ name: `${ARTIFACT_DIR}/${MANIFEST_FILE}`, type: 'file', size: content.manifestBytes.length, mtime });
  yield content.manifestBytes;
  yield tarPadding(content.manifestBytes.length);
  for (const f of content.files) {
    yield tarHeader({ name: `${ARTIFACT_DIR}/${f.path}`, type: 'file', size: f.size, mtime });
    yield* verifiedFileChunks(content.dir, f);
    yield tarPadding(f.size);
  }
  const names = new Set(content.files.map((f) => f.path));
  for (const alias of COMPAT_NAMES) {
    const target = content.files.find((f) => f.role === alias.role);
    if (!target || names.has(alias.name)) continue;
    yield tarHeader({ name: `${ARTIFACT_DIR}/${alias.name}`, type: 'hardlink', linkname: `${ARTIFACT_DIR}/${target.path}`, mtime });
  }
  yield TAR_END;
}

/** The image config: arm64 (what the image is for), the layer's diff_id, the annotations as labels. */
export function imageConfig(layerDigest: string, created: string, labels: Record<string, string>): Buffer {
  return Buffer.from(
    JSON.stringify({
      created,
      architecture: 'arm64',
      os: 'linux',
      // Nothing runs from this image; a command lets `docker create` make a container to copy from.
      config: { Cmd: ['/artifact/no-program-here'], Labels: labels },
      rootfs: { type: 'layers', diff_ids: [layerDigest] },
      history: [{ created, created_by: 'pi-image publish: the release files under /artifact' }],
    }),
  );
}

export function imageManifest(config: Descriptor, layer: Descriptor, annotations: Record<string, string>): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_IMAGE_CONFIG, digest: config.digest, size: config.size },
      layers: [{ mediaType: OCI_LAYER_TAR, digest: layer.digest, size: layer.size }],
      annotations,
    }),
  );
}
