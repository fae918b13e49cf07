// The job permissions an action needs, declared in its action.yml as a
// comment block (the runner refuses keys it does not know in action.yml):
//
//   # permissions:
//   #   id-token: write
//   #   attestations: write  # with attest: true
//
// or `# permissions: none`. Read by scripts/workflow-guard.ts (each job must
// grant exactly what its steps need) and rendered into the action's README.

/**
 * @typedef {{ always: Record<string, string>, when: { input: string, value: string, permissions: Record<string, string> }[] }} ActionPermissions
 */

/**
 * @param {string} yamlText the action.yml text
 * @returns {ActionPermissions | undefined} undefined when the action declares none
 */
export function readActionPermissions(yamlText) {
  const lines = yamlText.split(/\r?\n/);
  const start = lines.findIndex((l) => /^# permissions:/.test(l));
  if (start < 0) return undefined;
  /** @type {ActionPermissions} */
  const out = { always: {}, when: [] };
  if (/^# permissions:\s*none\s*$/.test(lines[start])) return out;
  for (const line of lines.slice(start + 1)) {
    const m = /^#\s+([a-z-]+):\s*(read|write)\s*(?:#\s*with\s+([a-z0-9-]+):\s*(\S+)\s*)?$/.exec(line);
    if (!m) break;
    const [, scope, level, input, value] = m;
    if (input === undefined) out.always[scope] = level;
    else out.when.push({ input, value, permissions: { [scope]: level } });
  }
  if (Object.keys(out.always).length === 0 && out.when.length === 0) {
    throw new Error(`the "# permissions:" block names no permission (write "# permissions: none" for an action that needs none)`);
  }
  return out;
}
