/** The sign action's inputs, parsed by a pure function of a getter. */
import { PiImageError } from '../../../src/lib/core/errors';
import { parseBoolean } from '../../../src/lib/core/values';

export interface SignInputs {
  releaseDir: string;
  fulcioUrl: string | undefined;
  rekorUrl: string | undefined;
  tsaUrl: string | undefined;
  pigenCommit: string | undefined;
  attest: boolean;
  githubToken: string | undefined;
}

function url(value: string | undefined, input: string): string | undefined {
  if (value === undefined) return undefined;
  if (!/^https?:\/\/[^\s]+$/.test(value)) throw new PiImageError('INPUT_INVALID', `input ${input} "${value}" is not an http(s) URL`);
  return value;
}

export function parseSignInputs(get: (name: string) => string): SignInputs {
  const optional = (name: string): string | undefined => get(name) || undefined;
  const releaseDir = get('release-dir');
  if (!releaseDir) throw new PiImageError('INPUT_INVALID', 'input release-dir is required');
  const pigenCommit = optional('pigen-commit');
  if (pigenCommit !== undefined && !/^[0-9a-f]{7,64}$/.test(pigenCommit))
    throw new PiImageError('INPUT_INVALID', `input pigen-commit "${pigenCommit}" is not a git commit id`);
  return {
    releaseDir,
    fulcioUrl: url(optional('fulcio-url'), 'fulcio-url'),
    rekorUrl: url(optional('rekor-url'), 'rekor-url'),
    tsaUrl: url(optional('tsa-url'), 'tsa-url'),
    pigenCommit,
    attest: parseBoolean(get('attest'), 'input attest'),
    githubToken: optional('github-token'),
  };
}
