/** The pull action's inputs, parsed by a pure function of a getter. */
import { PiImageError } from '../../../src/lib/core/errors';
import { parseBoolean } from '../../../src/lib/core/values';
import { registryAccessInputs } from '../../../src/github/registry-inputs';
import type { RegistryAccess } from '../../../src/lib/oci/registry-access';
import { parseTarget, type Target } from '../../../src/lib/oci/target';
import { parseSignerPolicy, readSignerOptions, SIGNER_OPTION_NAMES, type SignerPolicy } from '../../../src/lib/signing/signer-policy';

export interface PullInputs {
  target: Target;
  reference: string;
  outDir: string;
  policy: SignerPolicy | undefined;
  trustedRoot: string | undefined;
  force: boolean;
  access: RegistryAccess;
}

export function parsePullInputs(get: (name: string) => string): PullInputs {
  const refText = get('ref');
  if (!refText) throw new PiImageError('INPUT_INVALID', 'input ref is required');
  const target = parseTarget(refText, 'input ref');
  const reference = target.kind === 'registry' ? (target.ref.digest ?? target.ref.tag) : (target.digest ?? target.tag);
  if (!reference) throw new PiImageError('INPUT_INVALID', `input ref "${refText}" names no tag or digest (add :TAG or @sha256:...)`);
  const outDir = get('out-dir');
  if (!outDir) throw new PiImageError('INPUT_INVALID', 'input out-dir is required');
  const policy = parseSignerPolicy(readSignerOptions(get), (key) => `input ${SIGNER_OPTION_NAMES[key]}`);
  const trustedRoot = get('trusted-root') || undefined;
  if (trustedRoot && !policy)
    throw new PiImageError('INPUT_INVALID', 'input trusted-root is only used to verify: give repository (and signer-workflow), or certificate-identity');
  return {
    target,
    reference,
    outDir,
    policy,
    trustedRoot,
    force: parseBoolean(get('force'), 'input force'),
    access: registryAccessInputs(get),
  };
}
