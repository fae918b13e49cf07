/**
 * A product's pi-gen config file (pigen/config/*.env): KEY=VALUE lines, read by
 * pi-image and never sourced by a shell. Keys that are typed settings are
 * checked as such; STAGE_LIST and OVERRIDES are the wrapper's; the rest pass
 * through to pi-gen's config, quoted.
 */
import { PiImageError } from '../core/errors';
import { readSmallFile } from '../core/small-file';
import { parseBoolean } from '../core/values';
import { SHELL_NAME } from './config-file';
import { SECRET_VARIABLES, TYPED_VARIABLES, type PiGenSettings } from './settings';

export interface ProductConfig {
  /** Typed settings found in the file. */
  settings: Partial<Omit<PiGenSettings, 'stageList' | 'extra'>>;
  /** STAGE_LIST as written: upstream stage names and paths from the repository root. */
  stages?: string[];
  /** OVERRIDES: a directory of files laid over upstream stages. */
  overrides?: string;
  /** EXPORT and EXPORT_* (how the image is exported and laid out): the build's, not pi-gen's. */
  export?: Record<string, string>;
  /** IMAGER_* (how the product appears in a Raspberry Pi Imager feed): the release's, not pi-gen's. */
  imager?: Record<string, string>;
  /** NETBOOT_* (the lab's network-boot server, for pi-image netboot and the release's netboot asset): not pi-gen's. */
  netboot?: Record<string, string>;
  /** Every other variable. */
  extra: Record<string, string>;
}

/** pi-gen's own EXPORT_* variables, which no config sets (settings.ts refuses them). */
const PIGEN_EXPORT_VARIABLES = new Set(['EXPORT_DIR', 'EXPORT_ROOTFS_DIR', 'EXPORT_DIRS', 'EXPORT_CONFIG_DIR']);

const BOOLEAN_KEYS = new Set(['disableFirstBootUserRename', 'passwordlessSudo', 'enableSsh', 'pubkeyOnlySsh', 'enableCloudInit']);
const BY_VARIABLE = new Map(Object.entries(TYPED_VARIABLES).map(([k, v]) => [v, k as keyof typeof TYPED_VARIABLES]));

function unquote(raw: string, where: string): string {
  const v = raw.trim();
  if (v.startsWith('"') || v.startsWith("'")) {
    const q = v[0]!;
    if (v.length < 2 || !v.endsWith(q)) throw new PiImageError('INPUT_INVALID', `${where}: unbalanced ${q} quote`);
    const inner = v.slice(1, -1);
    if (inner.includes(q)) throw new PiImageError('INPUT_INVALID', `${where}: a quoted value cannot contain its own quote`);
    return inner;
  }
  return v;
}

/**
 * Applies one KEY=VALUE to a config: the same rules for a config file line and
 * for a `--set` flag or `settings` input. `replace` lets later sources win.
 */
export function applySetting(config: ProductConfig, key: string, value: string, where: string): void {
  if (!SHELL_NAME.test(key)) throw new PiImageError('INPUT_INVALID', `${where}: "${key}" is not a variable name`);
  if (SECRET_VARIABLES.has(key)) {
    throw new PiImageError(
      'INPUT_INVALID',
      `${where}: ${key} is a secret; config files and settings are committed and printed: pass it in PI_IMAGE_FIRST_USER_PASS (CLI) or the first-user-password input (action)`,
    );
  }
  if (key === 'STAGE_LIST') {
    config.stages = value.split(/\s+/).filter(Boolean);
    return;
  }
  if (key === 'OVERRIDES') {
    config.overrides = value;
    return;
  }
  if (/^EXPORT(_|$)/.test(key) && !PIGEN_EXPORT_VARIABLES.has(key)) {
    config.export = { ...config.export, [key]: value };
    return;
  }
  if (key.startsWith('IMAGER_')) {
    config.imager = { ...config.imager, [key]: value };
    return;
  }
  if (key.startsWith('NETBOOT_')) {
    config.netboot = { ...config.netboot, [key]: value };
    return;
  }
  const typed = BY_VARIABLE.get(key);
  if (!typed) {
    config.extra[key] = value;
    return;
  }
  const s = config.settings as Record<string, unknown>;
  if (BOOLEAN_KEYS.has(typed)) s[typed] = parseBoolean(value, `${where}: ${key}`);
  else if (typed === 'compressionLevel') {
    if (!/^\d$/.test(value)) throw new PiImageError('INPUT_INVALID', `${where}: COMPRESSION_LEVEL "${value}" must be 0-9`);
    s[typed] = Number(value);
  } else if (typed === 'deployCompression') s[typed] = value;
  else s[typed] = value;
}

/** Parses KEY=VALUE (the form of --set flags and the action's settings lines). */
export function splitAssignment(text: string, where: string): [string, string] {
  const at = text.indexOf('=');
  if (at <= 0) throw new PiImageError('INPUT_INVALID', `${where}: expected KEY=VALUE (a variable name, "=", the value)`);
  return [text.slice(0, at).trim(), text.slice(at + 1)];
}

export function parseProductConfig(text: string, source: string): ProductConfig {
  const config: ProductConfig = { settings: {}, extra: {} };
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((line, index) => {
    const where = `${source}:${index + 1}`;
    if (line.trim() === '' || line.trim().startsWith('#')) return;
    const m = /^\s*(?:export\s+)?([^=\s]+)=(.*)$/.exec(line);
    if (!m || !SHELL_NAME.test(m[1]!)) {
      // The line is not shown: a file given by mistake (a password file) must not end up in a log.
      throw new PiImageError('INPUT_INVALID', `${where}: expected KEY=VALUE (a shell variable name, "=", the value): not a pi-gen config line`);
    }
    const key = m[1]!;
    if (seen.has(key)) throw new PiImageError('INPUT_INVALID', `${where}: ${key} is set twice`);
    seen.add(key);
    const value = unquote(m[2]!, where);
    if (/\$\(|`|\$\{/.test(value)) {
      throw new PiImageError('INPUT_INVALID', `${where}: ${key} looks like shell code; this file is data, nothing in it is expanded`);
    }
    applySetting(config, key, value, where);
  });
  return config;
}

/** A product config file read (regular, at most 1 MiB) and parsed; `label` names it in messages. */
export async function readProductConfigFile(path: string, label: string): Promise<ProductConfig> {
  let text: string;
  try {
    text = (await readSmallFile(path, 1024 * 1024)).toString('utf8');
  } catch (e) {
    if (e instanceof PiImageError) throw e;
    throw new PiImageError('INPUT_INVALID', `config ${label} cannot be read: ${(e as Error).message}`, { cause: e });
  }
  return parseProductConfig(text, label);
}
