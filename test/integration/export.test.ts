/**
 * `pi-image export` (the rootless export's assembler) on trees this test
 * makes, checked by independent tools: sfdisk for the table, blkid, fsck.fat
 * and e2fsck for each file system (through read-only loop devices over each
 * partition's range), debugfs and mtools for what is inside. Reproducibility:
 * the same tree, seed and epoch give the same sha256; another epoch another
 * (valid) image.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { MemoryLogger } from '../../src/lib/core/logger';
import { assembleImage } from '../../src/lib/export/assemble-image';
import { parseExportSettings } from '../../src/lib/export/layouts';
import { runPiImage } from '../support/cli';
import { makeInfo } from '../support/small-image';
import { LoopDevices, loopDevicesUnavailable } from '../support/loop-devices';
import { missingTools, skipReason } from '../support/tools';

const TOOLS = ['sfdisk', 'mkfs.ext4', 'mkfs.fat', 'mcopy', 'mmd', 'mtype', 'mdir', 'fsck.fat', 'e2fsck', 'debugfs', 'blkid', 'mknod'];
const why = loopDevicesUnavailable() ?? (missingTools(TOOLS).length > 0 ? `missing: ${missingTools(TOOLS).join(', ')}` : undefined);
if (why) skipReason('rootless export', why);

const EPOCH = 1700000000;
const FUTURE = 2114380800; // 2037-01-01 (mkfs.ext4 1.47.0 -d keeps only 32-bit times): clamped to the epoch

interface SfdiskPartition {
  node: string;
  start: number;
  size: number;
  type: string;
  uuid?: string;
  name?: string;
}
interface SfdiskTable {
  label: 'dos' | 'gpt';
  id: string;
  partitions: SfdiskPartition[];
}

function sfdisk(image: string): SfdiskTable {
  return (JSON.parse(execFileSync('sfdisk', ['--json', image], { encoding: 'utf8' })) as { partitiontable: SfdiskTable }).partitiontable;
}

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

function run(args: string[], env: Record<string, string> = {}) {
  return runPiImage(['export', ...args], { env: { SOURCE_DATE_EPOCH: String(EPOCH), ...env } });
}

describe.skipIf(why !== undefined)('pi-image export: an image from directories, no loop device and no mount', () => {
  const work = mkdtempSync(join(tmpdir(), 'export-test-'));
  const root = join(work, 'rootfs');
  const boot = join(work, 'bootfs');
  const loops = new LoopDevices();
  afterEach(() => loops.release());
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const FSTAB =
    'proc /proc proc defaults 0 0\nBOOTDEV /boot/firmware vfat defaults 0 2\nROOTDEV / ext4 defaults,noatime 0 1\nLABEL=OURBOX_DATA /var/lib/ourbox ext4 defaults,nofail 0 2\n';
  const CMDLINE = 'console=serial0,115200 root=ROOTDEV rootfstype=ext4 rootwait\n';
  mkdirSync(join(root, 'etc'), { recursive: true });
  mkdirSync(join(root, 'boot/firmware'), { recursive: true });
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  mkdirSync(join(root, 'dev'), { recursive: true });
  writeFileSync(join(root, 'etc/fstab'), FSTAB);
  // Created out of order: the image must not depend on the order the directory lists them.
  for (const n of ['zeta', 'alpha', 'mu', 'beta']) writeFileSync(join(root, 'etc', n), `${n}\n`);
  writeFileSync(join(root, 'usr/bin/tool'), Buffer.alloc(3 * 1048576, 7));
  linkSync(join(root, 'usr/bin/tool'), join(root, 'usr/bin/tool-link'));
  symlinkSync('tool', join(root, 'usr/bin/tool-sym'));
  execFileSync('mknod', [join(root, 'dev/null'), 'c', '1', '3']);
  writeFileSync(join(root, 'etc/from-the-future'), 'x\n');
  utimesSync(join(root, 'etc/from-the-future'), FUTURE, FUTURE);
  mkdirSync(join(boot, 'overlays'), { recursive: true });
  writeFileSync(join(boot, 'cmdline.txt'), CMDLINE);
  writeFileSync(join(boot, 'config.txt'), '[all]\narm_64bit=1\n');
  writeFileSync(join(boot, 'kernel8.img'), Buffer.alloc(2 * 1048576, 1));
  for (const n of ['vc4-kms-v3d.dtbo', 'a-long-overlay-name.dtbo', 'b.dtbo']) writeFileSync(join(boot, 'overlays', n), n);

  /** Each partition's file system checked by its own fsck; returns blkid's view. */
  function checkPartitions(image: string, table: SfdiskTable): Record<string, string>[] {
    return table.partitions.map((p) => {
      const dev = loops.attachRange(image, p.start * 512, p.size * 512);
      const probe = spawnSync('blkid', ['-p', '-o', 'export', dev], { encoding: 'utf8' });
      const fields = Object.fromEntries(
        probe.stdout
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => l.split('=', 2) as [string, string]),
      );
      if (fields.TYPE === 'vfat') expect(spawnSync('fsck.fat', ['-n', dev]).status).toBe(0);
      if (fields.TYPE === 'ext4') {
        const fsck = spawnSync('e2fsck', ['-fn', dev], { encoding: 'utf8' });
        if (fsck.status !== 0) console.error(fsck.stdout, fsck.stderr);
        expect(fsck.status).toBe(0);
      }
      return fields;
    });
  }
  const debugfs = (image: string, p: SfdiskPartition, request: string): string => {
    const dev = loops.attachRange(image, p.start * 512, p.size * 512);
    return execFileSync('debugfs', ['-R', request, dev], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  };
  const mtype = (image: string, p: SfdiskPartition, path: string): string =>
    execFileSync('mtype', ['-i', `${image}@@${p.start * 512}`, `::${path}`], { encoding: 'utf8', env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });

  it("lays out pi-gen's table, names the partitions in fstab and cmdline.txt, keeps owners, links and device nodes, clamps times", () => {
    const image = join(work, 'pigen.img');
    const r = run([root, '--boot-dir', boot, '--out', image, '--seed', 'ourbox-mini 1.2.3', '--json']);
    if (r.code !== 0) console.error(r.stderr);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    const table = sfdisk(image);
    expect(table.label).toBe('dos');
    expect(table.id).toBe(`0x${plan.diskId}`);
    expect(table.partitions.map((p) => [p.start, p.type])).toEqual([
      [16384, 'c'],
      [16384 + 1048576, '83'],
    ]);
    expect(table.partitions[0]!.size).toBe(1048576);
    const fs = checkPartitions(image, table);
    expect(fs.map((f) => [f.TYPE, f.LABEL])).toEqual([
      ['vfat', 'bootfs'],
      ['ext4', 'rootfs'],
    ]);
    expect(fs[0]!.VERSION).toBe('FAT32');
    expect(fs[1]!.UUID).toBe(plan.partitions[1].ids.fsUuid);

    const fstab = debugfs(image, table.partitions[1]!, 'cat /etc/fstab');
    expect(fstab).toContain(`PARTUUID=${plan.diskId}-01 /boot/firmware`);
    expect(fstab).toContain(`PARTUUID=${plan.diskId}-02 /`);
    expect(fstab).toContain('LABEL=OURBOX_DATA /var/lib/ourbox');
    expect(mtype(image, table.partitions[0]!, '/cmdline.txt')).toContain(`root=PARTUUID=${plan.diskId}-02 `);
    expect(mtype(image, table.partitions[0]!, '/overlays/a-long-overlay-name.dtbo')).toBe('a-long-overlay-name.dtbo');

    const stat = (path: string): string => debugfs(image, table.partitions[1]!, `stat ${path}`);
    expect(stat('/usr/bin/tool')).toMatch(/Links: 2/);
    expect(debugfs(image, table.partitions[1]!, 'stat /usr/bin/tool-link')).toMatch(/Links: 2/);
    expect(stat('/usr/bin/tool-sym')).toMatch(/Fast link dest: "tool"/);
    expect(stat('/dev/null')).toMatch(/Type: character special/);
    expect(stat('/dev/null')).toMatch(/Device major\/minor number: 01:03/);
    for (const field of ['ctime', 'atime', 'mtime', 'crtime']) {
      expect(stat('/etc/from-the-future')).toMatch(new RegExp(`${field}: 0x${EPOCH.toString(16)}:00000000`));
    }
    // The trees are as they were: the placeholders come back after the export.
    expect(readFileSync(join(root, 'etc/fstab'), 'utf8')).toBe(FSTAB);
    expect(readFileSync(join(boot, 'cmdline.txt'), 'utf8')).toBe(CMDLINE);
  });

  it('gives the same bytes for the same tree, seed and epoch, and another valid image for another epoch', () => {
    const a = join(work, 'a.img');
    const b = join(work, 'b.img');
    const c = join(work, 'c.img');
    const seed = ['--seed', 'ourbox-mini 2.0.0'];
    expect(run([root, '--boot-dir', boot, '--out', a, ...seed]).code).toBe(0);
    // Another second, and every file's ctime changed: nothing of either may reach the image.
    execFileSync('sleep', ['1.1']);
    for (const n of ['alpha', 'beta']) writeFileSync(join(root, 'etc', n), `${n}\n`);
    expect(run([root, '--boot-dir', boot, '--out', b, ...seed]).code).toBe(0);
    expect(sha256(b)).toBe(sha256(a));
    expect(run([root, '--boot-dir', boot, '--out', c, ...seed], { SOURCE_DATE_EPOCH: String(EPOCH + 86400) }).code).toBe(0);
    expect(sha256(c)).not.toBe(sha256(a));
    checkPartitions(c, sfdisk(c));
    // Without a seed the identifiers are random: reproducible only when asked to be.
    const d = join(work, 'd.img');
    const r = run([root, '--boot-dir', boot, '--out', d]);
    expect(r.stderr).toMatch(/no --seed: the identifiers are random/);
    expect(sfdisk(d).id).not.toBe(sfdisk(a).id);
  });

  it('lays out A/B slots with autoboot.txt, each slot naming its own partitions, and a data partition', () => {
    const image = join(work, 'ab.img');
    const r = run([
      root,
      '--boot-dir',
      boot,
      '--out',
      image,
      '--layout',
      'ab-tryboot',
      '--set',
      'EXPORT_SLOT_B=copy',
      '--set',
      'EXPORT_DATA_SIZE=64M',
      '--set',
      'EXPORT_DATA_LABEL=OURBOX_DATA',
      '--seed',
      'ab',
      '--json',
    ]);
    if (r.code !== 0) console.error(r.stderr);
    expect(r.code).toBe(0);
    const table = sfdisk(image);
    expect(table.label).toBe('gpt');
    expect(table.partitions.map((p) => p.name)).toEqual(['autoboot', 'boot_a', 'boot_b', 'root_a', 'root_b', 'OURBOX_DATA']);
    const fs = checkPartitions(image, table);
    expect(fs.map((f) => `${f.TYPE}:${f.LABEL}`)).toEqual(['vfat:autoboot', 'vfat:boot_a', 'vfat:boot_b', 'ext4:root_a', 'ext4:root_b', 'ext4:OURBOX_DATA']);
    expect(fs[0]!.VERSION).toBe('FAT16');
    expect(mtype(image, table.partitions[0]!, '/autoboot.txt')).toBe('[all]\ntryboot_a_b=1\nboot_partition=2\n[tryboot]\nboot_partition=3\n');

    const uuid = (i: number): string => table.partitions[i]!.uuid!.toLowerCase();
    expect(mtype(image, table.partitions[1]!, '/cmdline.txt')).toContain(`root=PARTUUID=${uuid(3)} `);
    expect(mtype(image, table.partitions[2]!, '/cmdline.txt')).toContain(`root=PARTUUID=${uuid(4)} `);
    const fstabA = debugfs(image, table.partitions[3]!, 'cat /etc/fstab');
    const fstabB = debugfs(image, table.partitions[4]!, 'cat /etc/fstab');
    expect(fstabA).toContain(`PARTUUID=${uuid(1)} /boot/firmware`);
    expect(fstabA).toContain(`PARTUUID=${uuid(3)} /`);
    expect(fstabB).toContain(`PARTUUID=${uuid(2)} /boot/firmware`);
    expect(fstabB).toContain(`PARTUUID=${uuid(4)} /`);
    // inspect finds the slots from the image alone: autoboot.txt, then each boot partition's cmdline.txt.
    const inspected = runPiImage(['inspect', image, '--json']);
    expect(inspected.code).toBe(0);
    const report = JSON.parse(inspected.stdout);
    expect(report.slots).toMatchObject({ autoboot: { partition: 1 }, a: { boot: 2, root: 4 }, b: { boot: 3, root: 5 } });
    expect([report.boot.partition, report.root.partition]).toEqual([2, 4]);
    expect(report.partitionTable.partitions.map((p: { role?: string }) => p.role ?? null)).toEqual([
      'common boot (autoboot.txt)',
      'boot (slot A)',
      'boot (slot B)',
      'root (slot A)',
      'root (slot B)',
      null,
    ]);
    expect(runPiImage(['inspect', image]).stdout).toContain('A/B slots (autoboot.txt in partition 1): A: boot 2, root 4; B (tryboot): boot 3, root 5');
    expect(JSON.parse(r.stdout).partitions.map((p: { role: string }) => p.role)).toEqual([
      'common boot (autoboot.txt)',
      'boot (slot A)',
      'boot (slot B)',
      'root (slot A)',
      'root (slot B)',
      'data',
    ]);
  });

  it("packages an A/B image with slot A's file systems as the update bundle, in the manifest", () => {
    const deploy = join(work, 'ab-deploy');
    mkdirSync(deploy);
    execFileSync('cp', ['--sparse=always', join(work, 'ab.img'), join(deploy, 'ab-1.0.0.img')]);
    writeFileSync(join(deploy, 'ab-1.0.0.info'), makeInfo(3));
    const release = join(work, 'ab-release');
    const r = runPiImage(['package', deploy, '--out', release, '--version', '1.0.0', '--compression-level', '1']);
    if (r.code !== 0) console.error(r.stderr);
    expect(r.code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(release, 'manifest.json'), 'utf8'));
    const byRole = (role: string): string[] => manifest.files.filter((f: { role: string }) => f.role === role).map((f: { path: string }) => f.path);
    expect(byRole('update-boot')).toEqual(['ab-1.0.0.slot-boot.vfat.xz']);
    expect(byRole('update-root')).toEqual(['ab-1.0.0.slot-root.ext4.xz']);
    expect(byRole('update-bmap').sort()).toEqual(['ab-1.0.0.slot-boot.bmap', 'ab-1.0.0.slot-root.bmap']);
    const table = sfdisk(join(work, 'ab.img'));
    const metadata = JSON.parse(readFileSync(join(release, 'metadata.json'), 'utf8'));
    expect(metadata.updateBundle.parts.map((p: { partition: number; partuuid: string }) => [p.partition, p.partuuid])).toEqual([
      [2, table.partitions[1]!.uuid!.toLowerCase()],
      [4, table.partitions[3]!.uuid!.toLowerCase()],
    ]);
    // Each file is exactly its partition: decompressed, byte for byte, and its own fsck is clean.
    for (const [file, index] of [
      ['ab-1.0.0.slot-boot.vfat.xz', 1],
      ['ab-1.0.0.slot-root.ext4.xz', 3],
    ] as const) {
      const raw = join(work, `${file}.raw`);
      execFileSync('sh', ['-c', `xz -dc "$1" > "$2"`, 'sh', join(release, file), raw]);
      const p = table.partitions[index]!;
      const partition = execFileSync(
        'sh',
        ['-c', 'dd if="$1" bs=512 skip="$2" count="$3" status=none | sha256sum', 'sh', join(work, 'ab.img'), String(p.start), String(p.size)],
        {
          encoding: 'utf8',
        },
      );
      expect(`${sha256(raw)}  -\n`).toBe(partition);
      expect(spawnSync(index === 1 ? 'fsck.fat' : 'e2fsck', index === 1 ? ['-n', raw] : ['-fn', raw]).status).toBe(0);
    }
    expect(readFileSync(join(release, 'RELEASE_NOTES.md'), 'utf8')).toContain('update bundle (slot A)');
  });

  it('leaves slot B empty unless asked for a copy', () => {
    const image = join(work, 'ab-empty.img');
    expect(run([root, '--boot-dir', boot, '--out', image, '--layout', 'ab-tryboot', '--seed', 'ab']).code).toBe(0);
    const table = sfdisk(image);
    const fs = checkPartitions(image, table);
    expect(fs.map((f) => f.TYPE ?? 'none')).toEqual(['vfat', 'vfat', 'none', 'ext4', 'none']);
  });

  it('refuses a tree whose boot files are still in the root file system, an existing output, a bad layout: exit 2, nothing written', () => {
    const full = join(work, 'full-root');
    mkdirSync(join(full, 'boot/firmware'), { recursive: true });
    writeFileSync(join(full, 'boot/firmware/config.txt'), 'x');
    const out = join(work, 'refused.img');
    let r = run([full, '--boot-dir', boot, '--out', out]);
    expect([r.code, r.stderr]).toEqual([
      2,
      expect.stringMatching(/boot\/firmware is not empty: the boot files belong in the boot directory.*\[INPUT_INVALID\]/),
    ]);
    r = run([root, '--boot-dir', boot, '--out', join(work, 'pigen.img')]);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/pigen\.img exists \(pass --force to replace it\) \[OUTPUT_EXISTS\]/)]);
    r = run([root, '--boot-dir', boot, '--out', out, '--layout', 'custom', '--set', 'EXPORT_PARTITIONS=root:ext4:auto']);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/needs exactly one boot partition/)]);
    // An fstab that is a link out of the tree (as root, to the host's own) is refused, never followed.
    const linked = join(work, 'linked-root');
    mkdirSync(join(linked, 'etc'), { recursive: true });
    symlinkSync('/etc/fstab', join(linked, 'etc/fstab'));
    const hostFstab = existsSync('/etc/fstab') ? sha256('/etc/fstab') : undefined;
    r = run([linked, '--boot-dir', boot, '--out', out]);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/etc\/fstab is not a regular file \(a symlink or other\).*\[INPUT_INVALID\]/)]);
    expect(existsSync('/etc/fstab') ? sha256('/etc/fstab') : undefined).toBe(hostFstab);
    // The same through a linked directory on the way (etc -> a directory outside the tree).
    const outside = join(work, 'outside-etc');
    mkdirSync(outside);
    writeFileSync(join(outside, 'fstab'), FSTAB);
    const viaDir = join(work, 'linked-dir-root');
    mkdirSync(viaDir);
    symlinkSync(outside, join(viaDir, 'etc'));
    r = run([viaDir, '--boot-dir', boot, '--out', out]);
    expect([r.code, r.stderr]).toEqual([
      2,
      expect.stringMatching(/etc\/fstab leads out of .*linked-dir-root .* through a linked directory.*\[INPUT_INVALID\]/),
    ]);
    expect(readFileSync(join(outside, 'fstab'), 'utf8')).toBe(FSTAB);
    expect(spawnSync('ls', ['-A', work], { encoding: 'utf8' }).stdout).not.toMatch(/refused|partial/);
  });

  it("leaves the boot directory's links out of the FAT, never following them (as root, to any file of the host)", () => {
    const linkedBoot = join(work, 'linked-boot');
    mkdirSync(linkedBoot);
    writeFileSync(join(linkedBoot, 'cmdline.txt'), CMDLINE);
    const secret = join(work, 'host-secret');
    writeFileSync(secret, 'a file of the host\n');
    symlinkSync(secret, join(linkedBoot, 'secret.txt'));
    const out = join(work, 'linked-boot.img');
    const r = run([root, '--boot-dir', linkedBoot, '--out', out, '--seed', 'x']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/linked-boot\/secret\.txt is not a regular file or directory \(a link or other\): left out of the FAT/);
    const boot1 = sfdisk(out).partitions[0]!;
    const listing = execFileSync('mdir', ['-b', '-i', `${out}@@${boot1.start * 512}`, '::'], {
      encoding: 'utf8',
      env: { ...process.env, MTOOLS_SKIP_CHECK: '1' },
    });
    expect(listing).toMatch(/CMDLINE\.TXT|cmdline\.txt/);
    expect(listing).not.toMatch(/secret/i);
  });

  // A build where pi-image is not root reaches the root-owned trees through a prefix (sudo -n), which
  // starts each command with a reset environment: the prefix here does the same (env -i, sudo's
  // secure_path), so the times and settings must reach mkfs and mtools on the command line.
  it('assembles through a root prefix that resets the environment: the same bytes, the tree put back with its owner and mode', async () => {
    const layout = parseExportSettings({}).layout;
    const options = { rootDir: root, bootDir: boot, layout, seed: 'ourbox-mini 2.0.0', epoch: EPOCH, logger: new MemoryLogger() };
    const direct = join(work, 'direct.img');
    const prefixed = join(work, 'prefixed.img');
    chmodSync(join(root, 'etc/fstab'), 0o640);
    chownSync(join(root, 'etc/fstab'), 0, 42);
    onTestFinished(() => {
      chmodSync(join(root, 'etc/fstab'), 0o644);
      chownSync(join(root, 'etc/fstab'), 0, 0);
    });
    await assembleImage({ ...options, output: direct });
    const prefix = ['env', '-i', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];
    await assembleImage({ ...options, output: prefixed, asRoot: prefix });
    expect(sha256(prefixed)).toBe(sha256(direct));
    expect(readFileSync(join(root, 'etc/fstab'), 'utf8')).toBe(FSTAB);
    expect(readFileSync(join(boot, 'cmdline.txt'), 'utf8')).toBe(CMDLINE);
    const st = statSync(join(root, 'etc/fstab'));
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o640, 0, 42]);
  });
});
