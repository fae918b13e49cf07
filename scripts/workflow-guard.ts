/**
 * The workflow guard: rules GitHub does not enforce, checked on every
 * workflow in .github/workflows (and any YAML given, for its tests):
 * - third-party actions pinned by a full commit SHA;
 * - no `${{ … }}` expanded inside `run:` (values go through `env:`);
 * - each job's permissions exactly what its steps need (no more, no less),
 *   the workflow's default no more than `contents: read`;
 * - every job with a timeout (a job calling a reusable workflow cannot have one);
 * - inputs and outputs wired to what exists: `with:` keys of local actions and
 *   reusable workflows, required inputs given, `steps.ID.outputs.NAME`,
 *   `needs.JOB.outputs.NAME`, and a reusable workflow's own outputs.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { readActionPermissions } from './action-permissions.mjs';

export interface Finding {
  file: string;
  job?: string;
  rule: 'unpinned-action' | 'expression-in-run' | 'permissions' | 'timeout' | 'wiring';
  message: string;
}

type Permissions = Record<string, string>;
interface Step {
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Job {
  permissions?: Permissions | string;
  steps?: Step[];
  uses?: string;
  with?: Record<string, unknown>;
  needs?: string | string[];
  outputs?: Record<string, string>;
  'timeout-minutes'?: number;
}
interface Workflow {
  on?: Record<string, { inputs?: Record<string, { required?: boolean; default?: unknown }>; outputs?: Record<string, { value: string }> }>;
  permissions?: Permissions | string;
  jobs?: Record<string, Job>;
}
interface ActionMeta {
  inputs?: Record<string, { required?: boolean; default?: unknown }>;
  outputs?: Record<string, unknown>;
}

const RANK: Record<string, number> = { none: 0, read: 1, write: 2 };

/** This repository's action a step uses (`./actions/x`, `./.pi-image-release/actions/x`, `OWNER/REPO/actions/x@SHA`): its action.yml, if it exists. */
function ownAction(root: string, uses: string): string | undefined {
  const m = /(?:^\.\/(?:\.pi-image-release\/)?|^[\w.-]+\/[\w.-]+\/)actions\/([a-z-]+)(?:@[\w.-]+)?$/.exec(uses);
  if (!m) return undefined;
  const path = join(root, 'actions', m[1]!, 'action.yml');
  return existsSync(path) ? path : undefined;
}

/** What a step needs: what the action it uses declares (see scripts/action-permissions.mjs), or what it runs. */
function stepNeeds(root: string, step: Step, report: (message: string) => void): Permissions {
  const uses = step.uses ?? '';
  if (uses.startsWith('actions/checkout@')) return { contents: 'read' };
  const own = ownAction(root, uses);
  if (own) {
    let declared;
    try {
      declared = readActionPermissions(readFileSync(own, 'utf8'));
    } catch (e) {
      report(`uses ${uses}, whose action.yml has a bad permissions block: ${(e as Error).message}`);
      return {};
    }
    if (!declared) {
      report(`uses ${uses}, whose action.yml declares no "# permissions:" block`);
      return {};
    }
    const needed: Permissions = { ...declared.always };
    for (const w of declared.when) {
      const given = step.with?.[w.input];
      if ((typeof given === 'string' || typeof given === 'boolean' || typeof given === 'number') && String(given) === w.value) merge(needed, w.permissions);
    }
    return needed;
  }
  if (/\bnpm publish\b.*--provenance/.test(step.run ?? '')) return { 'id-token': 'write' };
  if (/\bsemantic-release\b/.test(step.run ?? '') && !(step.run ?? '').includes('next-version'))
    return { contents: 'write', issues: 'write', 'pull-requests': 'write' };
  // gh release create/upload/edit/delete write releases and their assets; view and download read.
  if (/\bgh release (create|upload|edit|delete)\b/.test(step.run ?? '')) return { contents: 'write' };
  if (/\bgh release (view|download|list)\b/.test(step.run ?? '')) return { contents: 'read' };
  return {};
}

function merge(into: Permissions, more: Permissions): Permissions {
  for (const [k, v] of Object.entries(more)) if ((RANK[v] ?? 0) > (RANK[into[k] ?? 'none'] ?? 0)) into[k] = v;
  return into;
}

function normalize(p: Permissions | string | undefined): Permissions | undefined {
  if (p === undefined) return undefined;
  if (p === 'read-all' || p === 'write-all') return { '*': p === 'read-all' ? 'read' : 'write' };
  if (typeof p === 'string') return {};
  return Object.fromEntries(Object.entries(p).filter(([, v]) => v !== 'none'));
}

function loadYaml(path: string): unknown {
  return parse(readFileSync(path, 'utf8'));
}

/** The local action a step uses (`./actions/x` or `./.pi-image-release/actions/x`), as a path under root. */
function localAction(root: string, uses: string): string | undefined {
  const m = /^\.\/(?:\.pi-image-release\/)?(actions\/[a-z-]+)$/.exec(uses);
  return m ? join(root, m[1]!, 'action.yml') : undefined;
}

function expressions(value: unknown): string[] {
  const text = typeof value === 'string' ? value : JSON.stringify(value ?? '');
  return [...text.matchAll(/\$\{\{([\s\S]*?)\}\}/g)].map((m) => m[1]!.trim());
}

export function checkWorkflow(root: string, file: string, workflow: Workflow, resolveWorkflow: (uses: string) => Workflow | undefined): Finding[] {
  const findings: Finding[] = [];
  const add = (rule: Finding['rule'], message: string, job?: string) => findings.push({ file, ...(job ? { job } : {}), rule, message });

  const top = normalize(workflow.permissions);
  if (!top) add('permissions', 'the workflow sets no default permissions: set `permissions: contents: read` (or none) at the top');
  else if (Object.entries(top).some(([k, v]) => !(k === 'contents' && v === 'read')))
    add('permissions', `the workflow's default permissions ${JSON.stringify(top)} are broader than contents: read`);

  const jobs = workflow.jobs ?? {};
  const jobNeeds = new Map<string, Permissions>();
  for (const [name, job] of Object.entries(jobs)) {
    const needed: Permissions = {};
    if (job.uses) {
      const called = resolveWorkflow(job.uses);
      if (!called) add('wiring', `calls ${job.uses}, which cannot be read`, name);
      else {
        for (const j of Object.values(called.jobs ?? {})) merge(needed, normalize(j.permissions) ?? {});
        const declared = called.on?.workflow_call?.inputs ?? {};
        for (const key of Object.keys(job.with ?? {})) if (!(key in declared)) add('wiring', `passes "${key}" to ${job.uses}, which has no such input`, name);
        for (const [key, spec] of Object.entries(declared))
          if (spec.required && !(key in (job.with ?? {}))) add('wiring', `does not pass the required input "${key}" to ${job.uses}`, name);
      }
    } else if (job['timeout-minutes'] === undefined) add('timeout', 'has no timeout-minutes', name);

    const stepsById = new Map<string, ActionMeta | undefined>();
    for (const step of job.steps ?? []) {
      merge(
        needed,
        stepNeeds(root, step, (message) => add('wiring', message, name)),
      );
      const uses = step.uses;
      if (uses && !uses.startsWith('./') && !uses.startsWith('docker://') && !/@[0-9a-f]{40}$/.test(uses)) {
        add('unpinned-action', `uses ${uses}: pin third-party actions by a full commit SHA`, name);
      }
      if (step.run?.includes('${{')) {
        add(
          'expression-in-run',
          `expands ${expressions(step.run)
            .map((e) => `\${{ ${e} }}`)
            .join(', ')} inside run: pass it through env: instead`,
          name,
        );
      }
      const metaPath = uses ? localAction(root, uses) : undefined;
      let meta: ActionMeta | undefined;
      if (metaPath) {
        try {
          meta = loadYaml(metaPath) as ActionMeta;
        } catch {
          add('wiring', `uses ${uses}, which has no action.yml`, name);
        }
      }
      if (meta) {
        for (const key of Object.keys(step.with ?? {}))
          if (!(key in (meta.inputs ?? {}))) add('wiring', `passes "${key}" to ${uses}, which has no such input`, name);
        for (const [key, spec] of Object.entries(meta.inputs ?? {})) {
          if (spec.required && spec.default === undefined && !(key in (step.with ?? {})))
            add('wiring', `does not pass the required input "${key}" to ${uses}`, name);
        }
      }
      // References to earlier steps' outputs must name outputs those actions declare.
      for (const expr of expressions({ with: step.with, run: step.run, env: (step as { env?: unknown }).env, if: (step as { if?: unknown }).if })) {
        for (const m of expr.matchAll(/steps\.([\w-]+)\.outputs\.([\w-]+)/g)) {
          if (!stepsById.has(m[1]!)) add('wiring', `refers to steps.${m[1]}.outputs.${m[2]}, but no earlier step has id ${m[1]}`, name);
          else {
            const target = stepsById.get(m[1]!);
            if (target && !((m[2] ?? '') in (target.outputs ?? {})))
              add('wiring', `refers to steps.${m[1]}.outputs.${m[2]}, which that action does not declare`, name);
          }
        }
      }
      if (step.id) stepsById.set(step.id, meta);
    }
    for (const [key, value] of Object.entries(job.outputs ?? {})) {
      for (const m of value.matchAll(/steps\.([\w-]+)\.outputs\.([\w-]+)/g)) {
        const target = stepsById.get(m[1]!);
        if (!stepsById.has(m[1]!)) add('wiring', `output ${key} refers to a step ${m[1]} that does not exist`, name);
        else if (target && !((m[2] ?? '') in (target.outputs ?? {})))
          add('wiring', `output ${key} refers to steps.${m[1]}.outputs.${m[2]}, which that action does not declare`, name);
      }
    }
    jobNeeds.set(name, needed);

    const have = normalize(job.permissions) ?? top ?? {};
    const allKeys = new Set([...Object.keys(have), ...Object.keys(needed)]);
    for (const k of allKeys) {
      const h = RANK[have[k] ?? have['*'] ?? 'none'] ?? 0;
      const n = RANK[needed[k] ?? 'none'] ?? 0;
      if (h > n) add('permissions', `has ${k}: ${have[k] ?? have['*']} but its steps need ${needed[k] ?? 'none'}`, name);
      if (h < n) add('permissions', `needs ${k}: ${needed[k]} for its steps but has ${have[k] ?? 'none'}`, name);
    }
  }

  // needs.JOB.outputs.NAME and the reusable workflow's outputs.
  for (const [name, job] of Object.entries(jobs)) {
    for (const expr of expressions({ with: job.with, steps: job.steps, if: (job as { if?: unknown }).if })) {
      for (const m of expr.matchAll(/needs\.([\w-]+)\.outputs\.([\w-]+)/g)) {
        const needs = Array.isArray(job.needs) ? job.needs : job.needs ? [job.needs] : [];
        const other = jobs[m[1]!];
        if (!needs.includes(m[1]!)) add('wiring', `refers to needs.${m[1]} without needing it`, name);
        else if (other && !other.uses && !((m[2] ?? '') in (other.outputs ?? {})))
          add('wiring', `refers to needs.${m[1]}.outputs.${m[2]}, which job ${m[1]} does not declare`, name);
        else if (other?.uses) {
          const called = resolveWorkflow(other.uses);
          if (called && !((m[2] ?? '') in (called.on?.workflow_call?.outputs ?? {})))
            add('wiring', `refers to needs.${m[1]}.outputs.${m[2]}, which ${other.uses} does not declare`, name);
        }
      }
    }
  }
  for (const [key, out] of Object.entries(workflow.on?.workflow_call?.outputs ?? {})) {
    for (const m of out.value.matchAll(/jobs\.([\w-]+)\.outputs\.([\w-]+)/g)) {
      if (!((m[2] ?? '') in (jobs[m[1]!]?.outputs ?? {}))) add('wiring', `workflow output ${key} refers to jobs.${m[1]}.outputs.${m[2]}, which does not exist`);
    }
  }
  return findings;
}

export function checkRepository(root: string): Finding[] {
  const dir = join(root, '.github/workflows');
  const resolve = (uses: string): Workflow | undefined => {
    const m = /^\.\/(\.github\/workflows\/[\w.-]+\.ya?ml)$/.exec(uses);
    if (!m) return undefined;
    try {
      return loadYaml(join(root, m[1]!)) as Workflow;
    } catch {
      return undefined;
    }
  };
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .flatMap((f) => checkWorkflow(root, `.github/workflows/${f}`, loadYaml(join(dir, f)) as Workflow, resolve));
}
