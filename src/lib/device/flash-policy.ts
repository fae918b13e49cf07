/**
 * A device's flash policy: a JSON file a product can ship (by default
 * /etc/pi-image/flash-policy.json) so that flashing on the device refuses
 * what the product says without anyone remembering a flag:
 *
 *   {
 *     "protectLabels": ["OURBOX_DATA"],
 *     "protectSerials": ["S64DNX0R123456"],
 *     "requireSignature": true,
 *     "signer": { "repository": "acme/ourbox-mini",
 *                 "signer-workflow": "acme/pi-image-release/.github/workflows/pipeline.yml",
 *                 "trusted-root": "/etc/pi-image/trusted_root.json" }
 *   }
 *
 * Flags add to it (more protected labels and serials) and may name a signer
 * where it names none; they never loosen it.
 */
import { existsSync } from 'node:fs';
import { PiImageError } from '../core/errors';
import { readSmallFile } from '../core/small-file';
import { DEFAULT_PROTECTED_LABELS } from './disk-policy';
import { asObject, parseJsonObject } from '../core/json-value';
import { parseSignerPolicy, readSignerOptions, SIGNER_OPTION_NAMES, type SignerPolicy } from '../signing/signer-policy';

export const DEFAULT_FLASH_POLICY_FILE = '/etc/pi-image/flash-policy.json';

export interface FlashPolicyFile {
  protectLabels: string[];
  protectSerials: string[];
  requireSignature: boolean;
  signer?: SignerPolicy | undefined;
  trustedRoot?: string | undefined;
}

const KEYS = new Set(['protectLabels', 'protectSerials', 'requireSignature', 'signer']);

function strings(value: unknown, key: string, where: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.trim() === '')) {
    throw new PiImageError('INPUT_INVALID', `${where}: "${key}" must be a list of non-empty strings`);
  }
  return (value as string[]).map((v) => v.trim());
}

export function parseFlashPolicy(text: string, where: string): FlashPolicyFile {
  const json = parseJsonObject(text);
  if (!json) throw new PiImageError('INPUT_INVALID', `${where} is not a JSON object`);
  const unknown = Object.keys(json).filter((k) => !KEYS.has(k));
  if (unknown.length > 0)
    throw new PiImageError('INPUT_INVALID', `${where}: unknown key ${unknown.map((k) => `"${k}"`).join(', ')} (known: ${[...KEYS].join(', ')})`);
  if (json.requireSignature !== undefined && typeof json.requireSignature !== 'boolean') {
    throw new PiImageError('INPUT_INVALID', `${where}: "requireSignature" must be true or false`);
  }
  let signer: SignerPolicy | undefined;
  let trustedRoot: string | undefined;
  if (json.signer !== undefined) {
    const values = asObject(json.signer);
    if (!values) throw new PiImageError('INPUT_INVALID', `${where}: "signer" must be an object of verify's options (repository, signer-workflow, …)`);
    const known = new Set([...Object.values(SIGNER_OPTION_NAMES), 'trusted-root']);
    const stray = Object.keys(values).filter((k) => !known.has(k));
    if (stray.length > 0) throw new PiImageError('INPUT_INVALID', `${where}: "signer" has unknown key ${stray.map((k) => `"${k}"`).join(', ')}`);
    const get = (name: string): string | boolean | undefined => {
      const v = values[name];
      return typeof v === 'string' || typeof v === 'boolean' ? v : undefined;
    };
    signer = parseSignerPolicy(readSignerOptions(get), (key) => `${where}: signer.${SIGNER_OPTION_NAMES[key]}`);
    if (!signer) throw new PiImageError('INPUT_INVALID', `${where}: "signer" names no signer (repository, signer-workflow or certificate-identity)`);
    const root = get('trusted-root');
    trustedRoot = typeof root === 'string' && root.trim() !== '' ? root.trim() : undefined;
  }
  const requireSignature = json.requireSignature === true;
  if (requireSignature && !signer) throw new PiImageError('INPUT_INVALID', `${where}: "requireSignature" needs a "signer" to check signatures against`);
  return {
    protectLabels: strings(json.protectLabels, 'protectLabels', where),
    protectSerials: strings(json.protectSerials, 'protectSerials', where),
    requireSignature,
    signer,
    trustedRoot,
  };
}

/** The policy file given, or the device's default one when it exists. */
export async function loadFlashPolicy(path: string | undefined): Promise<FlashPolicyFile | undefined> {
  const file = path ?? (existsSync(DEFAULT_FLASH_POLICY_FILE) ? DEFAULT_FLASH_POLICY_FILE : undefined);
  if (!file) return undefined;
  return parseFlashPolicy((await readSmallFile(file, 1024 * 1024)).toString('utf8'), file);
}

/** What a flash applies: the product's default protection, the policy file, and the options given, which add and never loosen. */
export interface FlashRules {
  protectedLabels: string[];
  protectedSerials: string[];
  requireSignature: boolean;
  signer?: SignerPolicy | undefined;
  trustedRoot?: string | undefined;
}

export interface GivenFlashOptions {
  signer?: SignerPolicy | undefined;
  trustedRoot?: string | undefined;
  protectLabels: readonly string[];
  protectSerials: readonly string[];
  requireSignature: boolean;
}

/** Combines the policy file with the options given; `name` spells an option as the front end does (--repository, input repository). */
export function flashRules(file: FlashPolicyFile | undefined, given: GivenFlashOptions, name: (option: string) => string): FlashRules {
  if (given.signer && file?.signer) {
    throw new PiImageError(
      'INPUT_INVALID',
      `the flash policy names the signer: give ${name('repository')} and the other signer options only when it names none`,
    );
  }
  const signer = file?.signer ?? given.signer;
  const requireSignature = given.requireSignature || (file?.requireSignature ?? false);
  if (requireSignature && !signer) {
    throw new PiImageError(
      'INPUT_INVALID',
      `${name('require-signature')} needs to know whose signature to accept: ${name('repository')} (and ${name('signer-workflow')})`,
    );
  }
  return {
    protectedLabels: [...DEFAULT_PROTECTED_LABELS, ...(file?.protectLabels ?? []), ...given.protectLabels],
    protectedSerials: [...(file?.protectSerials ?? []), ...given.protectSerials],
    requireSignature,
    signer,
    trustedRoot: given.trustedRoot ?? file?.trustedRoot,
  };
}
