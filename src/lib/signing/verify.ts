/**
 * Verifies a signed release directory, starting from what was signed:
 *
 * 1. the Sigstore bundle (certificate chain to a trusted Fulcio, transparency
 *    log entry or timestamp, signature) by sigstore-js's verifier;
 * 2. the signer (certificate subject, issuer, and Fulcio's GitHub extensions:
 *    source repository, ref, signer workflow, runner) against the policy;
 * 3. the signed statement: it must name the release and cover manifest.json
 *    and at least one file;
 * 4. manifest.json's bytes against their signed digest (so every field of it,
 *    channel and raw image digest included, is what was signed);
 * 5. the directory: nothing in it but the signed manifest's files and the
 *    files kept beside it; every signed file present with its signed digest.
 *
 * Each way a release can be wrong fails with its own code and message.
 */
import { join } from 'node:path';
import { bundleFromJSON, type Bundle } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { PiImageError } from '../core/errors';
import { digestBytes } from '../core/file-digest';
import type { Logger } from '../core/logger';
import { MANIFEST_FILE, MAX_MANIFEST_BYTES } from '../release/manifest';
import {
  checkFiles,
  diskDigests,
  MAX_SIGNATURE_BYTES,
  readSmallFile,
  releaseFromBytes,
  releaseNames,
  SIGNATURE_SUFFIX,
  strayEntries,
  type DigestSource,
  type ReleaseDir,
} from '../release/release-dir';
import { describeSigner, signerOfBundle, type Signer } from './signer-certificate';
import { checkSigner, describePolicy, type SignerPolicy } from './signer-policy';
import { INTOTO_PAYLOAD_TYPE, readSignedRelease, type InTotoStatement, type SignedRelease } from './statement';

export interface VerifyOptions {
  releaseDir: string;
  policy: SignerPolicy;
  /** The trusted root (Sigstore's TrustedRoot JSON). */
  trustedRoot: unknown;
  logger: Logger;
  /** A bundle from elsewhere (attached in a registry) instead of the one in the directory. */
  bundle?: { json: Buffer; label: string } | undefined;
  /** Digests of the directory's files already known (hashed while they were written): saves a second read. */
  digests?: DigestSource | undefined;
}

export interface VerifyResult {
  signer: Signer;
  /** The certificate subject (kept for callers that print it). */
  identity: string;
  issuer: string;
  files: number;
  statement: InTotoStatement;
  release: ReleaseDir;
  /** The bundle that verified, as JSON bytes. */
  bundleJson: Buffer;
}

async function findBundle(dir: string, given: VerifyOptions['bundle']): Promise<{ json: Buffer; label: string }> {
  if (given) return given;
  const candidates = (await strayEntries(dir, new Set())).filter((n) => n.endsWith(SIGNATURE_SUFFIX));
  if (candidates.length === 0) throw new PiImageError('SIGNATURE_MISSING', `${dir} is not signed: it holds no *${SIGNATURE_SUFFIX}`);
  if (candidates.length > 1) throw new PiImageError('BUNDLE_CORRUPT', `${dir} holds several signatures (${candidates.join(', ')}): keep the release's own`);
  return { json: await readSmallFile(join(dir, candidates[0]!), MAX_SIGNATURE_BYTES), label: candidates[0]! };
}

function verifyBundle(json: Buffer, label: string, trustedRoot: unknown): Bundle {
  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(JSON.parse(json.toString('utf8')));
  } catch (e) {
    throw new PiImageError('BUNDLE_CORRUPT', `${label} is not a readable Sigstore bundle: ${(e as Error).message}`, { cause: e });
  }
  let trust;
  try {
    trust = toTrustMaterial(TrustedRoot.fromJSON(trustedRoot));
  } catch (e) {
    throw new PiImageError('INPUT_INVALID', `the trusted root is not a Sigstore TrustedRoot: ${(e as Error).message}`, { cause: e });
  }
  try {
    new Verifier(trust, { tlogThreshold: 1, ctlogThreshold: 1 }).verify(toSignedEntity(bundle));
  } catch (e) {
    throw new PiImageError('SIGNATURE_INVALID', `${label} does not verify: ${(e as Error).message}`, { cause: e });
  }
  return bundle;
}

function statementOf(bundle: Bundle, label: string): { statement: InTotoStatement; signed: SignedRelease } {
  if (bundle.content.$case !== 'dsseEnvelope' || bundle.content.dsseEnvelope.payloadType !== INTOTO_PAYLOAD_TYPE) {
    throw new PiImageError('BUNDLE_CORRUPT', `${label} does not sign an in-toto statement`);
  }
  let statement: InTotoStatement;
  try {
    statement = JSON.parse(Buffer.from(bundle.content.dsseEnvelope.payload).toString('utf8')) as InTotoStatement;
  } catch (e) {
    throw new PiImageError('BUNDLE_CORRUPT', `${label}: the signed statement is not JSON`, { cause: e });
  }
  const signed = readSignedRelease(statement);
  if (typeof signed === 'string') throw new PiImageError('STATEMENT_INVALID', `${label}: the signed statement is not a release signature: ${signed}`);
  return { statement, signed };
}

/** Why manifest bytes are not the signed ones, in terms a person can act on. */
function manifestDifferences(text: string, signed: SignedRelease): string[] {
  let m: { name?: unknown; version?: unknown; channel?: unknown; files?: { path?: unknown; sha256?: unknown }[] };
  try {
    m = JSON.parse(text) as typeof m;
  } catch {
    return ['it is not JSON'];
  }
  const out: string[] = [];
  for (const key of ['name', 'version', 'channel'] as const) {
    if (m[key] !== signed.release[key]) out.push(`${key} ${JSON.stringify(m[key])}, signed ${JSON.stringify(signed.release[key])}`);
  }
  const listed = new Map((Array.isArray(m.files) ? m.files : []).map((f) => [String(f?.path), String(f?.sha256)]));
  const dropped = [...signed.files.keys()].filter((n) => !listed.has(n));
  const changed = [...signed.files].filter(([n, d]) => listed.has(n) && listed.get(n) !== d).map(([n]) => n);
  const added = [...listed.keys()].filter((n) => !signed.files.has(n));
  if (dropped.length) out.push(`no longer lists ${dropped.join(', ')}`);
  if (changed.length) out.push(`lists other digests for ${changed.join(', ')}`);
  if (added.length) out.push(`lists unsigned ${added.join(', ')}`);
  if (out.length === 0) out.push('other fields were edited');
  return out;
}

/** The manifest, once its bytes are the signed ones; the signed identity of the release before that. */
async function signedManifest(dir: string, signed: SignedRelease): Promise<ReleaseDir> {
  let bytes: Buffer;
  try {
    bytes = await readSmallFile(join(dir, MANIFEST_FILE), MAX_MANIFEST_BYTES);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new PiImageError('FILE_MISSING', `${MANIFEST_FILE} is signed but missing from ${dir}`);
    throw e;
  }
  const digest = digestBytes(bytes);
  if (digest.sha256 !== signed.manifestSha256) {
    const text = bytes.toString('utf8');
    const claimed = (() => {
      try {
        return JSON.parse(text) as { name?: unknown; version?: unknown };
      } catch {
        return {};
      }
    })();
    if (claimed.name !== signed.release.name || claimed.version !== signed.release.version) {
      throw new PiImageError(
        'RELEASE_MISMATCH',
        `the signature is for release ${signed.release.name} ${signed.release.version}, ${dir} holds ${String(claimed.name ?? '?')} ${String(claimed.version ?? '?')}`,
      );
    }
    throw new PiImageError('MANIFEST_MODIFIED', `${MANIFEST_FILE} in ${dir} was modified after signing: ${manifestDifferences(text, signed).join('; ')}`);
  }
  const release = releaseFromBytes(dir, bytes);
  // A signed manifest and its statement must agree file for file (a statement from another tool might not).
  const listed = new Map(release.manifest.files.map((f) => [f.path, f.sha256]));
  const disagree = [...signed.files].filter(([n, d]) => listed.get(n) !== d).map(([n]) => n);
  disagree.push(...[...listed.keys()].filter((n) => !signed.files.has(n)));
  if (disagree.length > 0) throw new PiImageError('STATEMENT_INVALID', `the signed statement and the signed ${MANIFEST_FILE} disagree about ${disagree.join(', ')}`);
  return release;
}

export async function verifyRelease(options: VerifyOptions): Promise<VerifyResult> {
  const { releaseDir, logger } = options;
  const source = await findBundle(releaseDir, options.bundle);
  const bundle = verifyBundle(source.json, source.label, options.trustedRoot);
  const signer = signerOfBundle(bundle);
  checkSigner(options.policy, signer);
  logger.info(`signature verified: ${describeSigner(signer)}`);
  logger.debug(`policy: ${describePolicy(options.policy)}`);

  const { statement, signed } = statementOf(bundle, source.label);
  const release = await signedManifest(releaseDir, signed);
  const stray = await strayEntries(releaseDir, releaseNames(release));
  if (stray.length > 0) throw new PiImageError('FILE_UNSIGNED', `${stray.join(', ')} ${stray.length === 1 ? 'is' : 'are'} in ${releaseDir} but not covered by the signature`);
  const expected = release.manifest.files.map((f) => ({ path: f.path, sha256: f.sha256, size: f.size }));
  const files = await checkFiles(expected, options.digests ?? diskDigests(releaseDir), releaseDir, 'signature');
  logger.info(`${MANIFEST_FILE} and ${files} files match the signed digests`);
  return { signer, identity: signer.subject, issuer: signer.issuer, files, statement, release, bundleJson: source.json };
}
