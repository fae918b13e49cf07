/**
 * Raspberry Pi Imager feeds ("custom repositories": an os_list JSON, rpi-imager
 * doc/json-schema/os-list-schema.json). An entry is made from a release's
 * manifest (sizes, digests, date) and what its image takes at first boot
 * (init_format, from the image itself); a channel feed groups the newest
 * entries of each channel as subitems, newest first, and is merged release
 * after release at one URL users paste into Imager once.
 */
import { PiImageError } from '../core/errors';
import type { InitFormat } from '../image/first-boot';
import type { Channel, ReleaseManifest } from '../release/manifest';
import type { ImagerSettings } from './imager-settings';

/** One image as Imager lists it: the fields its schema requires, and the optional ones this tool knows. */
export interface ImagerOsEntry {
  name: string;
  description: string;
  icon: string;
  url: string;
  extract_size: number;
  extract_sha256: string;
  image_download_size: number;
  release_date: string;
  devices: string[];
  init_format: InitFormat;
  website?: string;
  architecture?: string;
  capabilities?: string[];
  bmap_url?: string;
}

export interface ImagerGroup {
  name: string;
  description: string;
  icon?: string;
  subitems: unknown[];
}

export interface ImagerFeed {
  os_list: unknown[];
}

/** Imager refuses a feed over 10 MiB; this tool reads one no larger. */
export const MAX_FEED_BYTES = 10 * 1024 * 1024;

/** Where a release's files are downloaded from: URL_BASE + file name. */
export function assetUrl(urlBase: string, file: string): string {
  const base = urlBase.endsWith('/') ? urlBase : `${urlBase}/`;
  return new URL(encodeURIComponent(file), base).href;
}

export interface EntryInput {
  manifest: ReleaseManifest;
  initFormat: InitFormat;
  settings: ImagerSettings;
  urlBase: string;
}

export function imagerEntry(input: EntryInput): ImagerOsEntry {
  const { manifest, settings } = input;
  const image = manifest.files.find((f) => f.role === 'image' && f.path === manifest.image.path);
  if (!image) throw new PiImageError('INPUT_INVALID', `manifest.json of ${manifest.name} ${manifest.version} lists no image file ${manifest.image.path}`);
  const bmap = manifest.files.find((f) => f.role === 'bmap');
  const product = settings.name ?? manifest.name;
  const entry: ImagerOsEntry = {
    name: `${product} ${manifest.version}`,
    description: settings.description ?? `${product} ${manifest.version} (${manifest.channel})`,
    icon: settings.icon,
    url: assetUrl(input.urlBase, image.path),
    extract_size: manifest.image.raw.size,
    extract_sha256: manifest.image.raw.sha256,
    image_download_size: image.size,
    release_date: new Date(Date.parse(manifest.created)).toISOString().slice(0, 10),
    devices: [...settings.devices],
    init_format: input.initFormat,
  };
  if (settings.website) entry.website = settings.website;
  if (settings.architecture) entry.architecture = settings.architecture;
  if (settings.capabilities.length > 0) entry.capabilities = [...settings.capabilities];
  if (bmap) entry.bmap_url = assetUrl(input.urlBase, bmap.path);
  return entry;
}

/** The group a channel's releases are listed in. */
export function groupName(product: string, channel: Channel): string {
  return channel === 'stable' ? product : `${product} (${channel})`;
}

/** Imager nests lists up to 16 levels; an item is a few levels more. Deeper is not a feed (and would exhaust the stack). */
const MAX_DEPTH = 64;

/** How deep a parsed JSON value nests, stopping as soon as it passes the limit (iterative: no recursion to exhaust). */
function depth(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (d > deepest) deepest = d;
    if (deepest > MAX_DEPTH) return deepest;
    if (typeof v === 'object' && v !== null) for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return deepest;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An existing feed (downloaded from where it is published): an object with an os_list array, or INPUT_INVALID. */
export function parseImagerFeed(text: string, where: string): ImagerFeed {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new PiImageError('INPUT_INVALID', `${where} is not JSON: ${(e as Error).message}`, { cause: e });
  }
  if (!isObject(value) || !Array.isArray(value.os_list)) throw new PiImageError('INPUT_INVALID', `${where} is not an Imager feed: it has no os_list array`);
  if (depth(value) > MAX_DEPTH) throw new PiImageError('INPUT_INVALID', `${where} nests deeper than ${MAX_DEPTH} levels: not an Imager feed`);
  value.os_list.forEach((item, i) => {
    if (!isObject(item) || typeof item.name !== 'string') throw new PiImageError('INPUT_INVALID', `${where}: os_list item ${i + 1} has no name`);
    if ('subitems' in item && !Array.isArray(item.subitems))
      throw new PiImageError('INPUT_INVALID', `${where}: os_list item ${i + 1} (${item.name}): subitems is not an array`);
  });
  return value as unknown as ImagerFeed;
}

export interface ChannelEntry {
  channel: Channel;
  entry: ImagerOsEntry;
}

/**
 * Puts each entry first in its channel's group (replacing one with the same
 * URL: a release published again), keeps `settings.keep` per group, and leaves
 * every other item of the feed as it was. Groups are made when missing, stable
 * before nightly.
 */
export function mergeIntoFeed(feed: ImagerFeed | undefined, entries: readonly ChannelEntry[], product: string, settings: ImagerSettings): ImagerFeed {
  const osList = [...(feed?.os_list ?? [])];
  for (const channel of ['stable', 'nightly'] as const) {
    const mine = entries.filter((e) => e.channel === channel).map((e) => e.entry);
    if (mine.length === 0) continue;
    const name = groupName(product, channel);
    let index = osList.findIndex((item) => isObject(item) && item.name === name && Array.isArray(item.subitems));
    if (index === -1) {
      const group: ImagerGroup = {
        name,
        description: channel === 'stable' ? `${product}: the newest releases` : `${product}: ${channel} builds (prereleases, for testing)`,
        icon: settings.icon,
        subitems: [],
      };
      const stableAt = osList.findIndex((item) => isObject(item) && item.name === groupName(product, 'stable'));
      index = channel === 'stable' ? 0 : stableAt + 1;
      osList.splice(index, 0, group);
    }
    const group = { ...(osList[index] as ImagerGroup) };
    const urls = new Set(mine.map((e) => e.url));
    const rest = group.subitems.filter((s) => !(isObject(s) && typeof s.url === 'string' && urls.has(s.url)));
    // Newest first by release date (a release published again keeps its place by date); equal dates keep their order.
    const dated = (s: unknown): string => (isObject(s) && typeof s.release_date === 'string' ? s.release_date : '');
    const merged = [...[...mine].reverse(), ...rest].map((s, i) => ({ s, i }));
    merged.sort((a, b) => (dated(a.s) < dated(b.s) ? 1 : dated(a.s) > dated(b.s) ? -1 : a.i - b.i));
    group.subitems = merged.map((m) => m.s).slice(0, settings.keep);
    osList[index] = group;
  }
  return { os_list: osList };
}
