/**
 * Pulls a published release (either format) into a release directory. Every
 * blob is checked against its digest as it streams, every file against
 * manifest.json, and with a verification policy the attached Sigstore bundle
 * is verified too, all in a hidden staging directory that becomes OUT_DIR only
 * when everything holds. Tar entries that would escape (absolute paths, `..`,
 * symbolic links, devices) are refused, not skipped.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { createGunzip } from 'node:zlib';
import { PiImageError } from '../core/errors';
import { type FileDigest } from '../core/file-digest';
import { openFileSink } from '../core/file-sink';
import type { Logger } from '../core/logger';
import { isPlainFileName } from '../core/safe-name';
import { stageOutputDir } from '../release/output-dir';
import { MANIFEST_FILE } from '../release/manifest';
import { checkFiles, OCI_REF_FILE, openReleaseDir, releaseNames, writeBeside, type DigestSource, type ReleaseDir } from '../release/release-dir';
import type { SignerPolicy } from '../signing/signer-policy';
import { verifyRelease, type VerifyResult } from '../signing/verify';
import { parseManifest } from '../oci/manifest-json';
import { ANNOTATION, DOCKER_LAYER_TAR_GZIP, OCI_INDEX, OCI_LAYER_TAR_GZIP, TAR_LAYER_TYPES, type Descriptor } from '../oci/media-types';
import { RELEASE_ARTIFACT_TYPE } from './release-artifact';
import { attachedSignatures } from './release-signature';
import { recordReference } from './reference-file';
import { DIGEST } from '../oci/reference';
import { ARTIFACT_DIR } from './release-image';
import type { OciStore } from '../oci/store';
import { readTar, safeEntryPath, type EntrySink, type TarEntry } from '../oci/tar-reader';

export interface PullOptions {
  store: OciStore;
  /** A tag or a digest in the store. */
  reference: string;
  outDir: string;
  force?: boolean;
  /** Verify the attached signature before anything is written to OUT_DIR. */
  verify?: { policy: SignerPolicy; trustedRoot: unknown } | undefined;
  logger: Logger;
}

export interface PullResult {
  digest: string;
  reference: string;
  format: 'image' | 'artifact';
  files: number;
  name: string;
  version: string;
  verified?: VerifyResult;
}

/** A plain file name a release may hold (no directories, not hidden, not special). */
function checkFileName(name: string, where: string): string {
  if (!isPlainFileName(name)) {
    throw new PiImageError('UNSAFE_ARCHIVE', `${where} names a file "${name}" that is not a plain file name: refused`);
  }
  return name;
}

class StagingWriter {
  readonly written = new Map<string, FileDigest>();
  constructor(private readonly dir: string) {}

  sink(name: string, where: string): EntrySink {
    if (this.written.has(name)) throw new PiImageError('UNSAFE_ARCHIVE', `${where} holds ${name} twice: refused`);
    const file = openFileSink(join(this.dir, name));
    return {
      write: (chunk) => file.write(chunk),
      end: async () => {
        this.written.set(name, await file.end());
      },
    };
  }
}

async function resolveDigest(store: OciStore, reference: string): Promise<string> {
  if (DIGEST.test(reference)) return reference;
  const digest = await store.resolveTag(reference);
  if (!digest) throw new PiImageError('INPUT_INVALID', `${store.label} has no tag "${reference}"`);
  return digest;
}

/** An index (several platforms) is narrowed to its arm64 manifest, or its only one. */
async function releaseManifest(store: OciStore, digest: string): Promise<{ digest: string; manifest: ReturnType<typeof parseManifest> }> {
  const got = await store.getManifest(digest);
  const m = parseManifest(got.bytes, `${store.label}@${digest}`);
  if (m.manifests === undefined && (m.mediaType ?? got.mediaType) !== OCI_INDEX) return { digest, manifest: m };
  const children = (m.manifests ?? []) as (Descriptor & { platform?: { architecture?: string } })[];
  const pick = children.length === 1 ? children[0] : children.find((c) => c.platform?.architecture === 'arm64');
  if (!pick) throw new PiImageError('INPUT_INVALID', `${store.label}@${digest} is an index with no arm64 manifest: name one by digest`);
  return releaseManifest(store, pick.digest);
}

async function pullArtifact(store: OciStore, layers: Descriptor[], staging: StagingWriter, where: string): Promise<void> {
  for (const layer of layers) {
    const title = layer.annotations?.[ANNOTATION.title];
    if (title === undefined) throw new PiImageError('UNSAFE_ARCHIVE', `${where}: a layer has no ${ANNOTATION.title}: not a release artifact`);
    const sink = staging.sink(checkFileName(title, where), where);
    for await (const chunk of store.readBlob(layer)) await sink.write(chunk);
    await sink.end();
  }
}

async function pullImage(store: OciStore, layers: Descriptor[], staging: StagingWriter, where: string, logger: Logger): Promise<void> {
  const extracted = new Set<string>();
  for (const layer of layers) {
    if (!TAR_LAYER_TYPES.has(layer.mediaType))
      throw new PiImageError('UNSAFE_ARCHIVE', `${where}: layer ${layer.digest} is ${layer.mediaType}, not a tar layer`);
    const blob = store.readBlob(layer);
    const source = layer.mediaType === OCI_LAYER_TAR_GZIP || layer.mediaType === DOCKER_LAYER_TAR_GZIP ? gunzip(blob) : blob;
    const admit = (entry: TarEntry): EntrySink | undefined => {
      const segments = safeEntryPath(entry.name);
      const inArtifact = segments[0] === ARTIFACT_DIR;
      if (entry.type === 'symlink')
        throw new PiImageError('UNSAFE_ARCHIVE', `${where}: tar entry "${entry.name}" is a symbolic link (to "${entry.linkname}"): refused`);
      if (entry.type === 'device' || entry.type === 'other')
        throw new PiImageError(
          'UNSAFE_ARCHIVE',
          `${where}: tar entry "${entry.name}" is a device, FIFO or unknown type (${JSON.stringify(entry.typeflag)}): refused`,
        );
      if (entry.type === 'hardlink') {
        const target = safeEntryPath(entry.linkname);
        if (target[0] !== ARTIFACT_DIR || target.length !== 2 || !extracted.has(target[1]!)) {
          throw new PiImageError('UNSAFE_ARCHIVE', `${where}: tar entry "${entry.name}" links to "${entry.linkname}", outside the release files: refused`);
        }
        return undefined; // an alias for older consumers (os.img.xz): not part of the release directory
      }
      if (entry.type === 'dir' || !inArtifact) return undefined;
      if (segments.length !== 2) {
        logger.warn(`${where}: skipping ${entry.name} (a release has no subdirectories)`);
        return undefined;
      }
      const name = checkFileName(segments[1]!, where);
      extracted.add(name);
      return staging.sink(name, where);
    };
    await readTar(source, (entry) => Promise.resolve(admit(entry)));
  }
}

async function* gunzip(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const z = createGunzip();
  const feed = (async () => {
    for await (const c of source) if (!z.write(c)) await once(z, 'drain');
    z.end();
  })();
  feed.catch((e: unknown) => z.destroy(e as Error));
  for await (const c of z) yield c as Buffer;
  await feed;
}

/** Every file manifest.json lists is there with its digest; nothing else is but the signature. */
async function checkAgainstManifest(dir: string, written: Map<string, FileDigest>, where: string): Promise<ReleaseDir> {
  if (!written.has(MANIFEST_FILE)) {
    const found = [...written.keys()].slice(0, 5).join(', ');
    throw new PiImageError('INPUT_INVALID', `${where} is not a pi-image release: it has no ${MANIFEST_FILE}${found ? ` (it has ${found})` : ''}`);
  }
  const release = await openReleaseDir(dir);
  const allowed = releaseNames(release);
  allowed.delete(OCI_REF_FILE); // written here, after pulling: an artifact holding one is not ours
  for (const name of written.keys()) {
    if (!allowed.has(name)) throw new PiImageError('UNSAFE_ARCHIVE', `${where} holds ${name}, which ${MANIFEST_FILE} does not list: refused`);
  }
  await checkFiles(release.manifest.files, writtenDigests(written), where, 'manifest');
  if ((await readdir(dir)).length !== written.size) throw new PiImageError('INTERNAL', `${dir} holds files that were not pulled`);
  return release;
}

/** The digests computed while the files were written: nothing is read twice. */
function writtenDigests(written: Map<string, FileDigest>): DigestSource {
  return (name) => Promise.resolve(written.get(name));
}

async function verifyAttached(
  store: OciStore,
  digest: string,
  release: ReleaseDir,
  written: Map<string, FileDigest>,
  verify: NonNullable<PullOptions['verify']>,
  logger: Logger,
): Promise<VerifyResult> {
  let first: unknown;
  let tried = 0;
  for await (const b of attachedSignatures(store, digest)) {
    tried++;
    try {
      const result = await verifyRelease({
        releaseDir: release.dir,
        policy: verify.policy,
        trustedRoot: verify.trustedRoot,
        logger,
        bundle: { json: b.bundle, label: `the bundle attached as ${b.digest}` },
        digests: writtenDigests(written),
      });
      // The directory keeps the bundle that verified, so it verifies again offline.
      await writeBeside(release, release.signatureFile, b.bundle);
      return result;
    } catch (e) {
      first ??= e;
      logger.warn(`the bundle attached as ${b.digest} does not verify: ${(e as Error).message}`);
    }
  }
  if (tried === 0) throw new PiImageError('SIGNATURE_MISSING', `${store.pinned(digest)} has no Sigstore bundle attached: not signed, or signed elsewhere`);
  throw first;
}

export async function pullRelease(options: PullOptions): Promise<PullResult> {
  const { store, logger } = options;
  const requested = await resolveDigest(store, options.reference);
  const { digest, manifest } = await releaseManifest(store, requested);
  const where = store.pinned(digest);
  const format = manifest.artifactType === RELEASE_ARTIFACT_TYPE ? 'artifact' : 'image';
  logger.info(`pulling ${where} (${format} format)`);
  const staged = await stageOutputDir(options.outDir, { replace: options.force ?? false, inputs: store.localDir ? [store.localDir] : [] });
  try {
    const staging = new StagingWriter(staged.path);
    if (format === 'artifact') await pullArtifact(store, manifest.layers ?? [], staging, where);
    else await pullImage(store, manifest.layers ?? [], staging, where, logger);
    const release = await checkAgainstManifest(staged.path, staging.written, where);
    const { name, version, files } = release.manifest;
    logger.info(`${files.length} files match ${MANIFEST_FILE}`);
    const result: PullResult = { digest, reference: where, format, name, version, files: files.length };
    if (options.verify) result.verified = await verifyAttached(store, digest, release, staging.written, options.verify, logger);
    else logger.warn(`the signature of ${where} was not checked: no signer was named to check it against`);
    await recordReference(release, where);
    await staged.commit();
    return result;
  } catch (e) {
    await staged.discard();
    throw e;
  }
}
