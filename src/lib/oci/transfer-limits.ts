/**
 * How long a registry may take, like curl's --connect-timeout, --speed-limit
 * / --speed-time and --max-time: an answer within `responseSeconds`, at least
 * `speedLimit` bytes a second averaged over every `speedTimeSeconds` while a
 * body moves (a registry trickling a byte every 30 s is given up on), and,
 * when set, no request longer than `maxTimeSeconds`. Parsed here for every
 * front end.
 */
import { PiImageError } from '../core/errors';

export interface TransferLimits {
  responseSeconds: number;
  speedLimit: number;
  speedTimeSeconds: number;
  /** 0: no overall limit (a big upload over a slow link may take hours). */
  maxTimeSeconds: number;
}

export const DEFAULT_TRANSFER_LIMITS: TransferLimits = { responseSeconds: 30, speedLimit: 1024, speedTimeSeconds: 30, maxTimeSeconds: 0 };

export const TRANSFER_LIMIT_NAMES: Record<keyof TransferLimits, string> = {
  responseSeconds: 'response-timeout',
  speedLimit: 'speed-limit',
  speedTimeSeconds: 'speed-time',
  maxTimeSeconds: 'max-time',
};

export const TRANSFER_LIMITS_HELP = `  --response-timeout S      give up on a registry that does not answer within S seconds (default ${DEFAULT_TRANSFER_LIMITS.responseSeconds})
  --speed-limit B           give up on a transfer slower than B bytes/s ...
  --speed-time S            ... for S seconds (default ${DEFAULT_TRANSFER_LIMITS.speedLimit} bytes/s for ${DEFAULT_TRANSFER_LIMITS.speedTimeSeconds} s)
  --max-time S              give up on any one request after S seconds (default: no limit)
  Requests given up on are retried (4 times, with backoff) like other transient failures.`;

/** Reads the limits through a getter keyed by option name; unset ones keep their defaults. */
export function parseTransferLimits(get: (name: string) => string | undefined, label: (name: string) => string): TransferLimits {
  const out: TransferLimits = { ...DEFAULT_TRANSFER_LIMITS };
  for (const key of Object.keys(TRANSFER_LIMIT_NAMES) as (keyof TransferLimits)[]) {
    const raw = get(TRANSFER_LIMIT_NAMES[key])?.trim();
    if (raw === undefined || raw === '') continue;
    const min = key === 'maxTimeSeconds' || key === 'speedLimit' ? 0 : 1;
    if (!/^\d{1,9}$/.test(raw) || Number(raw) < min) {
      throw new PiImageError('INPUT_INVALID', `${label(TRANSFER_LIMIT_NAMES[key])} "${raw.slice(0, 20)}" must be a whole number${min ? ' of at least 1' : ''}`);
    }
    out[key] = Number(raw);
  }
  return out;
}
