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
import { member, parseJsonObject } from '../core/json-value';
import { readSmallFile } from '../core/small-file';
import type { Logger } from '../core/logger';
import { MANIFEST_FILE } from '../release/manifest';
import {
  checkFiles,
  diskDigests,
  listReleaseDir,
  MAX_SIGNATURE_BYTES,
  readManifestBytes,
  releaseFromBytes,
  releaseNames,
  SIGNATURE_SUFFIX,
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

/** The bundle to verify: the one given (attached in a registry), else the directory's only `*.sigstore.json`. */
async function findBundle(dir: string, names: readonly string[], given: VerifyOptions['bundle']): Promise<{ json: Buffer; label: string; file?: string }> {
  if (given) return given;
  const candidates = names.filter((n) => n.endsWith(SIGNATURE_SUFFIX));
  if (candidates.length === 0) throw new PiImageError('SIGNATURE_MISSING', `${dir} is not signed: it holds no *${SIGNATURE_SUFFIX}`);
  if (candidates.length > 1) throw new PiImageError('BUNDLE_CORRUPT', `${dir} holds several signatures (${candidates.join(', ')}): keep the release's own`);
  const file = candidates[0]!;
  try {
    return { json: await readSmallFile(join(dir, file), MAX_SIGNATURE_BYTES), label: file, file };
  } catch (e) {
    throw new PiImageError('BUNDLE_CORRUPT', `${file} cannot be read as a Sigstore bundle: ${(e as Error).message}`, { cause: e });
  }
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

interface ClaimedManifest {
  name?: unknown;
  version?: unknown;
  channel?: unknown;
  files?: unknown;
}

/** Why manifest bytes are not the signed ones, in terms a person can act on. */
function manifestDifferences(claimed: ClaimedManifest | undefined, signed: SignedRelease): string[] {
  if (!claimed) return ['it is not a JSON object'];
  const out: string[] = [];
  for (const key of ['name', 'version', 'channel'] as const) {
    if (claimed[key] !== signed.release[key]) out.push(`${key} ${JSON.stringify(claimed[key])}, signed ${JSON.stringify(signed.release[key])}`);
  }
  const files: unknown[] = Array.isArray(claimed.files) ? claimed.files : [];
  const listed = new Map(files.map((f) => [String(member(f, 'path')), String(member(f, 'sha256'))]));
  const dropped = [...signed.files.keys()].filter((n) => !listed.has(n));
  const changed = [...signed.files].filter(([n, d]) => listed.has(n) && listed.get(n) !== d).map(([n]) => n);
  const added = [...listed.keys()].filter((n) => !signed.files.has(n));
  if (dropped.length) out.push(`no longer lists ${dropped.join(', ')}`);
  if (changed.length) out.push(`lists other digests for ${changed.join(', ')}`);
  if (added.length) out.push(`lists unsigned ${added.join(', ')}`);
  if (out.length === 0) out.push('other fields were edited');
  return out;
}

/** The manifest, once its bytes are the signed ones. */
async function signedManifest(dir: string, signed: SignedRelease): Promise<ReleaseDir> {
  let bytes: Buffer;
  try {
    bytes = await readManifestBytes(dir);
  } catch (e) {
    // The signature verified: a manifest that is gone, too large or not a file is not the one signed.
    if (e instanceof PiImageError) throw new PiImageError('MANIFEST_MODIFIED', `${MANIFEST_FILE} in ${dir} is not the one signed: ${e.message}`, { cause: e });
    throw e;
  }
  if (digestBytes(bytes).sha256 !== signed.manifestSha256) {
    const claimed = parseJsonObject(bytes.toString('utf8')) as ClaimedManifest | undefined;
    if (
      claimed &&
      typeof claimed.name === 'string' &&
      typeof claimed.version === 'string' &&
      (claimed.name !== signed.release.name || claimed.version !== signed.release.version)
    ) {
      throw new PiImageError(
        'RELEASE_MISMATCH',
        `the signature is for release ${signed.release.name} ${signed.release.version}; ${MANIFEST_FILE} in ${dir} names ${claimed.name} ${claimed.version} (a bundle of another release, or the name or version edited)`,
      );
    }
    throw new PiImageError('MANIFEST_MODIFIED', `${MANIFEST_FILE} in ${dir} was modified after signing: ${manifestDifferences(claimed, signed).join('; ')}`);
  }
  const release = releaseFromBytes(dir, bytes);
  // A signed manifest and its statement must agree, on the release and file for file (a statement from another tool might not).
  const m = release.manifest;
  if (m.name !== signed.release.name || m.version !== signed.release.version || m.channel !== signed.release.channel) {
    throw new PiImageError(
      'STATEMENT_INVALID',
      `the signed statement names ${signed.release.name} ${signed.release.version} (${signed.release.channel}), the signed ${MANIFEST_FILE} ${m.name} ${m.version} (${m.channel})`,
    );
  }
  const listed = new Map(m.files.map((f) => [f.path, f.sha256]));
  const disagree = [...signed.files].filter(([n, d]) => listed.get(n) !== d).map(([n]) => n);
  disagree.push(...[...listed.keys()].filter((n) => !signed.files.has(n)));
  if (disagree.length > 0)
    throw new PiImageError('STATEMENT_INVALID', `the signed statement and the signed ${MANIFEST_FILE} disagree about ${disagree.join(', ')}`);
  return release;
}

export async function verifyRelease(options: VerifyOptions): Promise<VerifyResult> {
  const { releaseDir, logger } = options;
  const names = await listReleaseDir(releaseDir);
  const source = await findBundle(releaseDir, names, options.bundle);
  const bundle = verifyBundle(source.json, source.label, options.trustedRoot);
  const signer = signerOfBundle(bundle);
  checkSigner(options.policy, signer);
  logger.info(`signature verified: ${describeSigner(signer)}`);
  logger.debug(`policy: ${describePolicy(options.policy)}`);

  const { statement, signed } = statementOf(bundle, source.label);
  const release = await signedManifest(releaseDir, signed);
  if (source.file !== undefined && source.file !== release.signatureFile) {
    throw new PiImageError(
      'BUNDLE_CORRUPT',
      `the signature is in ${source.file}; a release named ${release.manifest.name} keeps it in ${release.signatureFile}`,
    );
  }
  const allowed = releaseNames(release);
  const stray = names.filter((n) => !allowed.has(n));
  if (stray.length > 0)
    throw new PiImageError('FILE_UNSIGNED', `${stray.join(', ')} ${stray.length === 1 ? 'is' : 'are'} in ${releaseDir} but not covered by the signature`);
  const expected = release.manifest.files.map((f) => ({ path: f.path, sha256: f.sha256, size: f.size }));
  const files = await checkFiles(expected, options.digests ?? diskDigests(releaseDir), releaseDir, 'signature');
  logger.info(`${MANIFEST_FILE} and ${files} files match the signed digests`);
  return { signer, identity: signer.subject, issuer: signer.issuer, files, statement, release, bundleJson: source.json };
}
