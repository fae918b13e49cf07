/**
 * Where a build came from, read from a CI environment's variables (GitHub
 * Actions names them GITHUB_*). A plain function of an env record: the CLI and
 * the action pass process.env, tests pass what they like.
 */
import type { Provenance } from './metadata';

export function provenanceFromEnv(env: Record<string, string | undefined>): Provenance {
  // An empty or slash-ended server URL must not make "/acme/app" or "https://ghe.example//acme/app".
  const server = (env.GITHUB_SERVER_URL?.trim() ? env.GITHUB_SERVER_URL : 'https://github.com').replace(/\/+$/, '');
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

/**
 * Explicit values win over the environment's. A recipe repository given
 * explicitly that is not the environment's drops the environment's commit and
 * ref: they belong to the workflow's own repository, not the one named.
 */
export function mergeProvenance(base: Provenance, override: Provenance): Provenance {
  const explicit = stripUndefined(override.recipe ?? {});
  const sameRepository = explicit.repository === undefined || explicit.repository === base.recipe?.repository;
  const recipe = { ...(sameRepository ? base.recipe : {}), ...explicit };
  const workflowRun = { ...base.workflowRun, ...stripUndefined(override.workflowRun ?? {}) };
  const out: Provenance = {};
  if (Object.keys(recipe).length > 0) out.recipe = recipe;
  if (Object.keys(workflowRun).length > 0) out.workflowRun = workflowRun;
  return out;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '')) as Partial<T>;
}
