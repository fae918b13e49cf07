// Renders an action's README.md from its action.yml: the inputs and outputs
// tables are generated, never written by hand. Used by build.mjs and by the
// drift test.
import { parse } from 'yaml';
import { readActionPermissions } from './action-permissions.mjs';

const cell = (s) =>
  String(s ?? '')
    .replace(/\|/g, '\\|')
    .replace(/\r?\n/g, ' ')
    .trim();

/** @param {import('./action-permissions.mjs').ActionPermissions | undefined} p */
function permissionLines(p) {
  if (!p) throw new Error('action.yml declares no "# permissions:" block');
  const always = Object.entries(p.always);
  if (always.length === 0 && p.when.length === 0) return ['None: the job needs no permissions for this action.'];
  return [
    'The job needs (and the workflow guard checks it grants no more):',
    '',
    '```yaml',
    'permissions:',
    ...always.map(([k, v]) => `  ${k}: ${v}`),
    ...p.when.flatMap((w) => Object.entries(w.permissions).map(([k, v]) => `  ${k}: ${v}  # only with ${w.input}: ${w.value}`)),
    '```',
  ];
}

/**
 * @param {string} folder the action's folder name under actions/
 * @param {string} yamlText the action.yml text
 * @param {string} usage a YAML usage example
 * @param {string} extra hand-written markdown kept after the tables (docs/actions/<folder>.md)
 * @returns {string}
 */
export function renderActionReadme(folder, yamlText, usage, extra) {
  const action = parse(yamlText);
  const lines = [
    `<!-- Generated from action.yml by scripts/build.mjs: edit action.yml or docs/actions/${folder}.md, not this file. -->`,
    `# ${action.name}`,
    '',
    cell(action.description),
    '',
    `Runs on \`${action.runs.using}\`.`,
    '',
    '## Usage',
    '',
    '```yaml',
    usage.trimEnd(),
    '```',
    '',
    '## Permissions',
    '',
    ...permissionLines(readActionPermissions(yamlText)),
    '',
    '## Inputs',
    '',
    '| Input | Required | Default | Description |',
    '|---|---|---|---|',
  ];
  for (const [name, spec] of Object.entries(action.inputs ?? {})) {
    const def = spec.default === undefined ? '' : `\`${cell(spec.default)}\``;
    lines.push(`| \`${name}\` | ${spec.required ? 'yes' : 'no'} | ${def} | ${cell(spec.description)} |`);
  }
  lines.push('', '## Outputs', '', '| Output | Description |', '|---|---|');
  for (const [name, spec] of Object.entries(action.outputs ?? {})) {
    lines.push(`| \`${name}\` | ${cell(spec.description)} |`);
  }
  lines.push('');
  if (extra.trim()) lines.push(extra.trimEnd(), '');
  return lines.join('\n');
}
