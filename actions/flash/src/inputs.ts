/** The flash action's inputs, parsed by a pure function of a getter. */
import { PiImageError } from '../../../src/lib/core/errors';
import { parseBoolean } from '../../../src/lib/core/values';
import type { TargetSpec } from '../../../src/lib/device/flash-target';
import { parseSignerPolicy, readSignerOptions, SIGNER_OPTION_NAMES, type SignerPolicy } from '../../../src/lib/signing/signer-policy';

export interface FlashInputs {
  source: string;
  target: TargetSpec;
  yes: boolean;
  protectLabels: string[];
  protectSerials: string[];
  policyFile: string | undefined;
  requireSignature: boolean;
  signer: SignerPolicy | undefined;
  trustedRoot: string | undefined;
  verify: boolean;
  zeroUnmapped: boolean;
  receipt: string | undefined;
}

function list(value: string): string[] {
  return value
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export function parseFlashInputs(get: (name: string) => string): FlashInputs {
  const source = get('source');
  if (!source) throw new PiImageError('INPUT_INVALID', 'input source is required');
  const given = (['target', 'serial', 'wwn'] as const).filter((name) => get(name) !== '');
  if (given.length !== 1) {
    throw new PiImageError(
      'INPUT_INVALID',
      `name the disk once: input target, serial or wwn (${given.length === 0 ? 'none is' : `${given.join(' and ')} are`} set)`,
    );
  }
  const which = given[0]!;
  const value = get(which);
  const target: TargetSpec = which === 'target' ? { path: value } : which === 'serial' ? { serial: value } : { wwn: value };
  const signer = parseSignerPolicy(readSignerOptions(get), (key) => `input ${SIGNER_OPTION_NAMES[key]}`);
  const trustedRoot = get('trusted-root') || undefined;
  return {
    source,
    target,
    yes: parseBoolean(get('yes'), 'input yes'),
    protectLabels: list(get('protect-labels')),
    protectSerials: list(get('protect-serials')),
    policyFile: get('policy') || undefined,
    requireSignature: parseBoolean(get('require-signature'), 'input require-signature'),
    signer,
    trustedRoot,
    verify: parseBoolean(get('verify'), 'input verify'),
    zeroUnmapped: parseBoolean(get('zero-unmapped'), 'input zero-unmapped'),
    receipt: get('receipt') || undefined,
  };
}
