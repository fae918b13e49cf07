/** Small value parsers shared by every front end's input parsing. */
import { PiImageError } from './errors';

/** true/yes/1 or false/no/0 (and empty = false), as workflow authors write booleans. */
export function parseBoolean(value: string, input: string): boolean {
  if (/^(true|yes|1)$/i.test(value)) return true;
  if (value === '' || /^(false|no|0)$/i.test(value)) return false;
  throw new PiImageError('INPUT_INVALID', `input ${input} "${value}" must be true or false`);
}
