/**
 * The package step's options and their checks. Pure: the CLI and the action
 * both turn their flags or inputs into this and get the same errors, each
 * naming the input at fault.
 */
import { PiImageError } from '../core/errors';
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

export function checkChannel(value: string, input = 'channel'): Channel {
  if (!(CHANNELS as readonly string[]).includes(value)) {
    throw new PiImageError('INPUT_INVALID', `${input} "${value}" is not one of: ${CHANNELS.join(', ')}`);
  }
  return value as Channel;
}

/** The default release name: pi-gen's image base without a leading IMG_DATE. */
export function defaultReleaseName(imageBase: string): string {
  return imageBase.replace(/^\d{4}-\d{2}-\d{2}-/, '');
}
