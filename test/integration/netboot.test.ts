/**
 * `pi-image netboot` on release directories packaged by the real package step
 * from real small images (FAT boot, ext4 root made by mkfs.ext4 -d from a tree
 * with setuid, a capability, devices, a FIFO, hard and symbolic links). The
 * root file system it writes is extracted by GNU tar and compared entry by
 * entry with what debugfs reads from the image's root partition; the TFTP
 * tree with what mtools copies out of the boot partition. Hostile images
 * (a boot file named with "/", one name twice in a directory next to a
 * symlink pointing out) are refused with nothing written, inside or outside.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chownSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPiImage } from '../support/cli';
import { makeRelease, makeSignedRelease } from '../support/release-fixture';
import { debugfsFacts, extractedFacts } from '../support/rootfs-facts';
import { SMALL_IMAGE_TOOLS } from '../support/small-image';
import { isRoot, missingTools, sh, skipReason } from '../support/tools';

const missing = missingTools([...SMALL_IMAGE_TOOLS, 'xz', 'debugfs', 'tar', 'mknod', 'mkfifo', 'setcap', 'getcap', 'mcopy']);
const why = !isRoot() ? 'owners, devices and capabilities in the image need root' : missing.length ? `missing: ${missing.join(', ')}` : undefined;
if (why) skipReason('netboot export tests', why);

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const MiB = 1024 * 1024;

const FSTAB = [
  'proc /proc proc defaults 0 0',
  'PARTUUID=0badcafe-01 /boot/firmware vfat defaults 0 2',
  'PARTUUID=0badcafe-02 / ext4 defaults,noatime 0 1',
  'LABEL=OURBOX_DATA /var/lib/ourbox ext4 defaults,nofail,x-systemd.device-timeout=10s 0 2',
  '',
].join('\n');

/** A root tree with what a real system holds besides plain files. */
function specialEntries(root: string): void {
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  mkdirSync(join(root, 'dev'), { recursive: true });
  mkdirSync(join(root, 'home/alice'), { recursive: true });
  writeFileSync(join(root, 'usr/bin/ping'), 'ping binary');
  execFileSync('chmod', ['4755', join(root, 'usr/bin/ping')]);
  execFileSync('setcap', ['cap_net_raw+ep', join(root, 'usr/bin/ping')]);
  linkSync(join(root, 'usr/bin/ping'), join(root, 'usr/bin/ping6'));
  writeFileSync(join(root, 'home/alice/notes'), 'alice\n', { mode: 0o600 });
  chownSync(join(root, 'home/alice/notes'), 1000, 1000);
  chownSync(join(root, 'home/alice'), 1000, 1000);
  writeFileSync(join(root, 'usr/big'), Buffer.from(Array.from({ length: 2 * MiB + 5 }, (_, i) => (i * 13) % 251)));
  symlinkSync('/usr/bin', join(root, 'bin'));
  symlinkSync('/run/resolv.conf', join(root, 'resolv.conf'));
  execFileSync('mknod', [join(root, 'dev/null'), 'c', '1', '3']);
  execFileSync('mknod', [join(root, 'dev/nvme0n1'), 'b', '259', '70000']);
  execFileSync('mkfifo', [join(root, 'dev/initctl')]);
}

/** The release's raw image, decompressed by xz itself. */
function rawImage(release: string, into: string): string {
  const manifest = JSON.parse(readFileSync(join(release, 'manifest.json'), 'utf8')) as { image: { path: string } };
  const path = join(into, 'raw.img');
  execFileSync('sh', ['-c', 'xz -dc "$1" > "$2"', 'sh', join(release, manifest.image.path), path]);
  return path;
}

/** Partition `n` of a disk image (sfdisk's table), copied out with dd. */
function partition(image: string, n: number, into: string): string {
  const table = JSON.parse(sh('sfdisk', ['--json', image])) as { partitiontable: { partitions: { start: number; size: number }[] } };
  const p = table.partitiontable.partitions[n - 1]!;
  const path = join(into, `p${n}`);
  execFileSync('dd', [`if=${image}`, `of=${path}`, 'bs=512', `skip=${p.start}`, `count=${p.size}`, 'status=none']);
  return path;
}

/** Every file under `dir`, path → sha256. */
function treeDigests(dir: string, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of readdirSync(join(dir, prefix)).sort()) {
    const rel = prefix ? `${prefix}/${name}` : name;
    if (statSync(join(dir, rel)).isDirectory()) for (const [k, v] of treeDigests(dir, rel)) out.set(k, v);
    else out.set(rel, sha256(readFileSync(join(dir, rel))));
  }
  return out;
}

describe.skipIf(why !== undefined)('pi-image netboot', () => {
  let work: string;
  let release: string;
  let rootFacts: ReturnType<typeof debugfsFacts>;
  let bootFiles: Map<string, string>;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'netboot-'));
    release = await makeRelease(work, 'plain', { rootMiB: 32, rootFiles: { 'etc/fstab': FSTAB }, prepareRoot: specialEntries });
    const scratch = join(work, 'independent');
    mkdirSync(scratch);
    const raw = rawImage(release, scratch);
    rootFacts = debugfsFacts(partition(raw, 2, scratch), scratch);
    // mtools copies the boot partition out on its own.
    const boot = join(scratch, 'boot');
    mkdirSync(boot);
    execFileSync('mcopy', ['-s', '-n', '-i', partition(raw, 1, scratch), '::/*', boot]);
    bootFiles = treeDigests(boot);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const extract = (archive: string, into: string, zstd: boolean): void => {
    mkdirSync(into);
    const x = spawnSync('tar', ['-x', zstd ? '--zstd' : '--gzip', '-p', '-f', archive, '-C', into, '--numeric-owner', '--xattrs', '--xattrs-include=*'], {
      encoding: 'utf8',
    });
    expect([x.status, x.stderr]).toEqual([0, '']);
  };

  /** The export's root compared with debugfs's reading of the image's: everything equal but fstab, which is adjusted. */
  const expectSameRoot = (root: string): void => {
    const got = extractedFacts(root);
    expect([...got.keys()].sort()).toEqual([...rootFacts.keys()].sort());
    for (const [path, facts] of rootFacts) {
      if (path === '/etc/fstab') continue;
      expect({ path, ...got.get(path) }).toEqual({ path, ...facts });
    }
    expect(readFileSync(join(root, 'etc/fstab'), 'utf8')).toBe(
      'proc /proc proc defaults 0 0\nLABEL=OURBOX_DATA /var/lib/ourbox ext4 defaults,nofail,x-systemd.device-timeout=10s 0 2\n',
    );
    expect(rootFacts.get('/usr/bin/ping')!.mode).toBe('104755');
    expect(lstatSync(join(root, 'usr/bin/ping6')).ino).toBe(lstatSync(join(root, 'usr/bin/ping')).ino);
    expect(sh('getcap', [join(root, 'usr/bin/ping6')]).trim()).toBe(`${join(root, 'usr/bin/ping6')} cap_net_raw=ep`);
    expect(readlinkSync(join(root, 'resolv.conf'))).toBe('/run/resolv.conf');
  };

  it('writes the root file system debugfs reads, the boot files mtools reads, and the server settings, for one board', () => {
    const out = join(work, 'one');
    const r = runPiImage(['netboot', release, '--out', out, '--server', '192.168.1.10', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/its signature was not checked/);
    expect(readdirSync(out).sort()).toEqual(['README.md', 'dnsmasq.conf', 'exports', 'netboot.json', 'rootfs.tar.zst', 'tftp']);
    extract(join(out, 'rootfs.tar.zst'), join(work, 'one-root'), true);
    expectSameRoot(join(work, 'one-root'));

    // The boot partition byte for byte, but cmdline.txt, whose root is now NFS.
    const tftp = treeDigests(join(out, 'tftp'));
    expect([...tftp.keys()]).toEqual([...bootFiles.keys()]);
    for (const [path, digest] of bootFiles) if (path !== 'cmdline.txt') expect([path, tftp.get(path)]).toEqual([path, digest]);
    expect(readFileSync(join(out, 'tftp/cmdline.txt'), 'utf8')).toBe(
      'console=tty1 root=/dev/nfs nfsroot=192.168.1.10:/srv/netboot/rootfs,vers=3 rw ip=dhcp rootwait\n',
    );
    const summary = JSON.parse(readFileSync(join(out, 'netboot.json'), 'utf8')) as {
      boot: { path: string; sha256: string }[];
      rootfs: { digest: { sha256: string } };
      image: { sha256: string };
    };
    // netboot.json records the image's own cmdline.txt, so every boot digest is the image's.
    expect(summary.boot.map((f) => [f.path.slice(1), f.sha256])).toEqual([...bootFiles.entries()]);
    expect(summary.rootfs.digest.sha256).toBe(sha256(readFileSync(join(out, 'rootfs.tar.zst'))));
    expect(summary.image.sha256).toBe(sha256(readFileSync(rawImage(release, mkdtempSync(join(work, 'raw-'))))));
    expect(readFileSync(join(out, 'dnsmasq.conf'), 'utf8')).toMatch(
      /^dhcp-range=192\.168\.1\.0,proxy$[\s\S]*^tftp-root=\/srv\/netboot\/tftp$[\s\S]*^pxe-service=0,"Raspberry Pi Boot"$/m,
    );
    expect(readFileSync(join(out, 'exports'), 'utf8')).toBe('/srv/netboot/rootfs 192.168.1.0/24(rw,sync,no_subtree_check,no_root_squash)\n');
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toContain('--zstd --file rootfs.tar.zst --directory /srv/netboot/rootfs');
  });

  it('gives each board, by serial, its directory and its own root, the boot files linked once; tar.gz on request', () => {
    const out = join(work, 'boards');
    const r = runPiImage([
      'netboot',
      release,
      '--out',
      out,
      '--server',
      'nfs.lab',
      '--subnet',
      '10.0.0.0',
      '--serial',
      '0xABCDEF01',
      '--serial',
      '12345678',
      '--rootfs',
      'tar.gz',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(join(out, 'tftp')).sort()).toEqual(['12345678', 'abcdef01']);
    for (const board of ['abcdef01', '12345678']) {
      const tftp = treeDigests(join(out, 'tftp', board));
      expect([...tftp.keys()]).toEqual([...bootFiles.keys()]);
      expect(readFileSync(join(out, 'tftp', board, 'cmdline.txt'), 'utf8')).toContain(`nfsroot=nfs.lab:/srv/netboot/rootfs/${board},vers=3 `);
    }
    expect(statSync(join(out, 'tftp/abcdef01/kernel8.img')).ino).toBe(statSync(join(out, 'tftp/12345678/kernel8.img')).ino);
    expect(readFileSync(join(out, 'exports'), 'utf8').split('\n')).toEqual([
      '/srv/netboot/rootfs/abcdef01 10.0.0.0/24(rw,sync,no_subtree_check,no_root_squash)',
      '/srv/netboot/rootfs/12345678 10.0.0.0/24(rw,sync,no_subtree_check,no_root_squash)',
      '',
    ]);
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toContain('TFTP_PREFIX=0');
    extract(join(out, 'rootfs.tar.gz'), join(work, 'boards-root'), false);
    expectSameRoot(join(work, 'boards-root'));
  });

  it('writes a directory tree for an NFS export as it is, the same root', () => {
    const out = join(work, 'tree');
    const r = runPiImage(['netboot', release, '--out', out, '--server', '192.168.1.10', '--rootfs', 'dir', '--mac', 'DC:A6:32:01:02:03']);
    expect(r.code, r.stderr).toBe(0);
    expectSameRoot(join(out, 'rootfs'));
    expect(readdirSync(join(out, 'tftp'))).toEqual(['dc-a6-32-01-02-03']);
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toContain('TFTP_PREFIX=2');
  });

  it("takes the server settings from the product config's NETBOOT_* keys, the options winning, and refuses an unknown key", () => {
    const config = join(work, 'product.env');
    writeFileSync(config, 'IMG_NAME=x\nNETBOOT_SERVER=10.1.2.3\nNETBOOT_EXPORT_PATH=/exports/pi\nNETBOOT_ROOTFS=tar.gz\n');
    const out = join(work, 'configured');
    const r = runPiImage(['netboot', release, '--out', out, '--config', config, '--export-path', '/exports/lab']);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out)).toContain('rootfs.tar.gz');
    expect(readFileSync(join(out, 'tftp/cmdline.txt'), 'utf8')).toContain('nfsroot=10.1.2.3:/exports/lab,vers=3 ');
    writeFileSync(config, 'NETBOOT_SEVRER=10.1.2.3\n');
    const bad = runPiImage(['netboot', release, '--out', join(work, 'misconfigured'), '--config', config]);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringMatching(/NETBOOT_SEVRER is not a netboot setting/)]);
  });

  it('checks a signed release against its signer first, and refuses one signed by another repository', async () => {
    const signed = await makeSignedRelease(work, 'signed');
    const signer = ['--trusted-root', signed.trustedRoot, '--signer-workflow', 'acme/appliance/.github/workflows/release.yml'];
    const out = join(work, 'signed-out');
    let r = runPiImage(['netboot', signed.release, '--out', out, '--server', '192.168.1.10', ...signer, '--repository', 'acme/appliance', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).release).toMatchObject({ checkedAgainst: 'signature', signer: expect.stringContaining('acme/appliance') });
    const refused = join(work, 'signed-refused');
    r = runPiImage(['netboot', signed.release, '--out', refused, '--server', '192.168.1.10', ...signer, '--repository', 'mallory/appliance']);
    expect([r.code, r.stderr]).toEqual([1, expect.stringMatching(/\[REPOSITORY_MISMATCH\]/)]);
    expect(existsSync(refused)).toBe(false);
  });

  it('refuses bad settings with exit 2 before reading the release, and leaves nothing', () => {
    const out = join(work, 'bad');
    const cases: [string[], RegExp][] = [
      [[], /--server: required/],
      [['--server', '192.168.1.10 ,x'], /server: "192\.168\.1\.10 ,x" is not an IPv4 address or a host name/],
      [['--server', 'nfs.lab'], /--subnet: required when --server is a host name/],
      [['--server', '192.168.1.10', '--serial', '1234'], /serial: "1234" is not a board serial/],
      [['--server', '192.168.1.10', '--serial', '12345678', '--mac', 'dc:a6:32:01:02:03'], /by serial or by MAC, not both/],
      [['--server', '192.168.1.10', '--export-path', '/srv/../etc'], /export path: "\/srv\/\.\.\/etc" is not an absolute path/],
      [['--server', '192.168.1.10', '--rootfs', 'tar.xz'], /--rootfs: "tar\.xz" is not one of tar\.gz, tar\.zst, dir/],
      [['--server', '192.168.1.10', '--clients', '* (rw)'], /clients: "\* \(rw\)" is not a host/],
    ];
    for (const [args, message] of cases) {
      const r = runPiImage(['netboot', release, '--out', out, ...args]);
      expect([args, r.code, r.stderr]).toEqual([args, 2, expect.stringMatching(message)]);
    }
    mkdirSync(out);
    writeFileSync(join(out, 'keep'), 'mine');
    const r = runPiImage(['netboot', release, '--out', out, '--server', '192.168.1.10']);
    expect([r.code, r.stderr]).toEqual([
      2,
      expect.stringMatching(/--out .* already exists and is not empty; choose another \(or empty it\) \[OUTPUT_EXISTS\]/),
    ]);
    expect(readdirSync(out)).toEqual(['keep']);
    expect(readdirSync(work).filter((n) => n.includes('.partial-'))).toEqual([]);
  });

  it('refuses a tampered release, naming the file, with nothing written', async () => {
    const tampered = await makeRelease(work, 'tampered', { version: '1.2.4' });
    const manifest = JSON.parse(readFileSync(join(tampered, 'manifest.json'), 'utf8')) as { image: { path: string } };
    const image = join(tampered, manifest.image.path);
    const bytes = readFileSync(image);
    bytes[bytes.length - 100]! ^= 1;
    writeFileSync(image, bytes);
    const out = join(work, 'tampered-out');
    const r = runPiImage(['netboot', tampered, '--out', out, '--server', '192.168.1.10']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(manifest.image.path);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(work).filter((n) => n.includes('.partial-') || n.startsWith('.pi-image-'))).toEqual([]);
  });

  it('refuses a boot file whose name holds "/" and a root directory holding one name twice (a symlink out, then a directory): nothing written inside or outside', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'netboot-outside-'));
    try {
      // The boot partition's long name "A Long File Name For LFN.dtbo" made "../../ File Name…": its UTF-16 bytes patched in place.
      const slashed = await makeRelease(work, 'slashed', {
        patchBoot: (fsImage) => {
          const fat = readFileSync(fsImage);
          const at = fat.indexOf(Buffer.from('A Lon', 'utf16le'));
          expect(at).toBeGreaterThan(0);
          fat.write('../..', at, 'utf16le');
          writeFileSync(fsImage, fat);
        },
      });
      let out = join(work, 'slashed-out');
      let r = runPiImage(['netboot', slashed, '--out', out, '--server', '192.168.1.10', '--rootfs', 'dir']);
      expect([r.code, r.stderr]).toEqual([
        2,
        expect.stringMatching(
          /appliance\.img\.xz: its boot partition holds an entry named "\.\.\/\.\.g File Name For LFN\.dtbo" \(at .*\), which no FAT file system writes \[IMAGE_CORRUPT\]/,
        ),
      ]);
      expect(existsSync(out)).toBe(false);

      // Two entries "a1" in /: a symlink to a directory outside, and a directory holding "pwned".
      const twice = await makeRelease(work, 'twice', {
        prepareRoot: (root) => {
          symlinkSync(outside, join(root, 'a1'));
          mkdirSync(join(root, 'a2'));
          writeFileSync(join(root, 'a2/pwned'), 'x');
        },
        patchRoot: (fsImage) => {
          const ext = readFileSync(fsImage);
          const at = ext.indexOf(Buffer.from([2, 2, 0x61, 0x32])); // name_len 2, type directory, "a2"
          expect(at).toBeGreaterThan(0);
          ext.write('a1', at + 2, 'latin1');
          writeFileSync(fsImage, ext);
        },
      });
      out = join(work, 'twice-out');
      r = runPiImage(['netboot', twice, '--out', out, '--server', '192.168.1.10', '--rootfs', 'dir']);
      expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/appliance\.img\.xz: directory \/ holds "a1" twice \[IMAGE_CORRUPT\]/)]);
      expect(existsSync(out)).toBe(false);
      expect(readdirSync(outside)).toEqual([]);
      expect(readdirSync(work).filter((n) => n.includes('.partial-') || n.startsWith('.pi-image-'))).toEqual([]);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
