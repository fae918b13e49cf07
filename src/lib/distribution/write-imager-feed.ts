/**
 * `pi-image imager-feed`: release directories in, an Imager feed out. Each
 * release is checked first (against its signature when a signer is given,
 * else against its manifest), its init_format read from its metadata (what
 * the image holds, recorded when it was packaged), and the entries merged into
 * an existing channel feed when one is given.
 */
import { writeFileAtomic } from '../core/atomic-file';
import { PiImageError } from '../core/errors';
import type { Logger } from '../core/logger';
import { readSmallFile } from '../core/small-file';
import { INIT_FORMATS, type InitFormat } from '../image/first-boot';
import { openRawImage } from '../image/decompress';
import { DigestCounter } from '../core/file-digest';
import { fileOfRole, releasePath, type ReleaseDir } from '../release/release-dir';
import { readReleaseMetadata } from '../release/release-dir';
import { openCheckedRelease } from '../signing/checked-release';
import type { SignerPolicy } from '../signing/signer-policy';
import { imagerEntry, MAX_FEED_BYTES, mergeIntoFeed, parseImagerFeed, type ChannelEntry, type ImagerFeed } from './imager-feed';
import type { ImagerSettings } from './imager-settings';

export interface WriteFeedOptions {
  releaseDirs: readonly string[];
  settings: ImagerSettings;
  /** Where the release's files are downloaded from (a GitHub release's download URL). */
  urlBase: string;
  /** A channel feed to add the releases to (as published: read, never trusted beyond its shape). */
  merge?: string | undefined;
  out: string;
  policy?: SignerPolicy | undefined;
  trustedRoot?: unknown;
  logger: Logger;
}

export interface WriteFeedResult {
  feed: ImagerFeed;
  added: { dir: string; name: string; version: string; channel: string; initFormat: InitFormat; checkedAgainst: string }[];
  /** Releases of channels the product keeps out of its feed (IMAGER_CHANNELS). */
  left: string[];
}

/**
 * Without a signature, the decompressed image's digest (what Imager checks after writing, and
 * aborts on with the card spoiled) is recomputed rather than taken from an unsigned manifest.
 */
async function checkRawImage(release: ReleaseDir, logger: Logger): Promise<void> {
  const { manifest } = release;
  const image = fileOfRole(release, 'image');
  if (!image) throw new PiImageError('INPUT_INVALID', `${release.dir}: manifest.json lists no image`);
  logger.info(`${release.dir}: unsigned, so the decompressed image's sha256 is computed (Imager checks it after writing)`);
  const raw = await openRawImage(releasePath(release, image.path), 'xz', logger);
  const counter = new DigestCounter();
  try {
    for await (const chunk of raw.stream) counter.update(chunk as Buffer);
    await raw.done;
  } catch (e) {
    await raw.abort();
    throw e;
  }
  const actual = counter.digest();
  if (actual.sha256 !== manifest.image.raw.sha256 || actual.size !== manifest.image.raw.size)
    throw new PiImageError(
      'FILE_MODIFIED',
      `${image.path} in ${release.dir} decompresses to ${actual.size} bytes, sha256 ${actual.sha256}; manifest.json says ${manifest.image.raw.size} bytes, ${manifest.image.raw.sha256}`,
    );
}

export async function writeImagerFeed(options: WriteFeedOptions): Promise<WriteFeedResult> {
  const { logger, settings } = options;
  if (options.releaseDirs.length === 0) throw new PiImageError('INPUT_INVALID', 'no release directory given');
  const existing = options.merge
    ? parseImagerFeed(
        (
          await readSmallFile(options.merge, MAX_FEED_BYTES).catch((e: unknown) => {
            if (e instanceof PiImageError) throw e;
            throw new PiImageError('INPUT_INVALID', `--merge ${options.merge} cannot be read: ${(e as Error).message}`, { cause: e });
          })
        ).toString('utf8'),
        options.merge,
      )
    : undefined;

  const found: (ChannelEntry & { created: number; result: WriteFeedResult['added'][number] })[] = [];
  const left: string[] = [];
  let product: string | undefined = settings.name;
  for (const dir of options.releaseDirs) {
    const checked = await openCheckedRelease(dir, { policy: options.policy, trustedRoot: options.trustedRoot, logger });
    const { manifest } = checked.release;
    product ??= manifest.name;
    if (!settings.channels.includes(manifest.channel)) {
      logger.warn(
        `${dir}: ${manifest.name} ${manifest.version} is a ${manifest.channel} release; IMAGER_CHANNELS (${settings.channels.join(' ')}) leaves it out`,
      );
      left.push(dir);
      continue;
    }
    if (checked.checkedAgainst === 'manifest') await checkRawImage(checked.release, logger);
    const metadata = await readReleaseMetadata(checked.release);
    // Releases packaged before firstBoot was recorded have none: their metadata is older than the type,
    // and read as unchecked JSON here.
    const firstBoot = (metadata as { contents?: { root?: { firstBoot?: { initFormat?: unknown } } } } | undefined)?.contents?.root?.firstBoot;
    let initFormat: InitFormat;
    if (typeof firstBoot?.initFormat === 'string' && (INIT_FORMATS as readonly string[]).includes(firstBoot.initFormat)) {
      initFormat = firstBoot.initFormat as InitFormat;
    } else {
      logger.warn(`${dir}: its metadata does not record what the image takes at first boot (packaged before it was recorded): init_format none`);
      initFormat = 'none';
    }
    const entry = imagerEntry({ manifest, initFormat, settings, urlBase: options.urlBase });
    logger.info(`${manifest.name} ${manifest.version} (${manifest.channel}): init_format ${initFormat}, ${entry.url}`);
    found.push({
      channel: manifest.channel,
      entry,
      created: Date.parse(manifest.created),
      result: { dir, name: manifest.name, version: manifest.version, channel: manifest.channel, initFormat, checkedAgainst: checked.checkedAgainst },
    });
  }
  // One --url-base is one release's download location (a GitHub release's tag): variants of one
  // version share it, other versions would point at files that are not there.
  const versions = [...new Set(found.map((f) => f.result.version))];
  if (versions.length > 1)
    throw new PiImageError(
      'INPUT_INVALID',
      `the release directories hold versions ${versions.join(', ')}: one --url-base serves one version; run once per version`,
    );
  // Oldest first: the newest ends up at the top of its group.
  found.sort((a, b) => a.created - b.created);
  const feed = mergeIntoFeed(existing, found, product!, settings);
  const text = `${JSON.stringify(feed, null, 2)}\n`;
  if (Buffer.byteLength(text) > MAX_FEED_BYTES)
    throw new PiImageError(
      'INPUT_INVALID',
      `the feed would be ${Buffer.byteLength(text)} bytes, more than the ${MAX_FEED_BYTES} Imager reads: lower IMAGER_KEEP`,
    );
  await writeFileAtomic(options.out, text);
  return { feed, added: found.map((f) => f.result), left };
}
