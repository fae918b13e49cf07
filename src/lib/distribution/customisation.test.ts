import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PiImageError } from '../core/errors';
import { checkCustomisation, renderSeed, type Customisation } from './customisation';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC1/dGVzdGtleXRlc3RrZXl0ZXN0a2V5dGVzdGtleQ alice@laptop';
const HASH = '$y$j9T$abcdefghijklmnop$0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg';
// Quotes, a colon, a dollar and a backtick: what must stay data in YAML and in the shell.
const SSID = `Cafe' "Wi-Fi": $HOME \`id\``;
const FULL: Customisation = {
  hostname: 'node-1',
  user: { name: 'alice', passwordHash: HASH, sshKeys: [KEY] },
  ssh: { enabled: true, passwordAuthentication: false },
  wifi: { ssid: SSID, psk: 'correct horse battery', country: 'GB', hidden: false },
  timezone: 'Europe/London',
  keymap: 'gb',
};

const code = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return e instanceof PiImageError ? `${e.code}: ${e.message}` : String(e);
  }
  return undefined;
};

describe('renderSeed', () => {
  it('writes cloud-init seed files a YAML reader takes back as given, with the header and the instance id', () => {
    const seed = renderSeed({ kind: 'settings', settings: structuredClone(FULL) }, 'cloudinit-rpi', 'pi-image-1');
    const files = Object.fromEntries(seed.files.map((f) => [f.name, f.content]));
    expect(Object.keys(files)).toEqual(['user-data', 'meta-data', 'network-config']);
    expect(files['user-data']!.startsWith('#cloud-config\n')).toBe(true);
    const userData = parse(files['user-data']!) as Record<string, unknown>;
    expect(userData).toMatchObject({ hostname: 'node-1', timezone: 'Europe/London', ssh_pwauth: false, rpi: { interfaces: {} } });
    expect(userData.users).toEqual([expect.objectContaining({ name: 'alice', passwd: HASH, ssh_authorized_keys: [KEY], lock_passwd: false })]);
    expect(parse(files['meta-data']!)).toEqual({ 'instance-id': 'pi-image-1' });
    const network = parse(files['network-config']!) as { network: { wifis: { wlan0: { 'access-points': Record<string, unknown> } } } };
    expect(Object.keys(network.network.wifis.wlan0['access-points'])).toEqual([SSID]);
    expect(seed.cmdlineAppend).toBe(' cfg80211.ieee80211_regdom=GB ds=nocloud;i=pi-image-1');
    // Plain cloudinit: no rpi: keys (cloud-init without cc_raspberry_pi would warn on them).
    expect(parse(renderSeed({ kind: 'settings', settings: structuredClone(FULL) }, 'cloudinit', 'x').files[0]!.content)).not.toHaveProperty('rpi');
  });

  it("writes a firstrun.sh whose every value stays one shell word (checked by the shell itself), and Imager's cmdline.txt arguments", () => {
    const seed = renderSeed({ kind: 'settings', settings: structuredClone(FULL) }, 'systemd', 'unused');
    const script = seed.files[0]!.content;
    expect(execFileSync('sh', ['-n'], { input: script }).toString()).toBe('');
    const wlan = script.split('\n').find((l) => l.includes(' set_wlan '))!;
    const words = execFileSync('sh', ['-c', wlan.replace('/usr/lib/raspberrypi-sys-mods/imager_custom set_wlan', "printf '%s\\n'")]).toString();
    expect(words).toBe(`${SSID}\ncorrect horse battery\nGB\n`);
    expect(script).toContain("/usr/lib/userconf-pi/userconf 'alice' '$y$j9T$");
    expect(seed.cmdlineAppend).toBe(
      ' cfg80211.ieee80211_regdom=GB systemd.run=/boot/firstrun.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target',
    );
  });

  it('refuses what cannot be right, naming the setting', () => {
    const cases: [Customisation, RegExp][] = [
      [{ hostname: 'bad_host' }, /^INPUT_INVALID: hostname: "bad_host" is not a host name/],
      [{ user: { name: 'root', sshKeys: [KEY] } }, /user: "root" is a system account/],
      [{ user: { name: 'alice', passwordHash: 'hunter2', sshKeys: [] } }, /password: not a crypt\(3\) hash/],
      [{ user: { name: 'alice', sshKeys: [] } }, /neither a password hash nor an SSH key: nobody could log in/],
      [{ user: { name: 'alice', sshKeys: ['ssh-ed25519 AAAA\nrm -rf /'] } }, /ssh key 1: not one public key line/],
      [
        { user: { name: 'alice', sshKeys: [KEY] }, ssh: { enabled: true, passwordAuthentication: true } },
        /password logins need the user to have a password hash/,
      ],
      [{ wifi: { ssid: 'x'.repeat(33), country: 'GB', hidden: false } }, /wifi ssid: 33 bytes/],
      [{ wifi: { ssid: 'home', psk: 'short', country: 'GB', hidden: false } }, /wifi psk: a WPA passphrase has 8 to 63/],
      [{ wifi: { ssid: 'home', country: 'uk', hidden: false } }, /wifi country: "uk" is not an ISO 3166/],
      [{ timezone: '../../etc/passwd' }, /timezone: .* is not a time zone name/],
    ];
    for (const [c, message] of cases) expect(code(() => checkCustomisation(c))).toMatch(message);
    expect(code(() => renderSeed({ kind: 'settings', settings: {} }, 'cloudinit', 'a b'))).toMatch(/instance id: "a b" is not a plain id/);
  });
});
