/**
 * Who may have signed: the certificate's identity (for GitHub workflows the
 * URI of the workflow file at a ref) and its OIDC issuer. A pattern is
 * anchored at both ends: `https://github.com/acme/img/.github/workflows/release.yml@refs/tags/v.*`
 * cannot be satisfied by a longer or look-alike identity.
 */
import { PiImageError } from '../core/errors';

export interface IdentityPolicy {
  /** Exact identity, or a regular expression when `regexp` is set. */
  identity: string;
  regexp: boolean;
  issuer: string;
}

export function compileIdentity(policy: IdentityPolicy): (san: string) => boolean {
  if (!policy.regexp) return (san) => san === policy.identity;
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${policy.identity})$`, 'u');
  } catch (e) {
    throw new PiImageError('INPUT_INVALID', `certificate-identity-regexp "${policy.identity}" is not a valid regular expression: ${(e as Error).message}`);
  }
  return (san) => re.test(san);
}
