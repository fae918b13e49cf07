/**
 * Writes pi-gen config files. pi-gen `source`s its config as bash (on the host
 * in build-docker.sh, in the container or natively in build.sh), so every value
 * is single-quoted: inside single quotes bash expands nothing ($, `, \, ", $(…)
 * and newlines are all literal), and a single quote is written as '\''.
 * Names are checked to be plain shell variable names. Nothing a value holds can
 * end the assignment or run code.
 */
import { PiImageError } from '../core/errors';

/** Quotes a value for bash so it is read back byte for byte. */
export function shellQuote(value: string): string {
  if (value.includes('\0')) throw new PiImageError('INPUT_INVALID', 'a value cannot contain a NUL byte');
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface ConfigEntry {
  name: string;
  value: string;
  /** Shown as a comment above the line (never the value: it may be a secret). */
  comment?: string;
}

/**
 * Renders the config. Every variable is exported so pi-gen's stage scripts (child
 * processes of build.sh) see product variables too, not only the ones build.sh
 * exports itself.
 */
export function renderPiGenConfig(entries: readonly ConfigEntry[], header: string): string {
  const seen = new Set<string>();
  const lines = header
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => `# ${l}`);
  for (const e of entries) {
    if (!SHELL_NAME.test(e.name)) throw new PiImageError('INPUT_INVALID', `"${e.name}" is not a valid pi-gen variable name`);
    if (seen.has(e.name)) throw new PiImageError('INPUT_INVALID', `${e.name} is set twice`);
    seen.add(e.name);
    if (e.comment) lines.push(`# ${e.comment.replace(/\n/g, ' ')}`);
    lines.push(`export ${e.name}=${shellQuote(e.value)}`);
  }
  return `${lines.join('\n')}\n`;
}
