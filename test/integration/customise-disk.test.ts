/**
 * First-boot settings on a flashed disk (real loop devices): `flash` with
 * settings writes them once the image is on the disk and read back;
 * `customise --disk` replaces them; both refuse, with nothing written, what
 * flash refuses (the DATA disk above all) and settings that would not be
 * applied. What is on the disk is read back by mtools from the device itself
 * and checked by fsck.fat. Every loop device is detached, also on failure.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runPiImage } from '../support/cli';
import { CLOUD_INIT_ROOT } from '../support/first-boot-roots';
import { deviceSha256, LoopDevices, loopDevicesUnavailable, makeDataDisk } from '../support/loop-devices';
import { makeRelease } from '../support/release-fixture';
import { SMALL_IMAGE_TOOLS } from '../support/small-image';
import { missingTools, sh, skipReason } from '../support/tools';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC1/dGVzdGtleXRlc3RrZXl0ZXN0a2V5dGVzdGtleQ alice@laptop';
const unavailable = loopDevicesUnavailable() ?? (missingTools([...SMALL_IMAGE_TOOLS, 'mtype', 'mdir', 'fsck.fat']).join(', ') || undefined);
if (unavailable) skipReason('customising flashed disks on loop devices', unavailable);

describe.skipIf(unavailable !== undefined)('first-boot settings on a flashed disk', () => {
  const work = mkdtempSync(join(tmpdir(), 'customise-disk-'));
  const loops = new LoopDevices();
  let cloudRelease: string;
  let plainRelease: string;
  let dataDisk: string;
  let dataHash: string;
  const keyFile = join(work, 'id.pub');
  writeFileSync(keyFile, `${KEY}\n`);

  const disk = (name: string, mib: number): string => {
    const file = join(work, `${name}.disk`);
    execFileSync('truncate', ['-s', `${mib}M`, file]);
    return loops.attach(file);
  };
  /** The disk's first partition, read through mtools from the device itself, and fsck.fat over a copy of it. */
  const fatOn = (device: string) => {
    const table = JSON.parse(sh('sfdisk', ['--json', device])) as { partitiontable: { partitions: { start: number; size: number }[] } };
    const p = table.partitiontable.partitions[0]!;
    const at = `${device}@@${p.start * 512}`;
    const env = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
    return {
      // mtools says on stderr that a loop device has no geometry: not a failure.
      type: (name: string) => execFileSync('mtype', ['-i', at, `::${name}`], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] }),
      has: (name: string) => spawnSync('mdir', ['-b', '-i', at, `::${name}`], { env }).status === 0,
      fsck: () => {
        const copy = join(work, 'fat.img');
        execFileSync('dd', [`if=${device}`, `of=${copy}`, 'bs=512', `skip=${p.start}`, `count=${p.size}`, 'status=none']);
        return spawnSync('fsck.fat', ['-n', copy], { encoding: 'utf8' });
      },
    };
  };

  beforeAll(async () => {
    cloudRelease = await makeRelease(work, 'cloud', { rootMiB: 24, rootFiles: CLOUD_INIT_ROOT });
    plainRelease = await makeRelease(work, 'plain', { rootMiB: 24 });
    dataDisk = disk('data', 64);
    makeDataDisk(dataDisk);
    dataHash = deviceSha256(dataDisk);
  });
  afterEach(() => {
    // In every test: the DATA disk is byte for byte what it was.
    expect(deviceSha256(dataDisk)).toBe(dataHash);
  });
  afterAll(() => {
    loops.release();
    rmSync(work, { recursive: true, force: true });
  });

  it('flash writes the settings after the image is on the disk and read back; customise --disk replaces them', () => {
    const system = disk('system', 128);
    const receiptFile = join(work, 'receipt.json');
    const r = runPiImage([
      'flash',
      cloudRelease,
      system,
      '--yes',
      '--hostname',
      'node-7',
      '--user',
      'alice',
      '--ssh-key-file',
      keyFile,
      '--ssh',
      '--instance-id',
      'flash-1',
      '--receipt',
      receiptFile,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/read back: passed[\s\S]*cloudinit-rpi customisation in partition 1: user-data, meta-data, cmdline\.txt \(read back\)/);
    const receipt = JSON.parse(sh('cat', [receiptFile])) as {
      verification: { readBack: string };
      customisation: { format: string; files: { name: string }[] };
    };
    expect(receipt.verification.readBack).toBe('passed');
    expect(receipt.customisation).toMatchObject({ format: 'cloudinit-rpi', detected: 'cloudinit-rpi', partition: 1 });
    let fat = fatOn(system);
    expect(parse(fat.type('user-data'))).toMatchObject({ hostname: 'node-7', users: [{ name: 'alice', ssh_authorized_keys: [KEY] }] });
    expect(parse(fat.type('meta-data'))).toEqual({ 'instance-id': 'flash-1' });
    expect(fat.type('cmdline.txt')).toMatch(/ rootwait ds=nocloud;i=flash-1\n$/);
    expect(fat.fsck().status).toBe(0);

    // Customised again on the disk, with a whole user-data: the earlier id is refused, a new one replaces it.
    const userData = join(work, 'user-data');
    writeFileSync(userData, '#cloud-config\nhostname: node-8\n');
    const same = runPiImage(['customise', '--disk', system, '--user-data', userData, '--instance-id', 'flash-1']);
    expect([same.code, same.stderr]).toEqual([2, expect.stringMatching(/instance id: flash-1 is already the instance id on .*loop\d+/)]);
    const again = runPiImage(['customise', '--disk', system, '--user-data', userData, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ format: 'cloudinit-rpi', files: [{ name: 'user-data' }, { name: 'meta-data' }, { name: 'cmdline.txt' }] });
    fat = fatOn(system);
    expect(fat.type('user-data')).toBe('#cloud-config\nhostname: node-8\n');
    expect(fat.type('cmdline.txt')).toMatch(/ rootwait ds=nocloud;i=pi-image-[0-9a-f]{12}\n$/);
    expect(fat.fsck().status).toBe(0);
  });

  it('customise --disk refuses the DATA disk, a mounted disk, a partition and a file, each with its code, nothing written', () => {
    const refused = (args: string[], code: string, message: RegExp): void => {
      const r = runPiImage(['customise', ...args, '--hostname', 'x1']);
      expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(message)]);
      expect(r.stderr).toContain(`[${code}]`);
    };
    refused(['--disk', dataDisk], 'DISK_PROTECTED', /refusing to write .*loop\d+ .*partition 1 has the protected file system label OURBOX_DATA/);

    const busy = disk('busy', 64);
    execFileSync('mkfs.ext4', ['-q', '-F', busy]);
    const mnt = join(work, 'mnt');
    mkdirSync(mnt);
    loops.mount(busy, mnt);
    refused(['--disk', busy], 'DISK_IN_USE', new RegExp(`mounted: ${busy} on ${mnt}`));

    const parts = disk('parts', 64);
    execFileSync('sfdisk', ['-q', parts], { input: 'label: dos\n\nstart=2048, size=20480, type=83\n' });
    execFileSync('partx', ['--update', parts]);
    refused(['--disk', `${parts}p1`], 'DISK_NOT_WHOLE', /not a whole disk/);

    writeFileSync(join(work, 'file'), 'x');
    refused(['--disk', join(work, 'file')], 'DISK_NOT_BLOCK_DEVICE', /is not a block device/);
    const usage = runPiImage(['customise', join(work, 'file'), '--disk', dataDisk, '--hostname', 'x1']);
    expect([usage.code, usage.stderr]).toEqual([2, expect.stringMatching(/exactly one IMAGE, --disk DISK or --serial SERIAL/)]);
  });

  it('flash refuses settings that would not be applied before writing anything', () => {
    const target = disk('untouched', 128);
    const before = deviceSha256(target);
    const bad = join(work, 'bad-user-data');
    writeFileSync(bad, '#cloud-config\nusers: [\n');
    const cases: [string, string[], RegExp][] = [
      [cloudRelease, ['--user-data', bad], /bad-user-data: not valid YAML at line \d/],
      [cloudRelease, ['--hostname', 'not_a_host'], /hostname: "not_a_host" is not a host name/],
      [plainRelease, ['--hostname', 'node-9'], /takes no first-boot customisation this tool writes \(init_format none/],
      [cloudRelease, ['--network-config', bad], /--network-config goes with --user-data/],
    ];
    for (const [release, extra, message] of cases) {
      const r = runPiImage(['flash', release, target, '--yes', ...extra]);
      expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(message)]);
    }
    expect(deviceSha256(target)).toBe(before);
  });
});
