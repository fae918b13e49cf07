/**
 * Publishes a release directory to a store (registry or OCI layout) in one
 * of two formats, tags it, attaches its Sigstore bundle when it is signed, and
 * records the pinned reference in the release directory.
 */
import { PiImageError } from '../core/errors';
import { RegistryError } from '../oci/registry-error';
import type { Logger } from '../core/logger';
import { MANIFEST_FILE } from '../release/manifest';
import { OCI_MANIFEST, type Descriptor } from '../oci/media-types';
import type { Attached } from '../oci/referrers';
import { attachSignature } from './release-signature';
import { recordReference } from './reference-file';
import { bytesBlobSource, digestOf } from '../oci/blob-source';
import { artifactLayout, RELEASE_ARTIFACT_TYPE } from './release-artifact';
import { readReleaseContent, releaseAnnotations, type ReleaseContent } from './release-content';
import { imageConfig, imageManifest, releaseLayer } from './release-image';
import type { OciStore } from '../oci/store';
import { checkTagMoves, releaseTags } from './tags';

export const FORMATS = ['image', 'artifact'] as const;
export type PublishFormat = (typeof FORMATS)[number];

export interface PublishOptions {
  releaseDir: string;
  store: OciStore;
  format: PublishFormat;
  /** Tags besides the version, channel and build tags. */
  extraTags?: readonly string[];
  /** Annotations besides the release's own (e.g. a source URL). */
  annotations?: Record<string, string | undefined>;
  /** Move immutable tags (version, build) that point at another manifest. */
  force?: boolean;
  /** Attach the release's Sigstore bundle when it has one (default true). */
  attachSignature?: boolean;
  /** Write os-artifact.ref into the release directory (default true). */
  recordReference?: boolean;
  logger: Logger;
}

export interface PublishResult {
  digest: string;
  /** `name@sha256:…` */
  reference: string;
  tags: string[];
  format: PublishFormat;
  size: number;
  signature?: Attached;
}

async function putFileBlob(store: OciStore, source: Parameters<OciStore['putBlob']>[0], name: string): Promise<string> {
  try {
    return await store.putBlob(source);
  } catch (e) {
    if ((e instanceof PiImageError && e.code === 'DIGEST_MISMATCH') || (e instanceof RegistryError && e.details.codes.includes('DIGEST_INVALID'))) {
      throw new PiImageError('FILE_MODIFIED', `${name} does not match ${MANIFEST_FILE} (changed since it was packaged?): not published`, { cause: e });
    }
    throw e;
  }
}

async function storeBlobs(content: ReleaseContent, options: PublishOptions, annotations: Record<string, string>): Promise<{ manifest: Buffer; size: number }> {
  const { store, logger } = options;
  if (options.format === 'artifact') {
    const layout = artifactLayout(content, annotations);
    let size = 0;
    for (const blob of layout.blobs) {
      const name = content.files.find((f) => `sha256:${f.sha256}` === blob.descriptor.digest)?.path ?? 'a small blob';
      const how = await putFileBlob(store, blob, name);
      logger.info(`${name}: ${how === 'exists' ? 'already in' : how === 'mounted' ? 'mounted into' : 'stored in'} ${store.label}`);
      size += blob.descriptor.size;
    }
    return { manifest: layout.manifest, size };
  }
  logger.info(`streaming the release into one tar layer for ${store.label}`);
  const layer = await store.putBlobStream(() => releaseLayer(content));
  const config = imageConfig(layer.digest, content.manifest.created, annotations);
  const configSource = bytesBlobSource(config);
  await store.putBlob(configSource);
  const layerDescriptor: Descriptor = { mediaType: '', digest: layer.digest, size: layer.size };
  logger.info(`layer ${layer.digest} (${layer.size} bytes) stored in ${store.label}`);
  return { manifest: imageManifest({ mediaType: '', ...configSource.descriptor }, layerDescriptor, annotations), size: layer.size + config.length };
}

export async function publishRelease(options: PublishOptions): Promise<PublishResult> {
  const { store, logger } = options;
  const content = await readReleaseContent(options.releaseDir);
  const tags = releaseTags(content, options.extraTags);
  const annotations = releaseAnnotations(content, options.annotations);
  const { manifest, size } = await storeBlobs(content, options, annotations);
  const digest = digestOf(manifest);
  await checkTagMoves(store, tags, digest, options.force ?? false, logger);
  for (const t of tags) await store.putManifest(manifest, OCI_MANIFEST, t.tag);
  logger.info(`${content.manifest.name} ${content.manifest.version} published as ${store.pinned(digest)} (tags ${tags.map((t) => t.tag).join(', ')})`);

  const result: PublishResult = { digest, reference: store.pinned(digest), tags: tags.map((t) => t.tag), format: options.format, size };
  if (content.signature && options.attachSignature !== false) {
    const subject: Descriptor = {
      mediaType: OCI_MANIFEST,
      digest,
      size: manifest.length,
      ...(options.format === 'artifact' ? { artifactType: RELEASE_ARTIFACT_TYPE } : {}),
    };
    result.signature = await attachSignature(store, subject, content.signature, content.manifest.created);
    logger.info(
      `signature attached as ${result.signature.digest} (${result.signature.via === 'referrers-api' ? 'referrers API' : `tag ${digest.replace(':', '-')}`})`,
    );
  } else if (!content.signature) {
    logger.info('the release is not signed: no signature attached');
  }
  if (options.recordReference !== false) await recordReference(content.release, result.reference);
  return result;
}
