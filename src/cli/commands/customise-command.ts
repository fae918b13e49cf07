import { randomBytes } from 'node:crypto';
import { PiImageError } from '../../lib/core/errors';
import { readSmallFile } from '../../lib/core/small-file';
import type { Customisation, SeedFormat } from '../../lib/distribution/customisation';
import { customiseImage } from '../../lib/distribution/customise-image';
import type { CliCommand } from '../command';
import { usageError } from '../command';

const FORMATS: readonly SeedFormat[] = ['cloudinit', 'cloudinit-rpi', 'systemd'];

/** A small text file named by an option (a key, a hash, a passphrase): the library's bounded reader, the option named on failure. */
async function readSmallText(path: string, option: string): Promise<string> {
  try {
    return (await readSmallFile(path, 64 * 1024)).toString('utf8');
  } catch (e) {
    if (e instanceof PiImageError) throw e;
    throw new PiImageError('INPUT_INVALID', `${option} ${path} cannot be read: ${(e as Error).message}`, { cause: e });
  }
}

export const customiseCommand: CliCommand = {
  name: 'customise',
  summary: "write first-boot settings (hostname, user, SSH key, Wi-Fi) into an image's boot partition, without mounting it",
  usage: 'pi-image customise IMAGE.img [--hostname NAME] [--user NAME --ssh-key-file FILE | --password-hash-file FILE] [options]',
  help: `Writes the first-boot customisation Raspberry Pi Imager would write, into the
first FAT partition of a raw image, without mounting it (mtools), in the format
the image really takes (its init_format, read from its root file system:
cloud-init seeded from the boot partition, or Imager's firstrun.sh route), then
reads every file back and compares it. Running it again replaces the earlier
customisation. A compressed image is refused: decompress it first.

Options:
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
  --instance-id ID          cloud-init's instance id (default: a new random one: cloud-init applies
                            a customisation once per id)
  --json                    print what was written as JSON`,
  options: {
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
    'instance-id': { type: 'string' },
    json: { type: 'boolean' },
  },
  async run({ values, positionals, logger, stdout }) {
    if (positionals.length !== 1) throw usageError('customise needs exactly one IMAGE');
    const format = values.format as string | undefined;
    if (format !== undefined && !(FORMATS as readonly string[]).includes(format)) throw usageError(`--format "${format}" is not one of ${FORMATS.join(', ')}`);
    const c: Customisation = {};
    if (values.hostname !== undefined) c.hostname = values.hostname as string;
    const keyFiles = (values['ssh-key-file'] as string[] | undefined) ?? [];
    const hashFile = values['password-hash-file'] as string | undefined;
    if (values.user !== undefined) {
      const sshKeys: string[] = [];
      for (const f of keyFiles) {
        for (const line of (await readSmallText(f, '--ssh-key-file')).split('\n')) if (line.trim() && !line.startsWith('#')) sshKeys.push(line.trim());
      }
      c.user = { name: values.user as string, sshKeys };
      if (hashFile) c.user.passwordHash = (await readSmallText(hashFile, '--password-hash-file')).trim();
    } else if (keyFiles.length > 0 || hashFile) throw usageError('--ssh-key-file and --password-hash-file are for --user');
    if (values.ssh || values['ssh-password-auth']) c.ssh = { enabled: true, passwordAuthentication: values['ssh-password-auth'] === true };
    if (values['wifi-ssid'] !== undefined) {
      if (values['wifi-country'] === undefined) throw usageError('--wifi-ssid needs --wifi-country (the regulatory domain, e.g. GB)');
      c.wifi = { ssid: values['wifi-ssid'] as string, country: values['wifi-country'] as string, hidden: values['wifi-hidden'] === true };
      const pskFile = values['wifi-psk-file'] as string | undefined;
      if (pskFile) c.wifi.psk = (await readSmallText(pskFile, '--wifi-psk-file')).replace(/\r?\n$/, '');
    } else if (values['wifi-country'] !== undefined || values['wifi-psk-file'] !== undefined)
      throw usageError('--wifi-country and --wifi-psk-file are for --wifi-ssid');
    if (values.timezone !== undefined) c.timezone = values.timezone as string;
    if (values.keymap !== undefined) c.keymap = values.keymap as string;
    if (Object.keys(c).length === 0) throw usageError('nothing to write: give at least one setting (--hostname, --user, --ssh, --wifi-ssid, ...)');
    const result = await customiseImage({
      image: positionals[0]!,
      customisation: c,
      format: format as SeedFormat | undefined,
      instanceId: (values['instance-id'] as string | undefined) ?? `pi-image-${randomBytes(6).toString('hex')}`,
      logger,
    });
    stdout(
      values.json
        ? `${JSON.stringify(result, null, 2)}\n`
        : `${positionals[0]}: ${result.format} customisation in partition ${result.partition}: ${result.files.map((f) => f.name).join(', ')} (read back)\n`,
    );
    return 0;
  },
};
