/**
 * Where a build came from, read from a CI environment's variables (GitHub
 * Actions names them GITHUB_*). A plain function of an env record: the CLI and
 * the action pass process.env, tests pass what they like.
 */
import type { Provenance } from './metadata';

export function provenanceFromEnv(env: Record<string, string | undefined>): Provenance {
  const server = env.GITHUB_SERVER_URL ?? 'https://github.com';
  const repo = env.GITHUB_REPOSITORY;
  const provenance: Provenance = {};
  const recipe: NonNullable<Provenance['recipe']> = {};
  if (repo) recipe.repository = `${server}/${repo}`;
  if (env.GITHUB_SHA) recipe.commit = env.GITHUB_SHA;
  if (env.GITHUB_REF) recipe.ref = env.GITHUB_REF;
  if (Object.keys(recipe).length > 0) provenance.recipe = recipe;
  if (env.GITHUB_RUN_ID) {
    provenance.workflowRun = { id: env.GITHUB_RUN_ID };
    if (env.GITHUB_RUN_ATTEMPT) provenance.workflowRun.attempt = env.GITHUB_RUN_ATTEMPT;
    if (repo) provenance.workflowRun.url = `${server}/${repo}/actions/runs/${env.GITHUB_RUN_ID}`;
  }
  return provenance;
}

/** Explicit values win over the environment's. */
export function mergeProvenance(base: Provenance, override: Provenance): Provenance {
  const recipe = { ...base.recipe, ...stripUndefined(override.recipe ?? {}) };
  const workflowRun = { ...base.workflowRun, ...stripUndefined(override.workflowRun ?? {}) };
  const out: Provenance = {};
  if (Object.keys(recipe).length > 0) out.recipe = recipe;
  if (Object.keys(workflowRun).length > 0) out.workflowRun = workflowRun;
  return out;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '')) as Partial<T>;
}
