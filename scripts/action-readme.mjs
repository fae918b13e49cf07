// Renders an action's README.md from its action.yml: the inputs and outputs
// tables are generated, never written by hand. Used by build.mjs and by the
// drift test.
import { parse } from 'yaml';

const cell = (s) =>
  String(s ?? '')
    .replace(/\|/g, '\\|')
    .replace(/\r?\n/g, ' ')
    .trim();

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
