/**
 * Follows a pi-gen build's output as it streams: every line is passed on,
 * each stage's lines are folded under the stage's name, and pi-gen's own log
 * lines ("[HH:MM:SS] Begin …") are kept so that a failure can be explained
 * from them whatever runtime ran the build.
 */
import type { Logger } from '../core/logger';
import { failedStep, parseBuildLog, type BuildTimeline } from '../pigen/build-log';

const LOG_LINE = /^\[(\d{2}:\d{2}:\d{2}|\d{4}-\d{2}-\d{2}T[^\]]+)\] /;
const MARK = /^\[[^\]]+\] (Begin|End) (.+)$/;

export class BuildLogFollower {
  private readonly logLines: string[] = [];
  private readonly open: string[] = [];
  private group: string | undefined;
  private partial = '';

  constructor(private readonly logger: Logger) {}

  /** Feeds a chunk of output (any split); complete lines are handled at once. */
  write(chunk: string): void {
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop()!;
    for (const line of lines) this.line(line.replace(/\r$/, ''));
  }

  /** Flushes a last line without a newline and closes an open group. */
  end(): void {
    if (this.partial) this.line(this.partial);
    this.partial = '';
    this.closeGroup();
  }

  private closeGroup(): void {
    if (this.group !== undefined) this.logger.endGroup?.();
    this.group = undefined;
  }

  private line(line: string): void {
    const mark = MARK.exec(line);
    if (LOG_LINE.test(line)) this.logLines.push(line);
    if (mark) {
      const [, kind, path] = mark;
      if (kind === 'Begin') {
        this.open.push(path!);
        // Depth 1 is a stage (depth 0 the whole build).
        if (this.open.length === 2) {
          this.closeGroup();
          this.group = path!.split('/').pop()!;
          this.logger.startGroup?.(`pi-gen ${this.group}`);
        }
      } else {
        const at = this.open.lastIndexOf(path!);
        if (at >= 0) this.open.length = at;
      }
    }
    this.logger.info(line);
    if (mark?.[1] === 'End' && this.open.length === 1) this.closeGroup();
  }

  /** pi-gen's log lines seen so far, as build.log holds them. */
  buildLog(): string {
    return this.logLines.length > 0 ? `${this.logLines.join('\n')}\n` : '';
  }

  /** What went wrong, in a sentence, from the log seen so far. */
  explainFailure(): string {
    let timeline: BuildTimeline;
    try {
      timeline = parseBuildLog(this.buildLog(), 'build output');
    } catch {
      return 'pi-gen failed before its first stage began (see the output above: configuration, dependencies or the container engine)';
    }
    const step = failedStep(timeline);
    const parts: string[] = [];
    if (step) {
      const stages = timeline.entries[0]?.children ?? [];
      const stage = stages.find((s) => step.path === s.path || step.path.startsWith(`${s.path}/`));
      parts.push(
        stage && stage !== step ? `pi-gen failed in stage ${stage.name}, step ${step.path.slice(stage.path.length + 1)}` : `pi-gen failed in ${step.path}`,
      );
    } else {
      parts.push('pi-gen failed after its last stage ended');
    }
    const bootstrap = timeline.events.find((e) => e.message.startsWith('bootstrap failed'));
    if (bootstrap) {
      const m = /check (\S+debootstrap\.log)/.exec(bootstrap.message);
      parts.push(`debootstrap failed: read ${m ? m[1] : 'debootstrap.log in the stage work directory'}`);
    }
    return parts.join('; ');
  }
}
