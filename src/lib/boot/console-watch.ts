/**
 * Reads a booting machine's serial console: splits it into lines, keeps the
 * last ones for the failure message, notes when each milestone was reached,
 * and collects the probe's reports (only lines with this run's nonce).
 * Pure: the runner feeds it text and the time; it says when the boot has
 * ended, and how.
 */
import { INIT_MARKER, PROBE_MARKER } from './probe-scripts';

export type BootEnd = { kind: 'probe-done' } | { kind: 'panic'; line: string } | { kind: 'emergency'; line: string } | { kind: 'init-failed'; reason: string };

export interface ProbeReport {
  jobsPending: number | undefined;
  /** Jobs still queued when the probe stopped waiting (at most 10). */
  pendingJobs: string[];
  multiUser: string | undefined;
  failedUnits: string[];
  dataFstab: string | undefined;
  dataMounted: string | undefined;
  checks: { name: string; exitCode: number; output: string[] }[];
}

/** Milestones, in seconds from the start of the machine. */
export interface BootTimes {
  kernel?: number;
  initramfs?: number;
  switchRoot?: number;
  systemd?: number;
  multiUser?: number;
  checksDone?: number;
}

// eslint-disable-next-line no-control-regex -- stripping the console's escape sequences is the point
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r/g;
const KEEP_LINES = 40;
const MAX_LINE = 4096;

const PANIC = /Kernel panic - not syncing.*/;
const EMERGENCY =
  /(You are in emergency mode|Reached target .*emergency\.target|Started .*emergency\.service|You are in rescue mode|Reached target .*rescue\.target)/;

export class ConsoleWatch {
  readonly tail: string[] = [];
  readonly times: BootTimes = {};
  readonly report: ProbeReport = {
    jobsPending: undefined,
    pendingJobs: [],
    multiUser: undefined,
    failedUnits: [],
    dataFstab: undefined,
    dataMounted: undefined,
    checks: [],
  };
  end: BootEnd | undefined;
  lines = 0;
  private partial = '';
  private readonly outputs = new Map<string, string[]>();

  constructor(private readonly nonce: string) {}

  /** Feeds console text seen `seconds` after the start. */
  feed(text: string, seconds: number): void {
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    if (this.partial.length > MAX_LINE) {
      parts.push(this.partial);
      this.partial = '';
    }
    for (const raw of parts) this.line(raw.replace(ANSI, '').slice(0, MAX_LINE), seconds);
  }

  private line(line: string, seconds: number): void {
    this.lines++;
    if (line.trim() !== '') {
      this.tail.push(line);
      if (this.tail.length > KEEP_LINES) this.tail.shift();
    }
    if (this.end) return;
    if (this.times.kernel === undefined && line.includes('Booting Linux on')) this.times.kernel = seconds;
    if (this.times.systemd === undefined && /systemd\[1\]: systemd \d+.* running in system mode|Welcome to /.test(line)) this.times.systemd = seconds;
    const panic = PANIC.exec(line);
    if (panic) {
      this.end = { kind: 'panic', line: panic[0] };
      return;
    }
    const init = this.marker(line, INIT_MARKER);
    if (init !== undefined) {
      if (init === 'start') this.times.initramfs = seconds;
      else if (init === 'switch') this.times.switchRoot = seconds;
      else if (init.startsWith('failed=')) this.end = { kind: 'init-failed', reason: init.slice('failed='.length) };
      return;
    }
    const probe = this.marker(line, PROBE_MARKER);
    if (probe !== undefined) {
      this.probe(probe, seconds);
      return;
    }
    if (EMERGENCY.test(line)) this.end = { kind: 'emergency', line: line.trim() };
  }

  /** The text after `MARKER:NONCE:` anywhere in the line (the console may prefix it), or undefined. */
  private marker(line: string, marker: string): string | undefined {
    const tag = `${marker}:${this.nonce}:`;
    const at = line.indexOf(tag);
    return at < 0 ? undefined : line.slice(at + tag.length);
  }

  private probe(text: string, seconds: number): void {
    const eq = text.indexOf('=');
    const key = eq < 0 ? text : text.slice(0, eq);
    const value = eq < 0 ? '' : text.slice(eq + 1);
    const r = this.report;
    switch (key) {
      case 'start':
        this.times.multiUser = seconds;
        break;
      case 'jobs-pending':
        r.jobsPending = /^\d+$/.test(value) ? Number(value) : undefined;
        break;
      case 'pending-job':
        if (r.pendingJobs.length < 10) r.pendingJobs.push(value);
        break;
      case 'multi-user':
        r.multiUser = value;
        break;
      case 'failed-unit':
        if (r.failedUnits.length < 100) r.failedUnits.push(value);
        break;
      case 'data-fstab':
        r.dataFstab = value === 'none' ? undefined : value;
        break;
      case 'data-mounted':
        r.dataMounted = value === 'none' ? undefined : value;
        break;
      case 'check-output': {
        const colon = value.indexOf(':');
        const name = value.slice(0, colon);
        const out = this.outputs.get(name) ?? [];
        if (out.length < 20) out.push(value.slice(colon + 1));
        this.outputs.set(name, out);
        break;
      }
      case 'check': {
        const colon = value.lastIndexOf(':');
        const name = value.slice(0, colon);
        const code = value.slice(colon + 1);
        // A garbled line (no exit code) is a failure, never a pass.
        if (r.checks.length < 100) r.checks.push({ name, exitCode: /^\d+$/.test(code) ? Number(code) : -1, output: this.outputs.get(name) ?? [] });
        break;
      }
      case 'done':
        this.times.checksDone = seconds;
        this.end = { kind: 'probe-done' };
        break;
      default:
        break;
    }
  }
}
