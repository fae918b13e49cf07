/**
 * The boot test: an image booted under QEMU (its own root file system, a
 * generic kernel), checked from inside by the probe, judged here. With a
 * DATA label it boots twice: with a second disk holding an ext4 of that
 * label (the fstab's line for it must be mounted from it), and without (the
 * system must still reach multi-user: the line must be `nofail`).
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { registerCleanup } from '../core/cleanup';
import { PiImageError } from '../core/errors';
import { execCapture } from '../core/exec';
import { digestFile, type FileDigest } from '../core/file-digest';
import type { Logger } from '../core/logger';
import { detectCompression } from '../image/compression';
import { cloudInitArguments } from '../image/first-boot';
import { inspectImage } from '../image/inspect';
import { streamImageOnce } from '../image/random-access-image';
import type { BootKit } from './boot-kit';
import type { BootTimes, ProbeReport } from './console-watch';
import { cpioArchive, withParents, type CpioEntry } from './cpio';
import { deviceTimeoutDropIns, TCG_TIMEOUT_SCALE } from './device-timeouts';
import { probeConf } from './probe-scripts';
import { bootMachine, QEMU, qemuVersion, type BootOutcome, type MachineSpec } from './qemu';

export const SMOKE_TEST_SCHEMA_VERSION = 1;
/** A console log longer than this is cut (its start and end kept). */
const MAX_CONSOLE_BYTES = 8 * 1024 * 1024;
const DATA_DISK_MIB = 64;

export interface SmokeTestOptions {
  /** The raw or compressed image to boot. */
  image: string;
  /** Its raw sha256, when a release records it: checked before the boot. */
  expectedRawSha256?: string | undefined;
  /** The version being released: the probe's checks receive it. */
  expectedVersion?: string | undefined;
  /** The kernel and initramfs, for the image's Debian release (its os-release VERSION_CODENAME, when it has one). */
  kit: (codename: string | undefined) => Promise<BootKit>;
  /** A directory of check scripts the probe runs inside the booted system. */
  checksDir?: string | undefined;
  /** Boot with and without a DATA disk of this label. */
  dataLabel?: string | undefined;
  /** Where the DATA disk must be mounted (default: wherever fstab's line for the label says). */
  dataMount?: string | undefined;
  /** QEMU's user-mode network for the guest (DHCP; the host's loopback at 10.0.2.2). */
  network?: boolean | undefined;
  /**
   * Boot this many times more after the others (reboot-1, reboot-2…), each
   * seeing what the boots before wrote: the boots share a writable copy of
   * the image (the image itself is still never changed). For first-boot
   * services, which must not run again, or must run again after a failure.
   */
  reboots?: number | undefined;
  /** Failed units tolerated (units that need Raspberry Pi hardware). */
  allowFailedUnits?: readonly string[];
  timeLimitSeconds?: number;
  stallSeconds?: number;
  accel: 'kvm' | 'tcg';
  /** The accelerator was chosen, not asked for: when KVM cannot start the machine, TCG is used. */
  accelFallback?: boolean;
  cpus?: number;
  memoryMiB?: number;
  /** Where console logs are written: one per boot, `PREFIX.NAME.console.log`. */
  logDir: string;
  logPrefix: string;
  workDir?: string | undefined;
  logger: Logger;
}

export interface CheckResult {
  name: string;
  passed: boolean;
  detail: string;
}

export interface BootResult {
  name: 'boot' | 'with-data-disk' | 'without-data-disk' | `reboot-${number}`;
  dataDisk: boolean;
  passed: boolean;
  /** Why it ended: the probe finished, or the reason it never did. */
  ended: string;
  seconds: number;
  times: BootTimes;
  checks: CheckResult[];
  consoleLog: { file: string; size: number; sha256: string };
  /** The console's last lines, for a failure's message. */
  lastLines: string[];
}

export interface SmokeTestReport {
  schemaVersion: typeof SMOKE_TEST_SCHEMA_VERSION;
  passed: boolean;
  startedAt: string;
  seconds: number;
  image: { file: string; rawSize: number; rawSha256: string };
  /** network: absent in reports from before it could be asked for. */
  machine: { emulator: string; machine: 'virt'; accel: 'kvm' | 'tcg'; cpus: number; memoryMiB: number; cpu: string; network?: boolean };
  kernel: { version: string; package: string; busybox: string; commandLine: string };
  /** Device timeouts of the image's fstab, stretched under emulation (time runs slower there). */
  deviceTimeouts: { scale: number; devices: { device: string; seconds: number }[] };
  expectedVersion: string | null;
  dataLabel: string | null;
  dataMount: string | null;
  boots: BootResult[];
}

/** Files beside the checks that are documentation, not checks. */
const DOCUMENTATION = /^(README|LICEN[CS]E)(\..*)?$|\.(md|txt)$/i;

/**
 * The product's check scripts, as initramfs entries (sorted by name). Every
 * file of the directory is a check, but hidden files and documentation (README,
 * *.md, *.txt): one that cannot run (not executable, a name the probe would
 * mangle, not a regular file) is refused, never silently left out.
 */
async function checkEntries(dir: string | undefined): Promise<CpioEntry[]> {
  if (!dir) return [];
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (e) {
    throw new PiImageError('INPUT_INVALID', `checks directory ${dir} cannot be read: ${(e as Error).message}`, { cause: e });
  }
  const out: CpioEntry[] = [];
  for (const name of names) {
    if (name.startsWith('.') || DOCUMENTATION.test(name)) continue;
    const path = join(dir, name);
    const st = await stat(path);
    if (!st.isFile()) throw new PiImageError('INPUT_INVALID', `check ${path} is not a regular file`);
    if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new PiImageError('INPUT_INVALID', `check ${path}: name it with A-Z a-z 0-9 . _ - only`);
    if ((st.mode & 0o111) === 0) throw new PiImageError('INPUT_INVALID', `check ${path} is not executable (chmod +x it, with its #! line)`);
    if (st.size > 1024 * 1024) throw new PiImageError('INPUT_INVALID', `check ${path} is larger than 1 MiB`);
    out.push({ type: 'file', path: `probe/checks/${name}`, data: await readFile(path), mode: 0o755 });
  }
  if (out.length === 0) throw new PiImageError('INPUT_INVALID', `checks directory ${dir} holds no checks`);
  return out;
}

function endedText(outcome: BootOutcome, limits: { time: number }): string {
  switch (outcome.kind) {
    case 'probe-done':
      return 'the checks ran';
    case 'panic':
      return `the kernel panicked: ${outcome.line}`;
    case 'emergency':
      return `systemd went to emergency mode (${outcome.line}): a unit the boot needs failed, often an fstab line for a device that never appears`;
    case 'init-failed':
      return `the boot test's initramfs failed: ${outcome.reason}`;
    case 'timeout':
      return `the time limit (${limits.time} s) passed before the checks finished`;
    case 'stalled':
      return `the console was silent for ${outcome.seconds} s: the boot stalled`;
    case 'exited':
      return `the machine stopped before the checks finished (QEMU exited with ${outcome.code})`;
  }
}

/** Judges one boot from what the probe reported. */
export function judgeBoot(
  report: ProbeReport,
  outcome: BootOutcome,
  options: {
    dataLabel?: string | undefined;
    dataMount?: string | undefined;
    dataDisk: boolean;
    allowFailedUnits: readonly string[];
    expectChecks: readonly string[];
  },
): CheckResult[] {
  const checks: CheckResult[] = [];
  const done = outcome.kind === 'probe-done';
  checks.push({
    name: 'multi-user',
    passed: done && report.multiUser === 'active',
    detail: done ? `multi-user.target is ${report.multiUser ?? 'unknown'}` : 'the probe never reported',
  });
  if (!done) return checks;
  const failed = report.failedUnits.filter((u) => !options.allowFailedUnits.includes(u));
  checks.push({
    name: 'failed-units',
    passed: failed.length === 0,
    detail:
      failed.length === 0
        ? `no failed units${report.failedUnits.length > 0 ? ` (allowed: ${report.failedUnits.join(', ')})` : ''}`
        : `failed: ${failed.join(', ')}`,
  });
  if (options.dataLabel) {
    if (options.dataDisk) {
      const want = options.dataMount ?? report.dataFstab;
      const ok = report.dataFstab !== undefined && report.dataMounted !== undefined && report.dataMounted === want;
      checks.push({
        name: 'data-disk-mounted',
        passed: ok,
        detail:
          report.dataFstab === undefined
            ? `/etc/fstab has no line for LABEL=${options.dataLabel}`
            : report.dataMounted === undefined
              ? `LABEL=${options.dataLabel} is not mounted (fstab says ${report.dataFstab})`
              : `LABEL=${options.dataLabel} is mounted at ${report.dataMounted}${ok ? '' : `, not at ${want}`}`,
      });
    } else {
      checks.push({
        name: 'data-disk-absent',
        passed: report.multiUser === 'active' && report.dataMounted === undefined,
        detail:
          report.multiUser !== 'active'
            ? `without a LABEL=${options.dataLabel} disk the system did not reach multi-user (${report.multiUser ?? 'unknown'})`
            : `without a LABEL=${options.dataLabel} disk the system reached multi-user${report.dataMounted ? ` but something is mounted as it at ${report.dataMounted}` : ''}`,
      });
    }
  }
  for (const name of options.expectChecks) {
    const c = report.checks.find((x) => x.name === name);
    checks.push({
      name: `check:${name}`,
      passed: c?.exitCode === 0,
      detail: !c ? 'did not report' : c.exitCode === 0 ? 'passed' : `exited with ${c.exitCode}${c.output.length > 0 ? `: ${c.output.join(' | ')}` : ''}`,
    });
  }
  checks.push({
    name: 'jobs-finished',
    passed: report.jobsPending === 0,
    detail:
      report.jobsPending === 0
        ? "every boot job finished (a nofail line's device may still be awaited)"
        : `${report.jobsPending ?? 'an unknown number of'} jobs still queued when the probe stopped waiting${report.pendingJobs.length > 0 ? `: ${report.pendingJobs.join(', ')}` : ''}`,
  });
  return checks;
}

/** A console log file that stops growing at MAX_CONSOLE_BYTES (the rest is counted, not kept). */
class ConsoleLog {
  private readonly out: WriteStream;
  private bytes = 0;
  private dropped = 0;
  constructor(readonly path: string) {
    this.out = createWriteStream(path, { flags: 'w', mode: 0o644 });
  }
  write(text: string): void {
    const b = Buffer.from(text, 'utf8');
    if (this.bytes + b.length > MAX_CONSOLE_BYTES) {
      this.dropped += b.length;
      return;
    }
    this.bytes += b.length;
    this.out.write(b);
  }
  async close(): Promise<FileDigest> {
    if (this.dropped > 0) this.out.write(`\n[pi-image: ${this.dropped} more bytes of console output not kept]\n`);
    await new Promise<void>((resolve, reject) => this.out.end((e?: Error | null) => (e ? reject(e) : resolve())));
    return digestFile(this.path);
  }
}

export async function smokeTest(options: SmokeTestOptions): Promise<SmokeTestReport> {
  const { logger } = options;
  const started = new Date();
  // Inputs first: a checks directory that cannot be used is refused before anything slow starts.
  const checkScripts = await checkEntries(options.checksDir);
  const expectChecks = checkScripts.map((e) => basename(e.path));
  const work = await mkdtemp(join(options.workDir ?? tmpdir(), '.pi-image-boot-'));
  const unregister = registerCleanup(() => rm(work, { recursive: true, force: true }));
  try {
    const compression = await detectCompression(options.image);
    const image = await streamImageOnce(options.image, compression, { logger, workDir: work });
    try {
      const raw = image.pass.raw;
      if (options.expectedRawSha256 && raw.sha256 !== options.expectedRawSha256) {
        throw new PiImageError(
          'FILE_MODIFIED',
          `${options.image}: the raw image's sha256 is ${raw.sha256}, not the ${options.expectedRawSha256} the release records`,
        );
      }
      const inspection = await inspectImage(image.disk);
      const root = inspection.root?.partition;
      if (root === undefined) throw new PiImageError('IMAGE_NOT_DISK', `${options.image}: no root file system found to boot (no ext4 partition with /etc)`);
      const kit = await options.kit(inspection.root?.osRelease?.VERSION_CODENAME);
      let accel = options.accel;
      const timeoutsFor = (a: 'kvm' | 'tcg'): ReturnType<typeof deviceTimeoutDropIns> & { scale: number } => {
        const scale = a === 'kvm' ? 1 : TCG_TIMEOUT_SCALE;
        return { ...deviceTimeoutDropIns(inspection.root?.fstab ?? [], scale), scale };
      };

      const cpus = options.cpus ?? 2;
      const memoryMiB = options.memoryMiB ?? 1024;
      const limits = { timeLimit: options.timeLimitSeconds ?? 300, stallLimit: options.stallSeconds ?? 120 };
      const plan: { name: BootResult['name']; dataDisk: boolean }[] = options.dataLabel
        ? [
            { name: 'with-data-disk', dataDisk: true },
            { name: 'without-data-disk', dataDisk: false },
          ]
        : [{ name: 'boot', dataDisk: false }];
      const reboots = options.reboots ?? 0;
      for (let i = 1; i <= reboots; i++) plan.push({ name: `reboot-${i}`, dataDisk: plan[plan.length - 1]!.dataDisk });
      // Boots that must see each other's writes share a copy of the raw image, attached writable: the
      // sparse copy a compressed image was unpacked into, else a sparse copy of the raw file.
      let systemDisk = image.disk.name;
      if (reboots > 0 && compression === 'none') {
        systemDisk = join(work, 'system.img');
        await execCapture('cp', ['--sparse=always', image.disk.name, systemDisk], { logger });
      }
      let dataDisk: string | undefined;
      if (options.dataLabel) {
        dataDisk = join(work, 'data.img');
        await writeFile(dataDisk, '');
        await truncate(dataDisk, DATA_DISK_MIB * 1024 * 1024);
        await execCapture('mkfs.ext4', ['-q', '-F', '-L', options.dataLabel, dataDisk], { logger });
      }
      // The image's own first-boot arguments (cloud-init's ds=nocloud;i=ID of a customised image) go onto the
      // test's command line, so the boot applies what a Raspberry Pi would; its root=, console= and init= do not.
      const firstBoot = cloudInitArguments(inspection.boot?.cmdlineTxt ?? '');
      if (firstBoot.length > 0) logger.info(`first-boot arguments from the image's cmdline.txt: ${firstBoot.join(' ')}`);
      const commandLine = (nonce: string, scale: number): string =>
        `console=ttyAMA0 panic=-1 ignore_loglevel printk.devkmsg=on pi_image.root=/dev/vda${root} pi_image.nonce=${nonce} systemd.show_status=1` +
        (scale > 1 ? ` systemd.default_timeout_start_sec=${90 * scale} systemd.default_device_timeout_sec=${90 * scale}` : '') +
        firstBoot.map((a) => ` ${a}`).join('');
      const boots: BootResult[] = [];
      for (const step of plan) {
        const nonce = randomBytes(8).toString('hex');
        const conf: CpioEntry = {
          type: 'file',
          path: 'probe/probe.conf',
          data: probeConf({
            nonce,
            expectedVersion: options.expectedVersion ?? '',
            dataLabel: options.dataLabel ?? '',
            dataDisk: options.dataLabel ? (step.dataDisk ? 'present' : 'absent') : '',
            boot: step.name,
            jobWait: Math.min(120, limits.timeLimit / 3),
          }),
        };
        const initrd = join(work, `initrd-${step.name}`);
        const machine = async (a: 'kvm' | 'tcg'): Promise<MachineSpec> => {
          // Time runs slower under emulation: the fstab's device timeouts (drop-ins) and the start timeouts stretch with it.
          await writeFile(initrd, Buffer.concat([await readFile(kit.initrd), cpioArchive(withParents([conf, ...checkScripts, ...timeoutsFor(a).entries]))]));
          return {
            kernel: kit.kernel,
            initrd,
            append: commandLine(nonce, timeoutsFor(a).scale),
            systemDisk,
            systemDiskWritable: reboots > 0,
            network: options.network === true,
            dataDisk: step.dataDisk ? dataDisk : undefined,
            accel: a,
            cpus,
            memoryMiB,
          };
        };
        logger.info(`booting ${basename(options.image)}${plan.length > 1 ? ` (${step.name})` : ''} under ${accel === 'kvm' ? 'KVM' : 'TCG emulation'}`);
        const logPath = join(options.logDir, `${options.logPrefix}.${step.name}.console.log`);
        const log = new ConsoleLog(logPath);
        const boot = async (): Promise<Awaited<ReturnType<typeof bootMachine>>> => {
          try {
            return await bootMachine(await machine(accel), nonce, limits, (t) => log.write(t), logger);
          } catch (e) {
            if (!(accel === 'kvm' && options.accelFallback && e instanceof PiImageError && e.code === 'EXEC_FAILED')) throw e;
            logger.warn(`KVM could not start the machine (${e.message}); booting under TCG emulation instead`);
            accel = 'tcg';
            return bootMachine(await machine(accel), nonce, limits, (t) => log.write(t), logger);
          }
        };
        const run = await boot().catch(async (e: unknown) => {
          await log.close().catch(() => undefined);
          throw e;
        });
        const logDigest = await log.close();
        const checks = judgeBoot(run.watch.report, run.outcome, {
          dataLabel: options.dataLabel,
          dataMount: options.dataMount,
          dataDisk: step.dataDisk,
          allowFailedUnits: options.allowFailedUnits ?? [],
          expectChecks,
        });
        const passed = checks.every((c) => c.passed);
        boots.push({
          name: step.name,
          dataDisk: step.dataDisk,
          passed,
          ended: endedText(run.outcome, { time: limits.timeLimit }),
          seconds: Math.round(run.seconds * 10) / 10,
          times: run.watch.times,
          checks,
          consoleLog: { file: basename(logPath), ...logDigest },
          // QEMU's own "terminating on signal" (we stopped it) is not the image's last word.
          lastLines: run.watch.tail.filter((l) => !l.startsWith(`${QEMU}: terminating on signal`)).slice(-15),
        });
        logger.info(`${step.name}: ${passed ? 'passed' : 'FAILED'} in ${run.seconds.toFixed(1)} s (${endedText(run.outcome, { time: limits.timeLimit })})`);
        if (!passed) break;
      }
      return {
        schemaVersion: SMOKE_TEST_SCHEMA_VERSION,
        passed: boots.length === plan.length && boots.every((b) => b.passed),
        startedAt: started.toISOString(),
        seconds: Math.round((Date.now() - started.getTime()) / 100) / 10,
        image: { file: basename(options.image), rawSize: raw.size, rawSha256: raw.sha256 },
        machine: {
          emulator: await qemuVersion(logger),
          machine: 'virt',
          accel,
          cpus,
          memoryMiB,
          cpu: accel === 'kvm' ? 'host' : 'cortex-a72',
          network: options.network === true,
        },
        kernel: {
          version: kit.kernelVersion,
          package: kit.source.kernel,
          busybox: kit.source.busybox,
          commandLine: commandLine('NONCE', timeoutsFor(accel).scale),
        },
        deviceTimeouts: { scale: timeoutsFor(accel).scale, devices: timeoutsFor(accel).stretched },
        expectedVersion: options.expectedVersion ?? null,
        dataLabel: options.dataLabel ?? null,
        dataMount: options.dataMount ?? null,
        boots,
      };
    } finally {
      await image.close();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
    unregister();
  }
}

/** The report's failure, as one message: which boot, why, which checks, the console's last lines. */
export function failureMessage(report: SmokeTestReport, image: string): string {
  const bad = report.boots.find((b) => !b.passed);
  if (!bad) return `${image}: the boot test did not finish`;
  const failed = bad.checks.filter((c) => !c.passed).map((c) => `  ${c.name}: ${c.detail}`);
  return [
    `${image} failed the boot test${report.boots.length > 1 || bad.name !== 'boot' ? ` (${bad.name})` : ''}: ${bad.ended}`,
    ...failed,
    `  last console lines (${bad.consoleLog.file}):`,
    ...bad.lastLines.map((l) => `    ${l}`),
  ].join('\n');
}
