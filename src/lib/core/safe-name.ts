/**
 * Names that become file names, tags or path segments. One definition each,
 * used by every front end and by every reader of untrusted names.
 */
import { PiImageError } from './errors';

/** A release name or version: letters, digits, '.', '_', '+', '-'; at most 128; no "..". */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;
export const SAFE_NAME_MAX = 128;

/** A plain file name: no directory, not hidden, no "..", nothing a shell or a tar reader treats specially. */
const PLAIN_FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._+-]{0,254}$/;

export function isSafeName(value: string): boolean {
  return SAFE_NAME.test(value) && !value.includes('..');
}

export function isPlainFileName(value: string): boolean {
  return PLAIN_FILE_NAME.test(value) && !value.includes('..');
}

export function checkSafeName(value: string, input: string): string {
  if (!isSafeName(value)) {
    throw new PiImageError(
      'INPUT_INVALID',
      `${input} "${value}" cannot be used in file names: use letters, digits, '.', '_', '+' and '-' (at most ${SAFE_NAME_MAX}, starting with a letter or digit)`,
    );
  }
  return value;
}
