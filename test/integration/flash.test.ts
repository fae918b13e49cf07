/**
 * `pi-image flash` on real loop devices: a SYSTEM disk, a DATA disk holding
 * an ext4 OURBOX_DATA, and the disks each refusal needs. Every test checks
 * that the DATA disk's bytes did not change; every loop device is detached
 * and every mount undone, also when a test fails.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../../src/lib/core/logger';
import { DEFAULT_PROTECTED_LABELS } from '../../src/lib/device/disk-policy';
import { flash } from '../../src/lib/device/flash';
import { openFlashSource } from '../../src/lib/device/flash-source';
import { runActionBundle } from '../support/action-bundle';
import { CLI, findNode20, runPiImage } from '../support/cli';
import { deviceSha256, LoopDevices, loopDevicesUnavailable, makeDataDisk } from '../support/loop-devices';
import { makeRelease, makeSignedRelease } from '../support/release-fixture';
import { makeSmallImage, SMALL_IMAGE_TOOLS } from '../support/small-image';
import { missingTools, skipReason } from '../support/tools';

const MiB = 1024 * 1024;
const unavailable = loopDevicesUnavailable() ?? (missingTools([...SMALL_IMAGE_TOOLS, 'xz', 'cmp', 'truncate', 'script']).join(', ') || undefined);
if (unavailable) skipReason('flash on loop devices', unavailable);
const node20 = findNode20();

describe.skipIf(unavailable !== undefined)('pi-image flash on loop devices', () => {
  const work = mkdtempSync(join(tmpdir(), 'flash-'));
  const loops = new LoopDevices();
  let release: string;
  let rawImage: string;
  let dataDisk: string;
  let dataHash: string;

  /** A fresh disk file of `mib` MiB, attached; filled with a pattern when `garbage`, else zeros. */
  const disk = (name: string, mib: number, options: { garbage?: boolean; readOnly?: boolean } = {}): string => {
    const file = join(work, `${name}.disk`);
    execFileSync('truncate', ['-s', `${mib}M`, file]);
    if (options.garbage) {
      const fd = openSync(file, 'r+');
      try {
        const block = Buffer.alloc(MiB, 0xa5);
        for (let i = 0; i < mib; i++) writeSync(fd, block, 0, MiB, i * MiB);
      } finally {
        closeSync(fd);
      }
    }
    return loops.attach(file, options);
  };
  const flashCli = (args: string[], options: { node?: string } = {}) => runPiImage(['flash', ...args], options);
  /** A release of some 200 MiB (random data: slow to decompress), made once, for the tests that stop a flash half-way. */
  let big: Promise<string> | undefined;
  const bigRelease = (): Promise<string> => (big ??= makeRelease(work, 'big', { randomMiB: 96, rootMiB: 160 }));
  /** Whether the root file system's superblock of `release`'s image has reached the disk file `backing`. */
  const rootLanded = (releaseDir: string, backing: string): (() => boolean) => {
    const head = execFileSync('sh', ['-c', 'xz -dc "$1" | head -c 512', 'sh', join(releaseDir, 'appliance.img.xz')], { maxBuffer: 1024 });
    const magic = head.readUInt32LE(446 + 16 + 8) * 512 + 1024 + 56;
    return () => {
      const fd = openSync(backing, 'r');
      try {
        const b = Buffer.alloc(2);
        readSync(fd, b, 0, 2, magic);
        return b.readUInt16LE(0) === 0xef53;
      } finally {
        closeSync(fd);
      }
    };
  };
  /** Runs the CLI and sends `signal` as soon as `ready()`; resolves with how it ended. */
  const stopWhen = async (args: string[], ready: () => boolean, signal: NodeJS.Signals) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve, reject) => {
      let sent = false;
      const poll = setInterval(() => {
        if (!sent && ready()) {
          sent = true;
          child.kill(signal);
        }
      }, 5);
      child.on('exit', (code, sig) => {
        clearInterval(poll);
        resolve({ code, signal: sig, stderr });
      });
      child.on('error', reject);
    });
  };

  beforeAll(async () => {
    release = await makeRelease(work, 'release', { rootMiB: 24 });
    rawImage = join(work, 'raw.img');
    execFileSync('sh', ['-c', 'xz -dc "$1" > "$2"', 'sh', join(release, 'appliance.img.xz'), rawImage]);
    dataDisk = disk('data', 64);
    makeDataDisk(dataDisk);
    writeFileSync(join(work, 'customer-data.txt'), 'photos');
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

  const refused = (args: string[], code: string, message: RegExp, untouched: string[] = []): void => {
    const before = untouched.map(deviceSha256);
    const r = flashCli([...args, '--yes']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`[${code}]`);
    expect(r.stderr).toMatch(message);
    expect(untouched.map(deviceSha256)).toEqual(before);
  };

  it('refuses the DATA disk, however it is named, and says which disk and why', () => {
    refused(
      [release, dataDisk],
      'DISK_PROTECTED',
      new RegExp(
        `refusing to write ${dataDisk} \\(no model, serial none, 64\\.0 MiB, loop on .*data\\.disk\\): partition 1 has the protected file system label OURBOX_DATA`,
      ),
    );
    const byId = join(work, 'by-id');
    mkdirSync(byId);
    symlinkSync(dataDisk, join(byId, 'nvme-Samsung_SSD_980_S64DNX0R000001'));
    refused([release, join(byId, 'nvme-Samsung_SSD_980_S64DNX0R000001')], 'DISK_PROTECTED', /OURBOX_DATA/);
    // A label given on the command line protects a disk too, on a whole-disk file system.
    const backup = disk('backup', 64);
    execFileSync('mkfs.ext4', ['-q', '-F', '-L', 'BACKUP', backup]);
    refused([release, backup, '--protect-label', 'backup'], 'DISK_PROTECTED', /the whole disk has the protected file system label BACKUP/, [backup]);
  });

  it('refuses a partition, a mounted disk, a read-only disk, a disk too small, a file and a missing disk', () => {
    const system = disk('parts', 128);
    execFileSync('sfdisk', ['-q', system], { input: 'label: dos\n\nstart=2048, size=20480, type=83\n' });
    execFileSync('partx', ['--update', system]);
    refused([release, `${system}p1`], 'DISK_NOT_WHOLE', /partition loop\d+p1 of loop\d+, not a whole disk/);

    const busy = disk('busy', 64);
    execFileSync('mkfs.ext4', ['-q', '-F', busy]);
    const mnt = join(work, 'mnt');
    mkdirSync(mnt);
    loops.mount(busy, mnt);
    refused([release, busy], 'DISK_IN_USE', new RegExp(`mounted: ${busy} on ${mnt}`));

    const readOnly = disk('ro', 128, { readOnly: true });
    refused([release, readOnly], 'DISK_READ_ONLY', /the kernel has it read-only/, [readOnly]);

    const small = disk('small', 32);
    refused([release, small], 'DISK_TOO_SMALL', /holds 33554432 bytes; the image needs \d+/, [small]);

    writeFileSync(join(work, 'not-a-disk'), 'x');
    refused([release, join(work, 'not-a-disk')], 'DISK_NOT_BLOCK_DEVICE', /is not a block device/);
    refused([release, '/dev/loop-does-not-exist'], 'DISK_NOT_FOUND', /no such disk/);
  });

  it('asks before writing: without --yes and off a terminal nothing is written', () => {
    const system = disk('ask', 128, { garbage: true });
    const before = deviceSha256(system);
    const r = flashCli([release, system]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/\[CONFIRMATION_REQUIRED\]: not on a terminal|not on a terminal: pass --yes/);
    expect(r.stderr).toContain('everything on it will be lost');
    expect(deviceSha256(system)).toBe(before);
  });

  it('on a terminal, asks for the disk to be named back: a wrong answer writes nothing, the right one writes', () => {
    const system = disk('tty', 128, { garbage: true });
    const before = deviceSha256(system);
    const name = system.replace('/dev/', '');
    // script(1) gives the CLI a real pseudo-terminal; what we type goes to its standard input.
    const onTerminal = (answer: string) =>
      spawnSync('script', ['-qec', `"${process.execPath}" "${CLI}" flash "${release}" "${system}"`, '/dev/null'], { input: `${answer}\n`, encoding: 'utf8' });
    const wrong = onTerminal('loop999');
    expect(wrong.status, wrong.stdout).toBe(2);
    expect(wrong.stdout).toContain(`type the disk's name (${name}) to write it:`);
    expect(wrong.stdout).toMatch(/"loop999" is not loop\d+: nothing written.*\[CONFIRMATION_REQUIRED\]/);
    expect(deviceSha256(system)).toBe(before);
    const right = onTerminal(name);
    expect(right.status, right.stdout).toBe(0);
    expect(right.stdout).toMatch(/read back: passed/);
  });

  it('flashes a release: mapped ranges are the image, unmapped ones untouched, labels right, a receipt written', () => {
    const system = disk('system', 128, { garbage: true });
    const receipt = join(work, 'receipt.json');
    const r = flashCli([release, system, '--yes', '--receipt', receipt]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/flashed appliance 1\.2\.3 onto \/dev\/loop\d+/);
    expect(r.stdout).toMatch(/read back: passed/);
    const got = JSON.parse(readFileSync(receipt, 'utf8')) as {
      written: { bytes: number; ranges: number };
      verification: { readBack: string; partitions: { label: string | null }[] };
      source: { checkedAgainst: string };
      target: { path: string };
    };
    expect(got).toMatchObject({ source: { checkedAgainst: 'manifest' }, target: { path: system }, verification: { readBack: 'passed' } });
    expect(got.verification.partitions.map((p) => p.label)).toEqual(['bootfs', 'rootfs']);
    // The block map's ranges hold the image's bytes; a stretch the image leaves empty kept the old pattern (not written).
    const image = readFileSync(rawImage);
    const onDisk = readFileSync(system).subarray(0, image.length);
    const bmap = readFileSync(join(release, 'appliance.bmap'), 'utf8');
    let checked = 0;
    for (const m of bmap.matchAll(/<Range chksum="[0-9a-f]{64}">\s*(\d+)(?:-(\d+))?\s*<\/Range>/g)) {
      const first = Number(m[1]) * 4096;
      const last = (Number(m[2] ?? m[1]) + 1) * 4096;
      expect(onDisk.subarray(first, last).equals(image.subarray(first, last)), `range ${m[1]}`).toBe(true);
      checked++;
    }
    expect(checked).toBe(got.written.ranges);
    expect(got.written.bytes).toBeLessThan(image.length / 2);
    expect(onDisk.subarray(image.length - 4096).every((b) => b === 0xa5)).toBe(true);
  });

  it('with --zero-unmapped, the whole image span reads back as the image, zeros included', () => {
    const system = disk('zeroed', 128, { garbage: true });
    const r = flashCli([release, system, '--yes', '--zero-unmapped', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ written: { zeroedFirst: true } });
    execFileSync('cmp', ['-n', String(readFileSync(rawImage).length), rawImage, system]);
  });

  it("wipes a stale backup GPT of an earlier, larger layout; moves a GPT image's backup to the real end", () => {
    const system = disk('stale', 256);
    execFileSync('sfdisk', ['-q', system], { input: 'label: gpt\n\nsize=100M, type=linux\n' });
    expect(
      readFileSync(system)
        .subarray(256 * MiB - 512, 256 * MiB - 504)
        .toString('latin1'),
    ).toBe('EFI PART');
    expect(flashCli([release, system, '--yes']).code).toBe(0);
    expect(
      readFileSync(system)
        .subarray(256 * MiB - 512, 256 * MiB - 504)
        .toString('latin1'),
    ).not.toBe('EFI PART');
    expect(execFileSync('blkid', ['-p', '-o', 'export', system], { encoding: 'utf8' })).toMatch(/PTTYPE=dos/);

    const gpt = join(work, 'gpt');
    mkdirSync(gpt);
    makeSmallImage(join(gpt, 'appliance.img'), { gpt: true });
    const onGpt = disk('gpt-target', 256);
    const r = flashCli([join(gpt, 'appliance.img'), onGpt, '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ written: { gptBackupMoved: true }, source: { checkedAgainst: 'nothing' } });
    const verify = spawnSyncText('sfdisk', ['--verify', onGpt]);
    expect(verify.stderr).toBe('');
    expect(verify.stdout).toContain('No errors detected.');
  });

  it('killed mid-write, leaves no partition table: nothing that boots or mounts half-written', async () => {
    const big = await bigRelease();
    const system = disk('killed', 256);
    execFileSync('sfdisk', ['-q', system], { input: 'label: dos\n\nstart=2048, type=83\n' });
    // Killed as soon as the root file system's superblock (early in the image, after the held-back first MiB) is on the disk.
    const landed = rootLanded(big, join(work, 'killed.disk'));
    const { signal, stderr } = await stopWhen(['flash', big, system, '--yes'], landed, 'SIGKILL');
    expect(signal, `killed while writing, not done: ${stderr}`).toBe('SIGKILL');
    expect(stderr).not.toMatch(/^written:/m);
    const head = readFileSync(system).subarray(0, MiB);
    expect(head.every((b) => b === 0)).toBe(true);
    expect(spawnSyncText('blkid', ['-p', '-o', 'export', system]).stdout).not.toMatch(/PTTYPE/);
    // Part of the image did reach the disk: the kill came mid-way, not before the first write.
    expect(landed()).toBe(true);
  });

  it('SIGINT while writing a pulled release: exit 130, the pulled copy removed, no partition table left', async () => {
    const layout = join(work, 'big-layout');
    expect(runPiImage(['publish', await bigRelease(), `oci:${layout}`, '-q']).code).toBe(0);
    const pulls = join(work, 'big-pulls');
    mkdirSync(pulls);
    const system = disk('interrupted', 256);
    execFileSync('sfdisk', ['-q', system], { input: 'label: dos\n\nstart=2048, type=83\n' });
    const landed = rootLanded(await bigRelease(), join(work, 'interrupted.disk'));
    const r = await stopWhen(['flash', `oci:${layout}:1.2.3`, system, '--yes', '--tmpdir', pulls], landed, 'SIGINT');
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain('SIGINT: stopping; removing partial output');
    expect(r.stderr).not.toMatch(/error:/);
    expect(readdirSync(pulls)).toEqual([]);
    expect(
      readFileSync(system)
        .subarray(0, MiB)
        .every((b) => b === 0),
    ).toBe(true);
    expect(spawnSyncText('blkid', ['-p', '-o', 'export', system]).stdout).not.toMatch(/PTTYPE/);
  });

  it.each([
    ['a release, in its last mapped range', 'corrupt', (): string => release, /read back differ from what was written from .*appliance\.img\.xz \(sha256/],
    ['a release, in the partition table area', 'corrupt-head', (): string => release, /bytes 0–\d+ read back differ .*\(the partition table area\)/],
    [
      'a bare .img without a block map',
      'corrupt-bare',
      (): string => {
        const dir = join(work, 'bare-raw');
        mkdirSync(dir, { recursive: true });
        const raw = join(dir, 'appliance.img');
        writeFileSync(raw, spawnSync('xz', ['-dc', join(release, 'appliance.img.xz')], { maxBuffer: 1 << 30 }).stdout);
        return raw;
      },
      /read back differ from what was written from .*appliance\.img \(sha256/,
    ],
  ])('read-back catches a corruption injected between write and verify: %s', async (_what, name, input, message) => {
    const file = join(work, `${name}.disk`);
    const system = disk(name, 128);
    const logger = new MemoryLogger();
    const source = await openFlashSource(input(), { logger, requireSignature: false });
    const bmap = readFileSync(join(release, 'appliance.bmap'), 'utf8');
    const lastRange = [...bmap.matchAll(/<Range chksum="[0-9a-f]{64}">\s*(\d+)(?:-(\d+))?\s*<\/Range>/g)].at(-1)!;
    // The MBR's boot code area for the head case (nothing reads it); else inside the last mapped range.
    const offset = name === 'corrupt-head' ? 100 : Number(lastRange[1]) * 4096 + 100;
    const error = await flash({
      source,
      target: { path: system },
      policy: { protectedLabels: DEFAULT_PROTECTED_LABELS, protectedSerials: [] },
      confirm: () => Promise.resolve(),
      verify: true,
      zeroUnmapped: false,
      logger,
      onWritten: () => {
        // Behind the disk's back: one byte changed in the backing file.
        const fd = openSync(file, 'r+');
        try {
          const b = Buffer.alloc(1);
          b[0] = 0x5a;
          writeSync(fd, b, 0, 1, offset);
        } finally {
          closeSync(fd);
        }
        return Promise.resolve();
      },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DISK_VERIFY_FAILED', message: expect.stringMatching(message) });
    await source.cleanup();
  });

  it('a signed release is verified first: a tampered image is refused before a byte is written', async () => {
    const { release: signed, trustedRoot } = await makeSignedRelease(work, 'signed');
    const signer = ['--repository', 'acme/appliance', '--signer-workflow', 'acme/appliance/.github/workflows/release.yml', '--trusted-root', trustedRoot];
    const system = disk('signed', 128, { garbage: true });
    const ok = flashCli([signed, system, '--yes', '--json', ...signer]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ source: { checkedAgainst: 'signature', signer: { sourceRepository: 'https://github.com/acme/appliance' } } });

    const other = disk('tampered', 128, { garbage: true });
    const before = deviceSha256(other);
    const image = join(signed, 'appliance.img.xz');
    writeFileSync(image, Buffer.concat([readFileSync(image), Buffer.from([0])]));
    const r = flashCli([signed, other, '--yes', ...signer]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/appliance\.img\.xz .* was modified after signing.*\[FILE_MODIFIED\]/);
    expect(deviceSha256(other)).toBe(before);

    const unsigned = flashCli([release, other, '--yes', '--require-signature', ...signer]);
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toContain('[SIGNATURE_MISSING]');
    expect(deviceSha256(other)).toBe(before);
  });

  it('flashes from an OCI layout (pulled first, digests checked) and from a bare .img.xz with its .bmap, and cleans up', () => {
    const layout = join(work, 'layout');
    expect(runPiImage(['publish', release, `oci:${layout}`, '-q']).code).toBe(0);
    const pulls = join(work, 'pulls');
    mkdirSync(pulls);
    const system = disk('oci', 128);
    const r = flashCli([`oci:${layout}:1.2.3`, system, '--yes', '--tmpdir', pulls]);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(pulls)).toEqual([]);

    const bare = join(work, 'bare');
    mkdirSync(bare);
    writeFileSync(join(bare, 'appliance.img.xz'), readFileSync(join(release, 'appliance.img.xz')));
    writeFileSync(join(bare, 'appliance.bmap'), readFileSync(join(release, 'appliance.bmap')));
    const bareDisk = disk('bare', 128);
    const b = flashCli([join(bare, 'appliance.img.xz'), bareDisk, '--yes', '--json']);
    expect(b.code, b.stderr).toBe(0);
    expect(JSON.parse(b.stdout)).toMatchObject({ source: { checkedAgainst: 'nothing', bmap: join(bare, 'appliance.bmap') } });
    expect(b.stderr).toMatch(/is a bare image: nothing to check its bytes against but its block map/);
  });

  it('the flash action bundle, run as the runner runs it: flashes, sets outputs and a summary; refuses the DATA disk with a failed step', async () => {
    const system = disk('action', 128);
    const run = (inputs: Record<string, string>) => runActionBundle('flash', inputs, { work });
    const ok = run({ source: release, target: system, yes: 'true' });
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.outputs).toMatchObject({ device: system, 'read-back': 'passed', receipt: join(work, 'flash-receipt.json') });
    expect(JSON.parse(readFileSync(ok.outputs.receipt!, 'utf8'))).toMatchObject({ target: { path: system } });
    expect(ok.summary).toContain('Flashed `appliance 1.2.3`');

    const unconfirmed = run({ source: release, target: system });
    expect(unconfirmed.code).toBe(1);
    expect(unconfirmed.stdout).toMatch(/::error::bad input: input yes is not true: .* was not written \[CONFIRMATION_REQUIRED\]/);
    const data = run({ source: release, target: dataDisk, yes: 'true' });
    expect(data.code).toBe(1);
    expect(data.stdout).toMatch(/::error::bad input: refusing to write .*protected file system label OURBOX_DATA[^\n]*\[DISK_PROTECTED\]/);
  });

  it.skipIf(!node20)("runs on the device's Node 20", () => {
    const system = disk('node20', 128);
    const r = flashCli([release, system, '--yes'], { node: node20! });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/read back: passed/);
    expect(existsSync(system)).toBe(true);
  });
});

function spawnSyncText(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
