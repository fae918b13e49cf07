/**
 * How a product appears in Raspberry Pi Imager: the IMAGER_* settings of its
 * product config, checked by a pure function.
 *
 *   IMAGER_NAME          the name Imager lists (default: the release's name)
 *   IMAGER_DESCRIPTION   one line under it (default: "<name> <version>")
 *   IMAGER_ICON          http(s) URL of a PNG or SVG, about 40×40 (required)
 *   IMAGER_DEVICES       Imager's device tags, space separated (required; OurBox Mini: pi5-64bit)
 *   IMAGER_WEBSITE       optional http(s) URL
 *   IMAGER_ARCHITECTURE  optional: armv8, armhf or armel
 *   IMAGER_CAPABILITIES  optional, space separated: what the customisation wizard may offer
 *   IMAGER_CHANNELS      which channels the channel feed lists: "stable" (default) or "stable nightly"
 *   IMAGER_KEEP          how many releases of each channel the feed keeps (default 5)
 */
import { PiImageError } from '../core/errors';
import { readProductConfigFile, splitAssignment } from '../pigen/product-config';
import type { Channel } from '../release/manifest';

export interface ImagerSettings {
  name?: string;
  description?: string;
  icon: string;
  devices: string[];
  website?: string;
  architecture?: 'armv8' | 'armhf' | 'armel';
  capabilities: string[];
  channels: Channel[];
  keep: number;
}

const KEYS = [
  'IMAGER_NAME',
  'IMAGER_DESCRIPTION',
  'IMAGER_ICON',
  'IMAGER_DEVICES',
  'IMAGER_WEBSITE',
  'IMAGER_ARCHITECTURE',
  'IMAGER_CAPABILITIES',
  'IMAGER_CHANNELS',
  'IMAGER_KEEP',
];
/** Capabilities Imager's schema names for an OS entry. */
const CAPABILITIES = ['rpi_connect', 'secure_boot', 'passwordless_sudo', 'i2c', 'spi', 'onewire', 'serial', 'usb_otg'];
const DEVICE_TAG = /^[a-z0-9][a-z0-9-]{0,39}$/;
const CHANNELS: readonly Channel[] = ['stable', 'nightly'];

/** An http(s) URL, or the input named as what is wrong. */
export function checkHttpUrl(value: string, where: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new PiImageError('INPUT_INVALID', `${where}: "${value}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new PiImageError('INPUT_INVALID', `${where}: "${value}" is not an http(s) URL`);
  if (url.username || url.password) throw new PiImageError('INPUT_INVALID', `${where}: a URL with a user name or password would be published in the feed`);
  return url.href;
}

const words = (v: string | undefined): string[] => (v ?? '').split(/\s+/).filter(Boolean);

/** A single line of text Imager shows as it is: no control characters, at most 200 characters. */
function line(value: string | undefined, where: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new PiImageError('INPUT_INVALID', `${where}: control characters (a new line?) are not allowed`);
  if (value.length > 200) throw new PiImageError('INPUT_INVALID', `${where}: ${value.length} characters; at most 200`);
  return value;
}

export function parseImagerSettings(values: Readonly<Record<string, string>>, where = 'product config'): ImagerSettings {
  for (const k of Object.keys(values)) {
    if (!KEYS.includes(k)) throw new PiImageError('INPUT_INVALID', `${where}: ${k} is not an Imager setting (${KEYS.join(', ')})`);
  }
  const get = (k: string): string | undefined => (values[k] === undefined || values[k] === '' ? undefined : values[k]);
  const icon = get('IMAGER_ICON');
  if (!icon)
    throw new PiImageError('INPUT_INVALID', `${where}: IMAGER_ICON is not set (an http(s) URL of a PNG or SVG icon, about 40x40): Imager requires one`);
  const devices = words(get('IMAGER_DEVICES'));
  if (devices.length === 0)
    throw new PiImageError(
      'INPUT_INVALID',
      `${where}: IMAGER_DEVICES is not set (Imager's device tags, e.g. pi5-64bit): Imager lists an image only for its devices`,
    );
  for (const d of devices)
    if (!DEVICE_TAG.test(d)) throw new PiImageError('INPUT_INVALID', `${where}: IMAGER_DEVICES: "${d}" is not a device tag (e.g. pi5-64bit)`);
  const architecture = get('IMAGER_ARCHITECTURE');
  if (architecture !== undefined && !['armv8', 'armhf', 'armel'].includes(architecture))
    throw new PiImageError('INPUT_INVALID', `${where}: IMAGER_ARCHITECTURE "${architecture}" is not armv8, armhf or armel`);
  const capabilities = words(get('IMAGER_CAPABILITIES'));
  for (const c of capabilities)
    if (!CAPABILITIES.includes(c)) throw new PiImageError('INPUT_INVALID', `${where}: IMAGER_CAPABILITIES: "${c}" is not one of ${CAPABILITIES.join(', ')}`);
  const channels = words(get('IMAGER_CHANNELS') ?? 'stable');
  for (const c of channels)
    if (!(CHANNELS as readonly string[]).includes(c)) throw new PiImageError('INPUT_INVALID', `${where}: IMAGER_CHANNELS: "${c}" is not stable or nightly`);
  const keepText = get('IMAGER_KEEP') ?? '5';
  if (!/^[1-9]\d{0,2}$/.test(keepText)) throw new PiImageError('INPUT_INVALID', `${where}: IMAGER_KEEP "${keepText}" is not a number from 1 to 999`);
  const settings: ImagerSettings = {
    icon: checkHttpUrl(icon, `${where}: IMAGER_ICON`),
    devices,
    capabilities,
    channels: [...new Set(channels)] as Channel[],
    keep: Number(keepText),
  };
  const name = line(get('IMAGER_NAME'), `${where}: IMAGER_NAME`);
  if (name) settings.name = name;
  const description = line(get('IMAGER_DESCRIPTION'), `${where}: IMAGER_DESCRIPTION`);
  if (description) settings.description = description;
  const website = get('IMAGER_WEBSITE');
  if (website) settings.website = checkHttpUrl(website, `${where}: IMAGER_WEBSITE`);
  if (architecture) settings.architecture = architecture as ImagerSettings['architecture'] & string;
  return settings;
}

/**
 * The IMAGER_* settings of a product config file, then `--set` lines (later
 * wins); the file's other settings are the build's and are not looked at.
 */
export async function readImagerSettings(configFile: string | undefined, sets: readonly string[]): Promise<ImagerSettings> {
  const values: Record<string, string> = {};
  if (configFile) Object.assign(values, (await readProductConfigFile(configFile, configFile)).imager);
  sets.forEach((line, i) => {
    const [key, value] = splitAssignment(line, `--set ${i + 1}`);
    if (!key.startsWith('IMAGER_')) throw new PiImageError('INPUT_INVALID', `--set ${i + 1}: ${key} is not an Imager setting (IMAGER_*)`);
    values[key] = value;
  });
  return parseImagerSettings(values, configFile ?? 'settings');
}
