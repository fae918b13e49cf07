/**
 * The boot test's settings as a front end receives them (CLI flags, action
 * inputs: names without dashes' differences), parsed into typed options.
 * Pure: every mistake is INPUT_INVALID naming the input.
 */
import { PiImageError } from '../core/errors';
import { checkIntegerInRange, parseBoolean } from '../core/values';
import type { BootTestOptions } from './boot-test';

/** Settings by their CLI/input name; lists (allow-failed) as arrays. */
export interface BootTestInputValues {
  checks?: string | undefined;
  'data-label'?: string | undefined;
  'data-mount'?: string | undefined;
  'allow-failed'?: readonly string[] | undefined;
  /** Flags: a boolean from the CLI, "true"/"false" from an action input. */
  network?: string | boolean | undefined;
  reboots?: string | undefined;
  'time-limit'?: string | undefined;
  stall?: string | undefined;
  accel?: string | undefined;
  cpus?: string | undefined;
  memory?: string | undefined;
  mirror?: string | undefined;
  suite?: string | undefined;
  keyring?: string | undefined;
  'kernel-deb'?: string | undefined;
  'expected-version'?: string | undefined;
  'evidence-dir'?: string | undefined;
}

export type ParsedBootTestInputs = Omit<BootTestOptions, 'source' | 'cacheDir' | 'logger' | 'workDir'>;

const LABEL = /^[A-Za-z0-9_.-]{1,16}$/;
const UNIT = /^[A-Za-z0-9@:._\\-]{1,256}\.(service|socket|mount|timer|target|path|swap|device|scope|slice|automount)$/;

export function parseBootTestInputs(v: BootTestInputValues, label: (name: string) => string): ParsedBootTestInputs {
  const text = (name: keyof BootTestInputValues): string | undefined => {
    const value = v[name];
    return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
  };
  const number = (name: keyof BootTestInputValues, min: number, max: number): number | undefined => {
    const value = text(name);
    return value === undefined ? undefined : checkIntegerInRange(value, min, max, label(name));
  };
  const dataLabel = text('data-label');
  if (dataLabel !== undefined && !LABEL.test(dataLabel))
    throw new PiImageError('INPUT_INVALID', `${label('data-label')} "${dataLabel.slice(0, 40)}" is not an ext4 label (1 to 16 of A-Z a-z 0-9 _ . -)`);
  const mountText = text('data-mount');
  // findmnt reports /var/lib/ourbox, never /var/lib/ourbox/.
  const dataMount = mountText === undefined || mountText === '/' ? mountText : mountText.replace(/\/+$/, '');
  if (dataMount !== undefined && (!/^\/[A-Za-z0-9._/-]*$/.test(dataMount) || dataMount.split('/').includes('..')))
    throw new PiImageError('INPUT_INVALID', `${label('data-mount')} "${dataMount.slice(0, 60)}" is not an absolute path`);
  if (dataMount !== undefined && dataLabel === undefined) throw new PiImageError('INPUT_INVALID', `${label('data-mount')} needs ${label('data-label')}`);
  const allowFailedUnits = (v['allow-failed'] ?? []).flatMap((s) => s.split(/[\s,]+/)).filter(Boolean);
  for (const u of allowFailedUnits) {
    if (!UNIT.test(u))
      throw new PiImageError('INPUT_INVALID', `${label('allow-failed')} "${u.slice(0, 60)}" is not a systemd unit name (NAME.service, NAME.mount, ...)`);
  }
  const accel = text('accel');
  if (accel !== undefined && accel !== 'kvm' && accel !== 'tcg' && accel !== 'auto')
    throw new PiImageError('INPUT_INVALID', `${label('accel')} "${accel.slice(0, 20)}" must be kvm, tcg or auto`);
  const mirror = text('mirror');
  if (mirror !== undefined && !/^https?:\/\/[^\s]+$/.test(mirror))
    throw new PiImageError('INPUT_INVALID', `${label('mirror')} "${mirror.slice(0, 60)}" is not an http(s) URL`);
  const suite = text('suite');
  if (suite !== undefined && !/^[a-z][a-z0-9-]{1,30}$/.test(suite))
    throw new PiImageError('INPUT_INVALID', `${label('suite')} "${suite.slice(0, 40)}" is not a Debian suite name`);
  const flag = (name: 'network'): boolean => {
    const value = v[name];
    return typeof value === 'boolean' ? value : parseBoolean(value ?? '', label(name));
  };
  const timeLimitSeconds = number('time-limit', 30, 24 * 3600);
  const stallSeconds = number('stall', 10, 24 * 3600);
  return {
    checksDir: text('checks'),
    dataLabel,
    dataMount,
    allowFailedUnits,
    network: flag('network'),
    reboots: number('reboots', 0, 5),
    timeLimitSeconds,
    stallSeconds,
    accel: accel === 'auto' ? undefined : accel,
    cpus: number('cpus', 1, 8),
    memoryMiB: number('memory', 256, 16384),
    mirror: mirror?.replace(/\/+$/, ''),
    suite,
    keyring: text('keyring'),
    kernelDeb: text('kernel-deb'),
    expectedVersion: text('expected-version'),
    evidenceDir: text('evidence-dir'),
  };
}
