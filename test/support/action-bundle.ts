/**
 * An action's committed bundle, run the way the Actions runner runs it: every
 * input declared in its action.yml as INPUT_* (its default unless given),
 * outputs and the step summary written to the files GITHUB_OUTPUT and
 * GITHUB_STEP_SUMMARY name. Only the runner itself is missing.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from './test-image';

export interface ActionRun {
  code: number | null;
  stdout: string;
  outputs: Record<string, string>;
  summary: string;
}

export function runActionBundle(action: string, inputs: Record<string, string>, options: { work: string; env?: NodeJS.ProcessEnv }): ActionRun {
  const output = join(options.work, 'action-output');
  const summary = join(options.work, 'action-summary');
  writeFileSync(output, '');
  writeFileSync(summary, '');
  const declared = parse(readFileSync(join(REPO_ROOT, 'actions', action, 'action.yml'), 'utf8')) as { inputs: Record<string, { default?: string }> };
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary, RUNNER_TEMP: options.work, ...options.env };
  for (const [k, d] of Object.entries(declared.inputs)) env[`INPUT_${k.toUpperCase()}`] = d.default ?? '';
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'actions', action, 'dist/index.cjs')], { env, encoding: 'utf8' });
  const outputs: Record<string, string> = {};
  for (const m of readFileSync(output, 'utf8').matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) outputs[m[1]!] = m[3]!;
  return { code: r.status, stdout: r.stdout, outputs, summary: readFileSync(summary, 'utf8') };
}
