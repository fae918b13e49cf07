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
import type { FirstBootSupport, InitFormat } from '../image/first-boot';
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

  const found: (ChannelEntry & { created: string; result: WriteFeedResult['added'][number] })[] = [];
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
    const metadata = await readReleaseMetadata(checked.release);
    // Releases packaged before firstBoot was recorded have none: their metadata is older than the type.
    const firstBoot: FirstBootSupport | undefined = metadata?.contents.root?.firstBoot;
    let initFormat = firstBoot?.initFormat;
    if (!initFormat) {
      logger.warn(`${dir}: its metadata does not record what the image takes at first boot (packaged before it was recorded): init_format none`);
      initFormat = 'none';
    }
    const entry = imagerEntry({ manifest, initFormat, settings, urlBase: options.urlBase });
    logger.info(`${manifest.name} ${manifest.version} (${manifest.channel}): init_format ${initFormat}, ${entry.url}`);
    found.push({
      channel: manifest.channel,
      entry,
      created: manifest.created,
      result: { dir, name: manifest.name, version: manifest.version, channel: manifest.channel, initFormat, checkedAgainst: checked.checkedAgainst },
    });
  }
  // Oldest first: the newest ends up at the top of its group.
  found.sort((a, b) => (a.created < b.created ? -1 : a.created > b.created ? 1 : 0));
  const feed = mergeIntoFeed(existing, found, product!, settings);
  await writeFileAtomic(options.out, `${JSON.stringify(feed, null, 2)}\n`);
  return { feed, added: found.map((f) => f.result), left };
}
