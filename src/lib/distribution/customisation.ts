/**
 * First-boot customisation, as Raspberry Pi Imager writes it (rpi-imager
 * src/customization_generator.cpp, read at 72ad1179): the settings checked by
 * pure functions, then rendered for the image's init_format as the files that
 * go on the boot (FAT) partition and what is appended to cmdline.txt.
 *
 * - cloudinit / cloudinit-rpi: `user-data` (#cloud-config), `meta-data`
 *   (instance-id), `network-config` (netplan v2, with Wi-Fi only);
 *   ` ds=nocloud;i=ID` on cmdline.txt.
 * - systemd: `firstrun.sh`, run once by `systemd.run=` on cmdline.txt, through
 *   raspberrypi-sys-mods' imager_custom; it removes itself and its
 *   cmdline.txt arguments.
 *
 * Values reach YAML through a YAML writer and the shell script single-quoted:
 * nothing a setting holds can become syntax.
 */
import { stringify } from 'yaml';
import { PiImageError } from '../core/errors';
import type { CloudInitFiles } from './cloud-init-files';

export interface Customisation {
  hostname?: string;
  user?: {
    name: string;
    /** A crypt(3) hash ($y$, $6$ or $5$): a password is never written in clear. */
    passwordHash?: string;
    sshKeys: string[];
  };
  /** SSH on; password logins only when a password hash is given and this says so. */
  ssh?: { enabled: boolean; passwordAuthentication: boolean };
  wifi?: { ssid: string; /** WPA passphrase (8-63 characters) or its 64-hex PSK. */ psk?: string; country: string; hidden: boolean };
  timezone?: string;
  keymap?: string;
}

export type SeedFormat = 'cloudinit' | 'cloudinit-rpi' | 'systemd';

/** What to write: settings rendered the way Imager renders them, or a whole cloud-init user-data (checked by cloud-init-files.ts). */
export type SeedRequest = { kind: 'settings'; settings: Customisation } | { kind: 'cloud-init'; files: CloudInitFiles };

/** Every file a customisation may write on the boot partition. */
export const SEED_FILE_NAMES = ['user-data', 'meta-data', 'network-config', 'firstrun.sh'] as const;

/**
 * What marks a network-config or firstrun.sh as written by a customisation (in
 * a comment): a later customisation that writes none removes it, so old Wi-Fi
 * settings are not applied with new ones. One the image itself ships has no
 * mark and is left alone.
 */
export const CUSTOMISATION_MARK = 'written by pi-image customise';
const MARK_LINE = `# ${CUSTOMISATION_MARK}`;

export interface SeedFiles {
  /** Files for the FAT partition's root, name → content. */
  files: { name: string; content: string }[];
  /** What is appended to cmdline.txt's single line (with its leading space). */
  cmdlineAppend: string;
}

const HOSTNAME = /^(?=.{1,63}$)[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/;
const USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const RESERVED_USERS = new Set(['root', 'daemon', 'bin', 'sys', 'sync', 'games', 'man', 'lp', 'mail', 'news', 'uucp', 'proxy', 'www-data', 'backup', 'nobody']);
const CRYPT = /^\$(y|6|5)\$[./A-Za-z0-9$=,]{8,200}$/;
const SSH_KEY =
  /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( [\x20-\x7e]{0,200})?$/;
const COUNTRY = /^[A-Z]{2}$/;
const TIMEZONE = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+){0,2}$/;
const KEYMAP = /^[a-z]{2,3}(-[a-z0-9]{1,12})?$/;

function fail(where: string, message: string): never {
  throw new PiImageError('INPUT_INVALID', `${where}: ${message}`);
}

/** Checks every setting; names the one that is wrong. */
export function checkCustomisation(c: Customisation): Customisation {
  if (c.hostname !== undefined && !HOSTNAME.test(c.hostname)) fail('hostname', `"${c.hostname}" is not a host name (letters, digits, -; at most 63)`);
  if (c.user) {
    if (!USER.test(c.user.name)) fail('user', `"${c.user.name}" is not a user name (lower-case letters, digits, _ and -; at most 32)`);
    if (RESERVED_USERS.has(c.user.name)) fail('user', `"${c.user.name}" is a system account`);
    if (c.user.passwordHash !== undefined && !CRYPT.test(c.user.passwordHash))
      fail('password', 'not a crypt(3) hash ($y$ yescrypt, $6$ or $5$): make one with `mkpasswd -m yescrypt`; a clear password is never written');
    c.user.sshKeys.forEach((k, i) => {
      if (!SSH_KEY.test(k)) fail(`ssh key ${i + 1}`, 'not one public key line (ssh-ed25519, ssh-rsa, ecdsa-sha2-*, sk-*: type, base64, comment)');
    });
    if (c.user.passwordHash === undefined && c.user.sshKeys.length === 0)
      fail('user', `${c.user.name} has neither a password hash nor an SSH key: nobody could log in`);
  }
  if (c.ssh?.passwordAuthentication && !c.user?.passwordHash) fail('ssh', 'password logins need the user to have a password hash');
  if (c.wifi) {
    const bytes = Buffer.byteLength(c.wifi.ssid);
    if (bytes < 1 || bytes > 32) fail('wifi ssid', `${bytes} bytes; an SSID has 1 to 32`);
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(c.wifi.ssid)) fail('wifi ssid', 'control characters are not allowed');
    if (c.wifi.psk !== undefined && !/^[0-9a-fA-F]{64}$/.test(c.wifi.psk) && !/^[\x20-\x7e]{8,63}$/.test(c.wifi.psk))
      fail('wifi psk', 'a WPA passphrase has 8 to 63 printable ASCII characters (or give the 64-hex PSK)');
    if (!COUNTRY.test(c.wifi.country)) fail('wifi country', `"${c.wifi.country}" is not an ISO 3166 two-letter code (e.g. GB)`);
  }
  if (c.timezone !== undefined && !TIMEZONE.test(c.timezone)) fail('timezone', `"${c.timezone}" is not a time zone name (e.g. Europe/London)`);
  if (c.keymap !== undefined && !KEYMAP.test(c.keymap)) fail('keymap', `"${c.keymap}" is not a keyboard layout (e.g. gb, us, de-nodeadkeys)`);
  return c;
}

/** A shell word: single-quoted, a single quote written as '\''. */
const sh = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;

function cloudInit(c: Customisation, format: 'cloudinit' | 'cloudinit-rpi', instanceId: string): SeedFiles {
  const config: Record<string, unknown> = { manage_resolv_conf: false };
  if (c.hostname) Object.assign(config, { hostname: c.hostname, manage_etc_hosts: true });
  if (c.timezone) config.timezone = c.timezone;
  if (c.keymap) config.keyboard = { model: 'pc105', layout: c.keymap };
  if (c.user) {
    const user: Record<string, unknown> = {
      name: c.user.name,
      groups: 'users,adm,dialout,audio,netdev,video,plugdev,cdrom,games,input,gpio,spi,i2c,render,sudo',
      shell: '/bin/bash',
      lock_passwd: c.user.passwordHash === undefined,
      sudo: 'ALL=(ALL) NOPASSWD:ALL',
    };
    if (c.user.passwordHash) user.passwd = c.user.passwordHash;
    if (c.user.sshKeys.length > 0) user.ssh_authorized_keys = c.user.sshKeys;
    config.users = [user];
  }
  if (c.ssh) {
    config.ssh_pwauth = c.ssh.passwordAuthentication;
    if (c.ssh.enabled) config.runcmd = [['systemctl', 'enable', '--now', 'ssh']];
  }
  if (format === 'cloudinit-rpi') config.rpi = { interfaces: {} };
  const files = [
    { name: 'user-data', content: `#cloud-config\n${stringify(config)}` },
    { name: 'meta-data', content: `instance-id: ${instanceId}\n` },
  ];
  if (c.wifi) {
    const ap: Record<string, unknown> = c.wifi.psk === undefined ? {} : { password: c.wifi.psk };
    if (c.wifi.hidden) ap.hidden = true;
    const network = {
      network: {
        version: 2,
        ethernets: { eth0: { dhcp4: true, optional: true } },
        wifis: { wlan0: { dhcp4: true, optional: true, 'regulatory-domain': c.wifi.country, 'access-points': { [c.wifi.ssid]: ap } } },
      },
    };
    files.push({ name: 'network-config', content: `${MARK_LINE}\n${stringify(network)}` });
  }
  const regdom = c.wifi ? ` cfg80211.ieee80211_regdom=${c.wifi.country}` : '';
  return { files, cmdlineAppend: `${regdom} ds=nocloud;i=${instanceId}` };
}

function firstrun(c: Customisation): SeedFiles {
  const helper = '/usr/lib/raspberrypi-sys-mods/imager_custom';
  const lines = ['#!/bin/sh', `# First boot: ${CUSTOMISATION_MARK}, run once by systemd.run= (then removed).`, 'set +e', ''];
  if (c.hostname) lines.push(`${helper} set_hostname ${sh(c.hostname)}`);
  if (c.user) {
    // userconf-pi renames the first user and sets its password hash, as Imager's firstrun.sh does.
    lines.push(`/usr/lib/userconf-pi/userconf ${sh(c.user.name)} ${sh(c.user.passwordHash ?? '*')}`);
    if (c.user.sshKeys.length > 0) lines.push(`${helper} enable_ssh -k ${c.user.sshKeys.map(sh).join(' ')}`);
  }
  if (c.ssh?.enabled && !(c.user && c.user.sshKeys.length > 0)) lines.push(`${helper} enable_ssh`);
  if (c.wifi) lines.push(`${helper} set_wlan ${c.wifi.hidden ? '-h ' : ''}${sh(c.wifi.ssid)} ${sh(c.wifi.psk ?? '')} ${sh(c.wifi.country)}`);
  if (c.keymap) lines.push(`${helper} set_keymap ${sh(c.keymap)}`);
  if (c.timezone) lines.push(`${helper} set_timezone ${sh(c.timezone)}`);
  lines.push(
    '',
    'rm -f /boot/firstrun.sh /boot/firmware/firstrun.sh',
    "sed -i 's| systemd.run.*||g' /boot/cmdline.txt /boot/firmware/cmdline.txt 2>/dev/null",
    'exit 0',
    '',
  );
  const regdom = c.wifi ? ` cfg80211.ieee80211_regdom=${c.wifi.country}` : '';
  return {
    files: [{ name: 'firstrun.sh', content: lines.join('\n') }],
    cmdlineAppend: `${regdom} systemd.run=/boot/firstrun.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target`,
  };
}

/** A whole user-data (and network-config) the user gave, with the meta-data and cmdline.txt argument that seed it. */
function givenCloudInit(files: CloudInitFiles, instanceId: string): SeedFiles {
  const out = [
    { name: 'user-data', content: files.userData },
    { name: 'meta-data', content: `instance-id: ${instanceId}\n` },
  ];
  if (files.networkConfig !== undefined) out.push({ name: 'network-config', content: `${MARK_LINE}\n${files.networkConfig}` });
  return { files: out, cmdlineAppend: ` ds=nocloud;i=${instanceId}` };
}

/** Checks an instance id: cloud-init's NoCloud reads it from `ds=nocloud;i=ID`, where a space or a ; would end it. */
export function checkInstanceId(instanceId: string): string {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(instanceId)) fail('instance id', `"${instanceId}" is not a plain id (letters, digits, . _ -; at most 64)`);
  return instanceId;
}

/** The files and cmdline.txt arguments for a format; `instanceId` names this customisation (cloud-init runs once per id). */
export function renderSeed(request: SeedRequest, format: SeedFormat, instanceId: string): SeedFiles {
  checkInstanceId(instanceId);
  if (request.kind === 'cloud-init') {
    if (format === 'systemd') fail('user-data', 'the image takes the systemd first-run hook (firstrun.sh), not cloud-init: a user-data would never be read');
    return givenCloudInit(request.files, instanceId);
  }
  checkCustomisation(request.settings);
  return format === 'systemd' ? firstrun(request.settings) : cloudInit(request.settings, format, instanceId);
}
