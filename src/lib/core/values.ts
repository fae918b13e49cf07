/**
 * Small value parsers shared by every front end and every input format (CLI
 * flags, action inputs, config files). Each names the input at fault.
 */
import { PiImageError } from './errors';

/** true/yes/1 or false/no/0 (and empty = false), as workflow authors and config files write booleans. */
export function parseBoolean(value: string, label: string): boolean {
  if (/^(true|yes|1)$/i.test(value.trim())) return true;
  if (value.trim() === '' || /^(false|no|0)$/i.test(value.trim())) return false;
  throw new PiImageError('INPUT_INVALID', `${label} "${value.slice(0, 40)}" must be true or false (or 1 or 0)`);
}

export function checkIntegerInRange(value: string | number, min: number, max: number, label: string): number {
  const n = typeof value === 'number' ? value : /^-?\d{1,15}$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new PiImageError('INPUT_INVALID', `${label} "${String(value).slice(0, 40)}" must be a whole number from ${min} to ${max}`);
  }
  return n;
}

/** The last second a four-digit year can name (9999-12-31T23:59:59Z): ISO 8601 timestamps in every file stay valid. */
export const MAX_SOURCE_DATE_EPOCH = 253402300799;

/** SOURCE_DATE_EPOCH as reproducible-builds.org defines it: a non-negative integer of seconds. */
export function parseSourceDateEpoch(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const text = value.trim();
  if (!/^\d{1,15}$/.test(text) || Number(text) > MAX_SOURCE_DATE_EPOCH) {
    throw new PiImageError(
      'INPUT_INVALID',
      `SOURCE_DATE_EPOCH "${value.slice(0, 40)}" must be a whole number of seconds since 1970-01-01, at most ${MAX_SOURCE_DATE_EPOCH} (the year 9999)`,
    );
  }
  return Number(text);
}

/** An ISO 8601 UTC time to the second, as every file written here records times. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * KEY=VALUE lines or items (annotations), split at the first '='; `label`
 * names the input. A key is letters, digits and `. _ -` (reverse-domain
 * annotation keys); a key given twice is refused rather than one silently
 * winning.
 */
export function parseKeyValueList(items: readonly string[], label: string): Record<string, string> {
  const entries: [string, string][] = [];
  for (const item of items.map((i) => i.trim()).filter(Boolean)) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new PiImageError('INPUT_INVALID', `${label}: "${item.slice(0, 80)}" is not KEY=VALUE`);
    const key = item.slice(0, eq);
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(key) || key === '__proto__') {
      throw new PiImageError('INPUT_INVALID', `${label}: key "${key.slice(0, 80)}" is not letters, digits, ".", "_" and "-" (no spaces around "=")`);
    }
    if (entries.some(([k]) => k === key)) throw new PiImageError('INPUT_INVALID', `${label}: key "${key}" is given twice`);
    entries.push([key, item.slice(eq + 1)]);
  }
  return Object.fromEntries(entries);
}
