/**
 * What a flash writes, checked before a byte reaches the disk:
 *  - a release directory: with a signer policy its signature is verified and
 *    the signed manifest is the truth; without one the image and block map
 *    are checked against manifest.json (and `requireSignature` refuses);
 *  - an OCI reference: pulled into a temporary directory first (every digest
 *    checked, the attached signature verified before anything is written when
 *    a policy is given), then read as a release directory;
 *  - a bare image (.img, .img.xz, .img.gz, .zip), with NAME.bmap beside it
 *    when there is one: nothing to verify a signature against.
 */
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { registerCleanup } from '../core/cleanup';
import { PiImageError } from '../core/errors';
import type { Logger } from '../core/logger';
import { readSmallFile } from '../core/small-file';
import { parseBmap, type BlockMap } from '../image/bmap';
import { detectCompression, type ImageCompression } from '../image/compression';
import { xzUncompressedSize } from '../image/decompress';
import type { ImageInspection } from '../image/inspect';
import { listZipEntries } from '../image/zip-reader';
import { openStore, type StoreOptions } from '../oci/open-store';
import { parseTarget } from '../oci/target';
import { pullRelease } from '../publishing/pull';
import { checkFiles, diskDigests, fileOfRole, openReleaseDir, readReleaseMetadata, releasePath, type ReleaseDir } from '../release/release-dir';
import type { SignerPolicy } from '../signing/signer-policy';
import { verifyRelease, type VerifyResult } from '../signing/verify';

/** A .bmap is a few MiB at most even for a large, fragmented image. */
const MAX_BMAP_BYTES = 64 * 1024 * 1024;

export interface FlashSource {
  /** What the user gave. */
  input: string;
  imagePath: string;
  compression: ImageCompression;
  /** The raw image's size. */
  imageSize: number;
  /** The raw image's sha256, when known (a release records it). */
  imageSha256?: string | undefined;
  bmap?: BlockMap | undefined;
  bmapPath?: string | undefined;
  /** What the image is expected to hold (a release's metadata), for the check after writing. */
  expected?: ImageInspection | undefined;
  release?: { name: string; version: string; channel: string; dir: string } | undefined;
  /** The signature check, when there was one. */
  verified?: VerifyResult | undefined;
  /** What the bytes were checked against before writing. */
  checkedAgainst: 'signature' | 'manifest' | 'nothing';
  /** Removes what opening made (a pulled release). */
  cleanup(): Promise<void>;
}

export interface FlashSourceOptions {
  logger: Logger;
  /** Verify the release's signature against this policy before anything is written. */
  verify?: { policy: SignerPolicy; trustedRoot: unknown } | undefined;
  /** Refuse a source without a verified signature. */
  requireSignature: boolean;
  /** Where an OCI reference is pulled to (default: the system's temporary directory). */
  workDir?: string | undefined;
  /** How to reach a registry, for an OCI reference. */
  store?: Omit<StoreOptions, 'create' | 'logger'> | undefined;
}

export async function openFlashSource(input: string, options: FlashSourceOptions): Promise<FlashSource> {
  if (existsSync(input)) {
    if (statSync(input).isDirectory()) return openReleaseSource(input, input, options, () => Promise.resolve());
    return openImageSource(input, options);
  }
  const target = parseTarget(input, 'SOURCE');
  if (target.kind === 'layout' && !target.tag && !target.digest && !existsSync(target.dir)) {
    throw new PiImageError('INPUT_INVALID', `SOURCE ${input}: no such release directory or image, and not an OCI reference (registry/name:tag or oci:DIR:TAG)`);
  }
  const dir = await mkdtemp(join(options.workDir ?? tmpdir(), 'pi-image-flash-'));
  const remove = (): Promise<void> => rm(dir, { recursive: true, force: true });
  const unregister = registerCleanup(remove);
  const cleanup = async (): Promise<void> => {
    await remove();
    unregister();
  };
  try {
    const { store, reference } = await openStore(target, { ...options.store, logger: options.logger, create: false });
    if (!reference) throw new PiImageError('INPUT_INVALID', `SOURCE ${input}: name a tag or a digest`);
    const out = join(dir, 'release');
    const pulled = await pullRelease({ store, reference, outDir: out, verify: options.verify, logger: options.logger });
    return await openReleaseSource(out, input, { ...options, alreadyVerified: pulled.verified }, cleanup);
  } catch (e) {
    await cleanup();
    throw e;
  }
}

async function openReleaseSource(
  dir: string,
  input: string,
  options: FlashSourceOptions & { alreadyVerified?: VerifyResult | undefined },
  cleanup: () => Promise<void>,
): Promise<FlashSource> {
  let release: ReleaseDir;
  let verified: VerifyResult | undefined = options.alreadyVerified;
  if (verified) {
    release = verified.release;
  } else if (options.verify) {
    verified = await verifyRelease({ releaseDir: dir, policy: options.verify.policy, trustedRoot: options.verify.trustedRoot, logger: options.logger });
    release = verified.release;
  } else {
    if (options.requireSignature) {
      throw new PiImageError('SIGNATURE_MISSING', `${input}: a signature is required, and no signer was named to check it against`);
    }
    release = await openReleaseDir(dir);
    options.logger.warn(`the signature of ${input} is not checked (no signer named): its files are checked against manifest.json only`);
  }
  const image = fileOfRole(release, 'image');
  if (!image) throw new PiImageError('INPUT_INVALID', `${input}: the release lists no image`);
  const bmapFile = fileOfRole(release, 'bmap');
  if (!verified) {
    // Unsigned: the bytes written must at least be the ones manifest.json lists.
    await checkFiles([image, ...(bmapFile ? [bmapFile] : [])], diskDigests(dir), dir, 'manifest');
  }
  const bmapPath = bmapFile ? releasePath(release, bmapFile.path) : undefined;
  const bmap = bmapPath ? await readBmap(bmapPath) : undefined;
  const { raw } = release.manifest.image;
  if (bmap && bmap.imageSize !== raw.size) {
    throw new PiImageError('INPUT_INVALID', `${input}: the block map describes ${bmap.imageSize} bytes; the release's raw image is ${raw.size}`);
  }
  const metadata = await readReleaseMetadata(release);
  const imagePath = releasePath(release, image.path);
  return {
    input,
    imagePath,
    compression: await detectCompression(imagePath),
    imageSize: raw.size,
    imageSha256: raw.sha256,
    bmap,
    bmapPath,
    expected: metadata?.contents,
    release: { name: release.manifest.name, version: release.manifest.version, channel: release.manifest.channel, dir },
    verified,
    checkedAgainst: verified ? 'signature' : 'manifest',
    cleanup,
  };
}

async function readBmap(path: string): Promise<BlockMap> {
  return parseBmap((await readSmallFile(path, MAX_BMAP_BYTES)).toString('utf8'), path);
}

/** NAME.bmap for NAME.img, NAME.img.xz, NAME.img.gz or NAME.zip, when it is there. */
function bmapBeside(image: string): string | undefined {
  const base = basename(image).replace(/\.(img(\.(xz|gz))?|zip)$/, '');
  const path = join(dirname(image), `${base}.bmap`);
  return existsSync(path) ? path : undefined;
}

async function openImageSource(path: string, options: FlashSourceOptions): Promise<FlashSource> {
  if (options.verify || options.requireSignature) {
    throw new PiImageError(
      'INPUT_INVALID',
      `${path} is a bare image: a signature can only be checked for a release directory or an OCI reference (pull it, or give the release directory)`,
    );
  }
  const compression = await detectCompression(path);
  const bmapPath = bmapBeside(path);
  const bmap = bmapPath ? await readBmap(bmapPath) : undefined;
  let size: number | undefined;
  if (compression === 'none') size = statSync(path).size;
  else if (compression === 'xz') size = await xzUncompressedSize(path, options.logger);
  else if (compression === 'zip') size = (await listZipEntries(path)).find((e) => e.name.endsWith('.img'))?.uncompressedSize;
  else size = bmap?.imageSize;
  if (size === undefined)
    throw new PiImageError('INPUT_INVALID', `${path}: the image's size cannot be known before writing (a .gz without its .bmap): decompress it first`);
  if (bmap && bmap.imageSize !== size) throw new PiImageError('INPUT_INVALID', `${bmapPath}: describes ${bmap.imageSize} bytes; ${path} holds ${size}`);
  options.logger.warn(`${path} is a bare image: nothing to check its bytes against but ${bmap ? 'its block map' : 'nothing (no .bmap beside it)'}`);
  return {
    input: path,
    imagePath: path,
    compression,
    imageSize: size,
    bmap,
    bmapPath,
    checkedAgainst: 'nothing',
    cleanup: () => Promise.resolve(),
  };
}
