/**
 * A whole cloud-init `user-data` (and `network-config`) given by the user,
 * checked before anything is written: cloud-init skips a user-data it cannot
 * use without failing the boot, so a typo means a device that silently comes
 * up uncustomised. Pure functions over the files' text; each message names the
 * file and, where YAML says, the line.
 *
 * - user-data: UTF-8, at most MAX_USER_DATA_BYTES, first line `#cloud-config`
 *   (cloud-init's marker for this kind of user-data; Imager writes it too),
 *   one YAML document, a mapping at the top, no duplicate keys.
 * - network-config: one YAML document, a mapping, network config version 1 or
 *   2, at the top or under `network:`.
 * - the instance id: cloud-init applies a user-data once per instance id, so
 *   one already on the boot partition (an earlier customisation that may have
 *   run) is refused: the new settings would be taken as already applied.
 */
import { parseAllDocuments } from 'yaml';
import { PiImageError } from '../core/errors';

/** cloud-init reads user-data whole; this is far above any hand-written one. */
export const MAX_USER_DATA_BYTES = 1024 * 1024;

export interface CloudInitFiles {
  userData: string;
  /** The user-data's top-level keys (modules it configures). */
  userDataKeys: string[];
  networkConfig?: string | undefined;
}

function fail(name: string, message: string): never {
  throw new PiImageError('INPUT_INVALID', `${name}: ${message}`);
}

/** One YAML document whose top is a mapping; the first error named with its line. */
function yamlMapping(text: string, name: string): Record<string, unknown> {
  const docs = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
  if (!Array.isArray(docs)) fail(name, 'holds no YAML document');
  if (docs.length !== 1) fail(name, `holds ${docs.length} YAML documents (--- separators); cloud-init reads one`);
  const doc = docs[0]!;
  const problem = doc.errors[0];
  if (problem) {
    const line = problem.linePos?.[0]?.line;
    const message = problem.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    fail(name, `not valid YAML${line !== undefined ? ` at line ${line}` : ''}: ${message}`);
  }
  let value: unknown;
  try {
    // An alias bomb expands to gigabytes: its expansion is bounded, and refused past the bound.
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    fail(name, `its YAML cannot be expanded: ${(e as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(name, 'its top level is not a mapping of keys');
  return value as Record<string, unknown>;
}

function checkText(bytes: Buffer, name: string, max: number): string {
  if (bytes.length === 0) fail(name, 'is empty');
  if (bytes.length > max) fail(name, `is ${bytes.length} bytes, more than ${max}`);
  const text = bytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(bytes)) fail(name, 'is not UTF-8 text');
  if (text.includes('\0')) fail(name, 'holds a NUL byte: not a text file');
  return text;
}

/** Checks a user-data file's bytes; returns its text (unchanged) and its top-level keys. */
function lintUserData(bytes: Buffer, name: string): { text: string; keys: string[] } {
  const text = checkText(bytes, name, MAX_USER_DATA_BYTES);
  const first = text.split('\n', 1)[0]!.replace(/\r$/, '').trimEnd();
  if (first !== '#cloud-config') {
    const what = first.startsWith('#!')
      ? 'a script'
      : first.startsWith('Content-Type:')
        ? 'a MIME multi-part'
        : first.startsWith('#include')
          ? 'an #include list'
          : `"${first.slice(0, 40)}"`;
    fail(name, `its first line is ${what}, not #cloud-config: only cloud-config user-data is taken (cloud-init would skip anything it cannot read)`);
  }
  return { text, keys: Object.keys(yamlMapping(text, name)) };
}

/** Checks a network-config file's bytes: netplan-style version 2 or cloud-init's version 1, at the top or under `network:`. */
function lintNetworkConfig(bytes: Buffer, name: string): string {
  const text = checkText(bytes, name, MAX_USER_DATA_BYTES);
  const top = yamlMapping(text, name);
  const inner = top.network !== undefined ? top.network : top;
  if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) fail(name, '`network:` is not a mapping');
  const version = (inner as Record<string, unknown>).version;
  if (version !== 1 && version !== 2) fail(name, `network config version ${JSON.stringify(version ?? null)}: cloud-init reads version 1 or 2`);
  return text;
}

/** A user-data and an optional network-config, each named (its path) in any refusal; the texts unchanged. */
export function lintCloudInitFiles(userData: { bytes: Buffer; name: string }, networkConfig?: { bytes: Buffer; name: string }): CloudInitFiles {
  const { text, keys } = lintUserData(userData.bytes, userData.name);
  return { userData: text, userDataKeys: keys, networkConfig: networkConfig ? lintNetworkConfig(networkConfig.bytes, networkConfig.name) : undefined };
}

/** The instance id a boot partition already carries: meta-data's `instance-id`, or cmdline.txt's `ds=nocloud;i=`. */
export function existingInstanceIds(metaData: string | undefined, cmdline: string | undefined): string[] {
  const ids = new Set<string>();
  const m = metaData !== undefined ? /^instance-id:\s*["']?([^"'\s]+)["']?\s*$/m.exec(metaData) : null;
  if (m) ids.add(m[1]!);
  for (const arg of (cmdline ?? '').trim().split(/\s+/)) {
    if (!arg.startsWith('ds=')) continue;
    for (const part of arg.slice(3).split(';')) if (/^(i|instance-id)=/.test(part)) ids.add(part.replace(/^[^=]*=/, ''));
  }
  return [...ids];
}

/** Refuses an instance id the partition already carries (cloud-init would take the customisation as applied). */
export function checkInstanceIdUnused(instanceId: string, existing: readonly string[], where: string): void {
  if (existing.includes(instanceId))
    fail(
      'instance id',
      `${instanceId} is already the instance id on ${where}: cloud-init applies a customisation once per id, so this one could be taken as already applied; give a new --instance-id or leave it out for a random one`,
    );
}
