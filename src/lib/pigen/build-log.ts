/**
 * Reads pi-gen's build.log into a timeline of stages, sub-stages and steps.
 *
 * pi-gen logs with `date +"[%T] $*"`: lines like `[16:23:02] Begin /pi-gen/stage0`.
 * Begin/End pairs nest (build → stage → prerun.sh or sub-stage → step). There is
 * no date, so a build that crosses midnight wraps: a time earlier than the one
 * before it means the next day. export-image appears once per exported stage
 * with the same path; each occurrence is its own entry. A Begin with no End
 * (a failed or interrupted build) is reported as incomplete.
 * RFC 3339 timestamps (build-docker.log style) are read too.
 */
import { PiImageError } from '../core/errors';

export interface TimelineEntry {
  /** The path pi-gen logged, e.g. /pi-gen/stage0/00-configure-apt. */
  path: string;
  /** The last path component, e.g. 00-configure-apt. */
  name: string;
  /** 0 = the whole build, 1 = stage, 2 = sub-stage or prerun.sh, 3 = step. */
  depth: number;
  /** 1 for the first time this path begins, 2 for the second (export-image per exported stage). */
  occurrence: number;
  startOffsetSeconds: number;
  /** For an incomplete entry: the time from its Begin to the last timestamp in the log. */
  durationSeconds: number;
  complete: boolean;
  children: TimelineEntry[];
}

export type BuildResult = 'finished' | 'failed' | 'unknown';

export interface BuildTimeline {
  /** The first timestamp as logged (HH:MM:SS or RFC 3339). */
  startedAt: string;
  totalSeconds: number;
  result: BuildResult;
  /** Top-level entries: normally one, the build (pi-gen's base directory). */
  entries: TimelineEntry[];
  /** Skip lines, retries and bootstrap failures, in order. */
  events: { offsetSeconds: number; message: string }[];
  /** Lines that were not understood, with their line numbers (kept, not fatal). */
  warnings: string[];
}

const CLOCK = /^\[(\d{2}):(\d{2}):(\d{2})\] (.*)$/;
const RFC3339 = /^\[(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))\] (.*)$/;

interface Stamped {
  raw: string;
  /** Seconds: since midnight for clock stamps (unwrapped later), since the epoch for RFC 3339. */
  seconds: number;
  absolute: boolean;
  text: string;
}

function readStamp(line: string): Stamped | undefined {
  const clock = CLOCK.exec(line);
  if (clock) {
    const [h, m, s] = [Number(clock[1]), Number(clock[2]), Number(clock[3])];
    if (h > 23 || m > 59 || s > 60) return undefined;
    return { raw: `${clock[1]}:${clock[2]}:${clock[3]}`, seconds: h * 3600 + m * 60 + s, absolute: false, text: clock[4]! };
  }
  const iso = RFC3339.exec(line);
  if (iso) {
    const ms = Date.parse(iso[1]!);
    if (Number.isNaN(ms)) return undefined;
    return { raw: iso[1]!, seconds: Math.floor(ms / 1000), absolute: true, text: iso[2]! };
  }
  return undefined;
}

function lastComponent(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  const i = trimmed.lastIndexOf('/');
  return i >= 0 ? trimmed.slice(i + 1) : trimmed;
}

/**
 * Parses the text of a build.log. `source` names the file in error messages.
 * Throws LOG_INVALID when the text holds no Begin/End line at all.
 */
export function parseBuildLog(text: string, source = 'build.log'): BuildTimeline {
  const lines = text.split(/\r?\n/);
  const warnings: string[] = [];
  const events: { offsetSeconds: number; message: string }[] = [];
  const entries: TimelineEntry[] = [];
  const stack: TimelineEntry[] = [];
  const seen = new Map<string, number>();
  let first: Stamped | undefined;
  let dayOffset = 0;
  let previous = -1;
  let lastOffset = 0;
  let result: BuildResult = 'unknown';
  let beginEndLines = 0;

  const close = (entry: TimelineEntry, offset: number, complete: boolean): void => {
    entry.durationSeconds = offset - entry.startOffsetSeconds;
    entry.complete = complete;
  };

  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const stamp = readStamp(line);
    if (!stamp) {
      warnings.push(`${source}:${index + 1}: not a pi-gen log line: ${line.slice(0, 120)}`);
      return;
    }
    first ??= stamp;
    let offset: number;
    if (stamp.absolute) {
      offset = first.absolute ? stamp.seconds - first.seconds : 0;
    } else {
      // A clock time earlier than the previous one is the next day.
      if (previous >= 0 && stamp.seconds + dayOffset < previous) dayOffset += 86400;
      offset = stamp.seconds + dayOffset - (first.absolute ? 0 : first.seconds);
      previous = stamp.seconds + dayOffset;
    }
    if (offset < 0) {
      warnings.push(`${source}:${index + 1}: timestamp goes backwards`);
      offset = lastOffset;
    }
    lastOffset = Math.max(lastOffset, offset);

    const begin = /^Begin (.+)$/.exec(stamp.text);
    const end = /^End (.+)$/.exec(stamp.text);
    if (begin) {
      beginEndLines++;
      const path = begin[1]!.trim();
      const occurrence = (seen.get(path) ?? 0) + 1;
      seen.set(path, occurrence);
      const entry: TimelineEntry = {
        path,
        name: lastComponent(path),
        depth: stack.length,
        occurrence,
        startOffsetSeconds: offset,
        durationSeconds: 0,
        complete: false,
        children: [],
      };
      (stack.length > 0 ? stack[stack.length - 1]!.children : entries).push(entry);
      stack.push(entry);
    } else if (end) {
      beginEndLines++;
      const path = end[1]!.trim();
      const at = stack.map((e) => e.path).lastIndexOf(path);
      if (at < 0) {
        warnings.push(`${source}:${index + 1}: End without Begin: ${path}`);
        return;
      }
      // Entries opened after the matching Begin and never closed did not finish.
      while (stack.length - 1 > at) close(stack.pop()!, offset, false);
      close(stack.pop()!, offset, true);
    } else if (stamp.text === 'Build finished') {
      result = 'finished';
    } else if (stamp.text.startsWith('Build failed')) {
      result = 'failed';
      events.push({ offsetSeconds: offset, message: stamp.text });
    } else {
      // Skip …, Retrying (i/5)..., bootstrap failed: …, and whatever stage scripts log.
      events.push({ offsetSeconds: offset, message: stamp.text });
    }
  });

  if (!first || beginEndLines === 0) {
    throw new PiImageError('LOG_INVALID', `${source} is not a pi-gen build log: no "[HH:MM:SS] Begin …" lines found`);
  }
  while (stack.length > 0) close(stack.pop()!, lastOffset, false);
  // `result` is set inside the callback above, where the compiler does not look.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
  if (result === 'unknown' && entries.some((e) => !e.complete)) result = 'failed';

  return { startedAt: first.raw, totalSeconds: lastOffset, result, entries, events, warnings };
}

/** Every entry, depth first, in log order. */
export function flattenTimeline(entries: readonly TimelineEntry[]): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  const walk = (list: readonly TimelineEntry[]): void => {
    for (const e of list) {
      out.push(e);
      walk(e.children);
    }
  };
  walk(entries);
  return out;
}

/**
 * The stages: the children of the build entry (pi-gen logs `Begin $BASE_DIR`
 * first). A log that starts at a stage directly has its top-level entries as stages.
 */
export function stagesOf(timeline: BuildTimeline): TimelineEntry[] {
  if (timeline.entries.length === 1 && timeline.entries[0]!.children.length > 0) {
    return timeline.entries[0]!.children;
  }
  return timeline.entries;
}

/** The deepest unfinished entry: where a failed build stopped. */
export function failedStep(timeline: BuildTimeline): TimelineEntry | undefined {
  const open = flattenTimeline(timeline.entries).filter((e) => !e.complete);
  return open[open.length - 1];
}

export function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m ${String(s).padStart(2, '0')}s`;
  if (m > 0) return `${m}m ${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}
