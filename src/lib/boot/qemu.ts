/**
 * One boot of an image under qemu-system-aarch64's `virt` machine: the
 * command line (pure), and the run, its console watched until the probe is
 * done, the boot fails, the console goes quiet for too long, or the time
 * limit passes. The image is attached with `snapshot=on`: every write goes
 * to a temporary overlay, the file itself is never changed (boots that must
 * see each other's writes get a copy of it, attached writable).
 */
import { accessSync, constants } from 'node:fs';
import { arch } from 'node:os';
import { PiImageError } from '../core/errors';
import { execCapture, execFollow } from '../core/exec';
import type { Logger } from '../core/logger';
import { ConsoleWatch, type BootEnd } from './console-watch';

export const QEMU = 'qemu-system-aarch64';

export interface MachineSpec {
  kernel: string;
  initrd: string;
  /** The kernel command line. */
  append: string;
  systemDisk: string;
  /** Writes go to the system disk file itself (a copy the boot test made), not to a temporary overlay. */
  systemDiskWritable?: boolean | undefined;
  dataDisk?: string | undefined;
  /** QEMU's user-mode network: the guest gets 10.0.2.15 by DHCP and reaches the host's loopback at 10.0.2.2. */
  network?: boolean | undefined;
  accel: 'kvm' | 'tcg';
  cpus: number;
  memoryMiB: number;
}

/** KVM when this is an arm64 host whose /dev/kvm we may use; else TCG (emulation). */
export function chooseAccel(): 'kvm' | 'tcg' {
  if (arch() !== 'arm64') return 'tcg';
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return 'kvm';
  } catch {
    return 'tcg';
  }
}

/** A `-drive` file= value: QEMU splits options at commas, so a comma is doubled. */
const driveFile = (path: string): string => path.replace(/,/g, ',,');

export function qemuArgs(spec: MachineSpec): string[] {
  // gic-version=max: KVM on hosts with only a GICv3 (Graviton, Ampere, Cobalt) cannot give the default GICv2.
  const args = ['-M', 'virt,gic-version=max', ...(spec.accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg', '-cpu', 'cortex-a72'])];
  args.push('-smp', String(spec.cpus), '-m', String(spec.memoryMiB));
  args.push('-nodefaults', '-no-reboot', '-display', 'none', '-monitor', 'none', '-serial', 'stdio');
  args.push('-kernel', spec.kernel, '-initrd', spec.initrd, '-append', spec.append);
  const snapshot = spec.systemDiskWritable ? '' : 'snapshot=on,';
  args.push('-drive', `if=none,id=system,format=raw,${snapshot}file=${driveFile(spec.systemDisk)}`, '-device', 'virtio-blk-pci,drive=system');
  if (spec.dataDisk) args.push('-drive', `if=none,id=data,format=raw,file=${driveFile(spec.dataDisk)}`, '-device', 'virtio-blk-pci,drive=data');
  args.push('-device', 'virtio-rng-pci');
  if (spec.network) args.push('-netdev', 'user,id=net0', '-device', 'virtio-net-pci,netdev=net0');
  return args;
}

export async function qemuVersion(logger: Logger): Promise<string> {
  const r = await execCapture(QEMU, ['--version'], { logger });
  return r.stdout.split('\n')[0]?.trim() ?? 'unknown';
}

export type BootOutcome = BootEnd | { kind: 'timeout' } | { kind: 'stalled'; seconds: number } | { kind: 'exited'; code: number };

export interface BootRun {
  outcome: BootOutcome;
  watch: ConsoleWatch;
  seconds: number;
}

export interface BootLimits {
  /** The whole boot and the checks (seconds). */
  timeLimit: number;
  /** Console silent this long (seconds) while the boot has not ended: stalled. */
  stallLimit: number;
}

/** Boots once; `onConsole` receives the console's raw text (for the log). */
export async function bootMachine(spec: MachineSpec, nonce: string, limits: BootLimits, onConsole: (text: string) => void, logger: Logger): Promise<BootRun> {
  const watch = new ConsoleWatch(nonce);
  const started = Date.now();
  const elapsed = (): number => (Date.now() - started) / 1000;
  const stop = new AbortController();
  let outcome: BootOutcome | undefined;
  const finish = (o: BootOutcome): void => {
    if (outcome) return;
    outcome = o;
    stop.abort();
  };
  let lastOutput = Date.now();
  const said = new Set<string>();
  const timer = setInterval(() => {
    if (elapsed() > limits.timeLimit) finish({ kind: 'timeout' });
    else if ((Date.now() - lastOutput) / 1000 > limits.stallLimit) finish({ kind: 'stalled', seconds: limits.stallLimit });
    for (const [key, text] of [
      ['kernel', 'kernel started'],
      ['switchRoot', "handing over to the image's init"],
      ['multiUser', 'multi-user.target reached; checking'],
    ] as const) {
      if (watch.times[key] !== undefined && !said.has(key)) {
        said.add(key);
        logger.info(`${text} (${watch.times[key].toFixed(1)} s)`);
      }
    }
  }, 250);
  try {
    const code = await execFollow(QEMU, qemuArgs(spec), {
      logger,
      stop: stop.signal,
      onOutput: (text) => {
        lastOutput = Date.now();
        onConsole(text);
        watch.feed(text, elapsed());
        if (watch.end) finish(watch.end);
      },
    });
    finish({ kind: 'exited', code });
  } finally {
    clearInterval(timer);
  }
  if (outcome?.kind === 'exited' && watch.times.kernel === undefined) {
    // Nothing of the image ran: the machine itself could not start (a bad option, no KVM, a missing file).
    throw new PiImageError(
      'EXEC_FAILED',
      `${QEMU} stopped (exit ${outcome.code}) before the kernel started: ${watch.tail.slice(-5).join(' | ') || 'no output'}`,
    );
  }
  return { outcome: outcome!, watch, seconds: elapsed() };
}
