/**
 * The package step's options and their checks. Pure: the CLI and the action
 * both turn their flags or inputs into this and get the same errors, each
 * naming the input at fault.
 */
import { PiImageError } from '../core/errors';
import { checkSafeName } from '../core/safe-name';
import type { Logger } from '../core/logger';
import { CHANNELS, type Channel } from './manifest';
import type { Provenance } from './metadata';

export interface PackageOptions {
  deployDir: string;
  outDir: string;
  /** Base of every file name in the release; default: pi-gen's image name without its date. */
  name?: string | undefined;
  version?: string | undefined;
  channel?: Channel | undefined;
  /** Pick one image when deploy/ holds several. */
  image?: string | undefined;
  info?: string | undefined;
  buildLog?: string | undefined;
  /** xz preset, 0–9. */
  compressionLevel?: number | undefined;
  /** xz threads, 0 = one per core. */
  threads?: number | undefined;
  /** Replace an existing non-empty output directory. */
  force?: boolean | undefined;
  /** Seconds since the epoch; makes every timestamp, and so every file, reproducible. */
  sourceDateEpoch?: number | undefined;
  provenance?: Provenance | undefined;
  productReleaseFile?: string | undefined;
  logger: Logger;
}

export const DEFAULT_VERSION = 'dev';
export const DEFAULT_CHANNEL: Channel = 'nightly';
export const DEFAULT_COMPRESSION_LEVEL = 6;

export function checkReleaseName(value: string, input = 'name'): string {
  return checkSafeName(value, input);
}

export function checkChannel(value: string, input = 'channel'): Channel {
  if (!(CHANNELS as readonly string[]).includes(value)) {
    throw new PiImageError('INPUT_INVALID', `${input} "${value}" is not one of: ${CHANNELS.join(', ')}`);
  }
  return value as Channel;
}

export function checkIntegerInRange(value: string | number, min: number, max: number, input: string): number {
  const n = typeof value === 'number' ? value : /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new PiImageError('INPUT_INVALID', `${input} "${value}" must be a whole number from ${min} to ${max}`);
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

export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The default release name: pi-gen's image base without a leading IMG_DATE. */
export function defaultReleaseName(imageBase: string): string {
  return imageBase.replace(/^\d{4}-\d{2}-\d{2}-/, '');
}
