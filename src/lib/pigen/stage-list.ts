/**
 * Turns a stage list as a product writes it ("stage0 stage1 stage2
 * pigen/stages/stage-ourbox-mini") into the absolute paths pi-gen's STAGE_LIST
 * needs, in the build's own file system (the host for native builds, the
 * container for container builds), and the read-only mounts a container needs.
 * Upstream stages with overrides are copied into the work directory and the
 * override files laid over the copy: pi-gen's checkout is never modified.
 */
import { cp, readdir, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { PiImageError } from '../core/errors';

/** Where pi-gen's Dockerfile puts its own tree inside the builder image. */
export const CONTAINER_PIGEN_DIR = '/pi-gen';

export interface ResolvedStage {
  name: string;
  /** Where the stage is on the host. */
  hostPath: string;
  /** The path pi-gen is given in STAGE_LIST. */
  buildPath: string;
  upstream: boolean;
  /** Container builds bind-mount this host path at buildPath, read-only. */
  mount: boolean;
  /** Override files laid over an upstream stage, relative to the stage. */
  overridden: string[];
}

export interface StageListOptions {
  pigenDir: string;
  /** Relative stage paths are resolved from here (the recipe repository). */
  baseDir: string;
  runtime: 'native' | 'container';
  overridesDir?: string | undefined;
  workDir: string;
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function filesUnder(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await filesUnder(dir, rel)));
    else out.push(rel);
  }
  return out.sort();
}

const UPSTREAM = /^(stage\d+|export-image|export-noobs)$/;

export async function resolveStageList(specs: readonly string[], options: StageListOptions): Promise<{ stages: ResolvedStage[]; warnings: string[] }> {
  if (specs.length === 0) throw new PiImageError('INPUT_INVALID', 'stage list is empty: name at least one stage');
  const warnings: string[] = [];
  const stages: ResolvedStage[] = [];
  const names = new Set<string>();
  const overrides = options.overridesDir ? resolve(options.baseDir, options.overridesDir) : undefined;
  if (overrides && !(await isDir(overrides))) throw new PiImageError('INPUT_INVALID', `overrides directory ${options.overridesDir} does not exist`);

  for (const spec of specs) {
    if (/\s/.test(spec)) throw new PiImageError('INPUT_INVALID', `stage "${spec}": paths with whitespace break pi-gen's STAGE_LIST`);
    const upstream = UPSTREAM.test(spec);
    const hostPath = upstream ? join(options.pigenDir, spec) : isAbsolute(spec) ? spec : resolve(options.baseDir, spec);
    if (!(await isDir(hostPath))) {
      throw new PiImageError(
        'INPUT_INVALID',
        upstream ? `stage ${spec} is not in pi-gen at ${options.pigenDir}` : `stage ${spec} is not a directory (${hostPath})`,
      );
    }
    const name = basename(hostPath);
    if (names.has(name)) throw new PiImageError('INPUT_INVALID', `stage ${name} appears twice; pi-gen keys its work directories by stage name`);
    names.add(name);
    const overrideDir = overrides ? join(overrides, name) : undefined;
    if (overrideDir && (await isDir(overrideDir))) {
      if (!upstream) throw new PiImageError('INPUT_INVALID', `overrides for ${name}: overrides apply to pi-gen's own stages; change your stage ${spec} itself`);
      const copy = join(options.workDir, 'stages', name);
      await cp(hostPath, copy, { recursive: true, preserveTimestamps: true, force: true });
      const files = await filesUnder(overrideDir);
      for (const f of files) await cp(join(overrideDir, f), join(copy, f), { preserveTimestamps: true, force: true });
      stages.push({ name, hostPath: copy, buildPath: copy, upstream, mount: options.runtime === 'container', overridden: files });
      continue;
    }
    const buildPath = upstream && options.runtime === 'container' ? `${CONTAINER_PIGEN_DIR}/${spec}` : hostPath;
    stages.push({ name, hostPath, buildPath, upstream, mount: options.runtime === 'container' && !upstream, overridden: [] });
  }
  if (overrides) {
    for (const e of await readdir(overrides, { withFileTypes: true })) {
      if (e.isDirectory() && !names.has(e.name)) warnings.push(`overrides for ${e.name} are not used: ${e.name} is not in the stage list`);
    }
  }
  return { stages, warnings };
}
