/**
 * `pi-image customise` on real small disk images (mkfs.vfat, mkfs.ext4 -d,
 * sfdisk): the format decided from what each image holds, the seed files
 * written into the first FAT partition without mounting, then checked by
 * independent tools: mtype reads them back, fsck.fat -n finds the file system
 * clean, a YAML reader takes user-data back as given, and sh -n parses the
 * first-run script.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runPiImage } from '../support/cli';
import { CLOUD_INIT_ROOT, FIRSTRUN_ROOT } from '../support/first-boot-roots';
import { makeSmallImage, SMALL_IMAGE_TOOLS } from '../support/small-image';
import { missingTools, sh, skipReason } from '../support/tools';

const missing = missingTools([...SMALL_IMAGE_TOOLS, 'mtype', 'fsck.fat', 'xz']);
if (missing.length > 0) skipReason('customise tests', `missing: ${missing.join(', ')}`);

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC1/dGVzdGtleXRlc3RrZXl0ZXN0a2V5dGVzdGtleQ alice@laptop';
const CLOUD_INIT = CLOUD_INIT_ROOT;
const FIRSTRUN = FIRSTRUN_ROOT;

describe.skipIf(missing.length > 0)('pi-image customise', () => {
  const work = mkdtempSync(join(tmpdir(), 'customise-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const keyFile = join(work, 'id.pub');
  const pskFile = join(work, 'psk');
  writeFileSync(keyFile, `# alice\n${KEY}\n`);
  writeFileSync(pskFile, 'correct horse battery\n');

  /** The first partition's offset, and a file reader and fsck over it. */
  function fat(image: string) {
    const table = JSON.parse(sh('sfdisk', ['--json', image])) as { partitiontable: { partitions: { start: number; size: number }[] } };
    const p = table.partitiontable.partitions[0]!;
    const mtools = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
    return {
      type: (name: string) => execFileSync('mtype', ['-i', `${image}@@${p.start * 512}`, `::${name}`], { encoding: 'utf8', env: mtools }),
      has: (name: string) => spawnSync('mdir', ['-b', '-i', `${image}@@${p.start * 512}`, `::${name}`], { env: mtools }).status === 0,
      fsck: () => {
        const copy = join(work, 'fat.img');
        execFileSync('dd', [`if=${image}`, `of=${copy}`, 'bs=512', `skip=${p.start}`, `count=${p.size}`, 'status=none']);
        return spawnSync('fsck.fat', ['-n', copy], { encoding: 'utf8' });
      },
    };
  }

  it('writes cloud-init seed files for an image seeded from its boot partition, read back by mtools, the FAT clean; again replaces them', () => {
    const img = join(work, 'cloud.img');
    makeSmallImage(img, { rootFiles: CLOUD_INIT });
    const args = ['customise', img, '--hostname', 'node-1', '--user', 'alice', '--ssh-key-file', keyFile, '--ssh'];
    const wifi = ['--wifi-ssid', `Cafe' "Wi-Fi"`, '--wifi-country', 'GB', '--wifi-psk-file', pskFile, '--timezone', 'Europe/London'];
    const r = runPiImage([...args, ...wifi, '--instance-id', 'first', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ format: 'cloudinit-rpi', detected: 'cloudinit-rpi', partition: 1 });
    const f = fat(img);
    const userData = f.type('user-data');
    expect(userData.startsWith('#cloud-config\n')).toBe(true);
    expect(parse(userData)).toMatchObject({ hostname: 'node-1', timezone: 'Europe/London', users: [{ name: 'alice', ssh_authorized_keys: [KEY] }] });
    expect(parse(f.type('meta-data'))).toEqual({ 'instance-id': 'first' });
    expect(
      Object.keys((parse(f.type('network-config')) as { network: { wifis: { wlan0: { 'access-points': object } } } }).network.wifis.wlan0['access-points']),
    ).toEqual([`Cafe' "Wi-Fi"`]);
    expect(f.type('cmdline.txt')).toBe('console=tty1 root=PARTUUID=0badcafe-02 rootwait cfg80211.ieee80211_regdom=GB ds=nocloud;i=first\n');
    const fsck = f.fsck();
    expect(fsck.status, fsck.stdout + fsck.stderr).toBe(0);
    // Again, with another id: one set of arguments, the new id; the earlier Wi-Fi network-config is gone.
    const again = runPiImage([...args, '--instance-id', 'second', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).removed).toEqual(['network-config']);
    expect(fat(img).type('cmdline.txt')).toBe('console=tty1 root=PARTUUID=0badcafe-02 rootwait ds=nocloud;i=second\n');
    expect(fat(img).has('network-config')).toBe(false);
    // The same id again is refused: cloud-init would take it as already applied.
    const same = runPiImage([...args, '--instance-id', 'second']);
    expect([same.code, same.stderr]).toEqual([2, expect.stringMatching(/instance id: second is already the instance id on .*cloud\.img partition 1/)]);
  });

  it('writes a whole user-data and network-config given by the user, unchanged, after checking them; refuses bad ones with nothing written', () => {
    const img = join(work, 'given.img');
    makeSmallImage(img, { rootFiles: CLOUD_INIT });
    const userData = join(work, 'user-data.yaml');
    const network = join(work, 'network.yaml');
    const text = '#cloud-config\nhostname: given-1\nusers:\n  - name: carol\n    ssh_authorized_keys: ["' + KEY + '"]\n';
    writeFileSync(userData, text);
    writeFileSync(network, 'network:\n  version: 2\n  ethernets:\n    eth0: {dhcp4: true}\n');
    const before = readFileSync(img);
    const bad = join(work, 'bad.yaml');
    const refusals: [string, string[], RegExp][] = [
      ['hostname: x\n', [], /bad\.yaml: its first line is "hostname: x", not #cloud-config.*\[INPUT_INVALID\]/],
      ['#cloud-config\nhostname: a\nhostname: b\n', [], /bad\.yaml: not valid YAML at line 3: Map keys must be unique/],
      ['#cloud-config\nhostname: a\n', ['--hostname', 'x'], /--user-data is the whole customisation: put --hostname into it instead/],
      ['#cloud-config\nhostname: a\n', ['--format', 'systemd'], /--user-data is cloud-init user-data: it cannot go with --format systemd/],
    ];
    for (const [content, extra, message] of refusals) {
      writeFileSync(bad, content);
      const r = runPiImage(['customise', img, '--user-data', bad, ...extra]);
      expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(message)]);
    }
    writeFileSync(bad, 'network:\n  version: 3\n');
    let r = runPiImage(['customise', img, '--user-data', userData, '--network-config', bad]);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/bad\.yaml: network config version 3/)]);
    expect(readFileSync(img).equals(before)).toBe(true);

    r = runPiImage(['customise', img, '--user-data', userData, '--network-config', network, '--instance-id', 'given', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ format: 'cloudinit-rpi', removed: [] });
    const f = fat(img);
    expect(f.type('user-data')).toBe(text);
    expect(parse(f.type('meta-data'))).toEqual({ 'instance-id': 'given' });
    expect(parse(f.type('network-config'))).toEqual({ network: { version: 2, ethernets: { eth0: { dhcp4: true } } } });
    expect(f.type('cmdline.txt')).toMatch(/rootwait ds=nocloud;i=given\n$/);
    expect(f.fsck().status).toBe(0);
  });

  it("writes Imager's firstrun.sh for an image with imager_custom, a script the shell parses", () => {
    const img = join(work, 'firstrun.img');
    makeSmallImage(img, { rootFiles: FIRSTRUN });
    const r = runPiImage(['customise', img, '--hostname', 'node-2', '--user', 'bob', '--ssh-key-file', keyFile, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).format).toBe('systemd');
    const f = fat(img);
    const script = f.type('firstrun.sh');
    expect(spawnSync('sh', ['-n'], { input: script }).status).toBe(0);
    expect(script).toContain("imager_custom set_hostname 'node-2'");
    expect(f.type('cmdline.txt')).toMatch(
      /rootwait systemd\.run=\/boot\/firstrun\.sh systemd\.run_success_action=reboot systemd\.unit=kernel-command-line\.target\n$/,
    );
  });

  it('refuses an image that takes no customisation (unless a format is forced, with a warning), a compressed image, and bad settings: exit 2, the image unchanged', () => {
    const img = join(work, 'plain.img');
    makeSmallImage(img);
    const before = readFileSync(img);
    let r = runPiImage(['customise', img, '--hostname', 'x1']);
    expect([r.code, r.stderr]).toEqual([
      2,
      expect.stringMatching(/takes no first-boot customisation this tool writes \(init_format none: .*\); give --format/),
    ]);
    const hash = join(work, 'hash');
    writeFileSync(hash, 'hunter2\n');
    r = runPiImage(['customise', img, '--format', 'cloudinit', '--user', 'alice', '--password-hash-file', hash]);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/password: not a crypt\(3\) hash/)]);
    r = runPiImage(['customise', img, '--format', 'cloudinit', '--hostname', 'bad_name']);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/hostname: "bad_name" is not a host name/)]);
    expect(readFileSync(img).equals(before)).toBe(true);
    r = runPiImage(['customise', img, '--format', 'cloudinit', '--hostname', 'forced']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/takes none at first boot .* but cloudinit was asked for: it may not be applied/);
    execFileSync('xz', ['-k', '-0', img]);
    r = runPiImage(['customise', `${img}.xz`, '--hostname', 'x1']);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/is compressed: customise writes into a raw image/)]);
  });
});
