/**
 * The first-boot settings options, shared by `customise` and `flash`: parsed
 * into a checked request before anything is read or written, so a bad setting
 * or a user-data that would not be applied is refused first (exit 2).
 */
import { randomBytes } from 'node:crypto';
import type { ParseArgsConfig } from 'node:util';
import { PiImageError } from '../lib/core/errors';
import { readSmallFile } from '../lib/core/small-file';
import { lintCloudInitFiles, MAX_USER_DATA_BYTES } from '../lib/distribution/cloud-init-files';
import { checkCustomisation, checkInstanceId, type Customisation, type SeedFormat, type SeedRequest } from '../lib/distribution/customisation';
import { usageError } from './command';

const FORMATS: readonly SeedFormat[] = ['cloudinit', 'cloudinit-rpi', 'systemd'];

export const CUSTOMISATION_OPTIONS = {
  format: { type: 'string' },
  hostname: { type: 'string' },
  user: { type: 'string' },
  'ssh-key-file': { type: 'string', multiple: true },
  'password-hash-file': { type: 'string' },
  ssh: { type: 'boolean' },
  'ssh-password-auth': { type: 'boolean' },
  'wifi-ssid': { type: 'string' },
  'wifi-country': { type: 'string' },
  'wifi-psk-file': { type: 'string' },
  'wifi-hidden': { type: 'boolean' },
  timezone: { type: 'string' },
  keymap: { type: 'string' },
  'user-data': { type: 'string' },
  'network-config': { type: 'string' },
  'instance-id': { type: 'string' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

export const CUSTOMISATION_HELP = `First-boot settings (written as Raspberry Pi Imager writes them, in the format the image takes):
  --format FORMAT           cloudinit, cloudinit-rpi or systemd (default: what the image takes;
                            an image that takes none is refused unless a format is given)
  --hostname NAME
  --user NAME               the first user, with an SSH key and/or a password hash:
  --ssh-key-file FILE       public keys, one per line (authorized_keys form); repeatable
  --password-hash-file FILE a crypt(3) hash ($y$ from mkpasswd -m yescrypt); never a clear password
  --ssh                     enable the SSH server
  --ssh-password-auth       also allow password logins over SSH (needs a password hash)
  --wifi-ssid SSID          with --wifi-country CC, and --wifi-psk-file FILE (passphrase, or the
  --wifi-country CC         64-hex PSK) unless the network is open; --wifi-hidden for a hidden one
  --wifi-psk-file FILE
  --wifi-hidden
  --timezone ZONE           e.g. Europe/London
  --keymap LAYOUT           e.g. gb
  --user-data FILE          instead of the settings above: a whole cloud-init user-data, checked
                            first (#cloud-config on its first line, one YAML mapping, no
                            duplicate keys); only for an image that takes cloud-init
  --network-config FILE     with --user-data: cloud-init's network-config (version 1 or 2)
  --instance-id ID          cloud-init's instance id (default: a new random one; cloud-init
                            applies a customisation once per id, so the id already on the
                            boot partition is refused)`;

const SETTINGS = ['hostname', 'user', 'ssh', 'ssh-password-auth', 'wifi-ssid', 'timezone', 'keymap'] as const;

/** A small file named by an option (a key, a hash, a passphrase, a user-data): the library's bounded reader, the option named on failure. */
async function readOptionFile(path: string, option: string, max = 64 * 1024): Promise<Buffer> {
  try {
    return await readSmallFile(path, max);
  } catch (e) {
    if (e instanceof PiImageError) throw new PiImageError(e.code, `${option}: ${e.message}`, { cause: e });
    throw new PiImageError('INPUT_INVALID', `${option} ${path} cannot be read: ${(e as Error).message}`, { cause: e });
  }
}

const text = async (path: string, option: string): Promise<string> => (await readOptionFile(path, option)).toString('utf8');

export interface CustomisationFlags {
  request: SeedRequest;
  format: SeedFormat | undefined;
  instanceId: string;
}

async function settingsFrom(values: Record<string, unknown>): Promise<Customisation> {
  const c: Customisation = {};
  if (values.hostname !== undefined) c.hostname = values.hostname as string;
  const keyFiles = (values['ssh-key-file'] as string[] | undefined) ?? [];
  const hashFile = values['password-hash-file'] as string | undefined;
  if (values.user !== undefined) {
    const sshKeys: string[] = [];
    for (const f of keyFiles) {
      for (const line of (await text(f, '--ssh-key-file')).split('\n')) if (line.trim() && !line.startsWith('#')) sshKeys.push(line.trim());
    }
    c.user = { name: values.user as string, sshKeys };
    if (hashFile) c.user.passwordHash = (await text(hashFile, '--password-hash-file')).trim();
  } else if (keyFiles.length > 0 || hashFile) throw usageError('--ssh-key-file and --password-hash-file are for --user');
  if (values.ssh || values['ssh-password-auth']) c.ssh = { enabled: true, passwordAuthentication: values['ssh-password-auth'] === true };
  if (values['wifi-ssid'] !== undefined) {
    if (values['wifi-country'] === undefined) throw usageError('--wifi-ssid needs --wifi-country (the regulatory domain, e.g. GB)');
    c.wifi = { ssid: values['wifi-ssid'] as string, country: values['wifi-country'] as string, hidden: values['wifi-hidden'] === true };
    const pskFile = values['wifi-psk-file'] as string | undefined;
    if (pskFile) c.wifi.psk = (await text(pskFile, '--wifi-psk-file')).replace(/\r?\n$/, '');
  } else if (values['wifi-country'] !== undefined || values['wifi-psk-file'] !== undefined)
    throw usageError('--wifi-country and --wifi-psk-file are for --wifi-ssid');
  if (values.timezone !== undefined) c.timezone = values.timezone as string;
  if (values.keymap !== undefined) c.keymap = values.keymap as string;
  return checkCustomisation(c);
}

/**
 * The customisation the options ask for, read and checked; undefined when
 * they ask for none (`required` makes that a usage error).
 */
export async function customisationFromFlags(values: Record<string, unknown>, required: boolean): Promise<CustomisationFlags | undefined> {
  const format = values.format as string | undefined;
  if (format !== undefined && !(FORMATS as readonly string[]).includes(format)) throw usageError(`--format "${format}" is not one of ${FORMATS.join(', ')}`);
  const userData = values['user-data'] as string | undefined;
  const networkConfig = values['network-config'] as string | undefined;
  const settings = SETTINGS.filter((s) => values[s] !== undefined);
  let request: SeedRequest;
  if (userData !== undefined) {
    if (settings.length > 0) throw usageError(`--user-data is the whole customisation: put ${settings.map((s) => `--${s}`).join(', ')} into it instead`);
    const files = lintCloudInitFiles(
      { bytes: await readOptionFile(userData, '--user-data', MAX_USER_DATA_BYTES), name: userData },
      networkConfig !== undefined ? { bytes: await readOptionFile(networkConfig, '--network-config', MAX_USER_DATA_BYTES), name: networkConfig } : undefined,
    );
    if (format === 'systemd') throw usageError('--user-data is cloud-init user-data: it cannot go with --format systemd');
    request = { kind: 'cloud-init', files };
  } else {
    if (networkConfig !== undefined) throw usageError('--network-config goes with --user-data (Wi-Fi settings have their own options)');
    const c = await settingsFrom(values);
    if (Object.keys(c).length === 0) {
      if (required) throw usageError('nothing to write: give at least one setting (--hostname, --user, --ssh, --wifi-ssid, ...) or a --user-data file');
      if (format !== undefined || values['instance-id'] !== undefined)
        throw usageError('--format and --instance-id need a setting to write (--hostname, --user, ... or --user-data)');
      return undefined;
    }
    request = { kind: 'settings', settings: c };
  }
  const instanceId = checkInstanceId((values['instance-id'] as string | undefined) ?? `pi-image-${randomBytes(6).toString('hex')}`);
  return { request, format: format as SeedFormat | undefined, instanceId };
}
