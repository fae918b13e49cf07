/**
 * Verifies a signed release directory: the Sigstore bundle (certificate chain
 * to a trusted Fulcio, transparency log entry or timestamp, signature) by
 * sigstore-js's verifier, the signer's identity and issuer against the
 * caller's policy, then every file on disk against the signed subjects. Each
 * way a release can be wrong fails with its own code and message.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { PiImageError } from '../core/errors';
import type { Logger } from '../core/logger';
import { digestFile } from '../image/raw-image-pass';
import { MANIFEST_FILE, readManifest } from '../release/manifest';
import { compileIdentity, type IdentityPolicy } from './identity-policy';
import { INTOTO_PAYLOAD_TYPE, PROVENANCE_TYPE, STATEMENT_TYPE, UNSIGNED_ROLES, type InTotoStatement } from './statement';

export interface VerifyOptions {
  releaseDir: string;
  policy: IdentityPolicy;
  /** The trusted root (Sigstore's TrustedRoot JSON). */
  trustedRoot: unknown;
  logger: Logger;
  /** A bundle from elsewhere (attached in a registry) instead of the one the release lists. */
  bundle?: { json: Buffer; label: string } | undefined;
}

export interface VerifyResult {
  identity: string;
  issuer: string;
  files: number;
  statement: InTotoStatement;
}

export async function verifyRelease(options: VerifyOptions): Promise<VerifyResult> {
  const { releaseDir, logger } = options;
  const manifest = await readManifest(releaseDir);
  const signatureEntry = manifest.files.find((f) => f.role === 'signature');
  if (!signatureEntry && !options.bundle) throw new PiImageError('SIGNATURE_MISSING', `${releaseDir} is not signed: ${MANIFEST_FILE} lists no signature`);
  const bundleLabel = options.bundle?.label ?? signatureEntry!.path;

  let bundle;
  try {
    const json = options.bundle ? options.bundle.json.toString('utf8') : await readFile(join(releaseDir, signatureEntry!.path), 'utf8');
    bundle = bundleFromJSON(JSON.parse(json));
  } catch (e) {
    throw new PiImageError('BUNDLE_CORRUPT', `${bundleLabel} is not a readable Sigstore bundle: ${(e as Error).message}`, { cause: e });
  }

  let trust;
  try {
    trust = toTrustMaterial(TrustedRoot.fromJSON(options.trustedRoot));
  } catch (e) {
    throw new PiImageError('INPUT_INVALID', `the trusted root is not a Sigstore TrustedRoot: ${(e as Error).message}`, { cause: e });
  }
  let signer;
  try {
    signer = new Verifier(trust, { tlogThreshold: 1, ctlogThreshold: 1 }).verify(toSignedEntity(bundle));
  } catch (e) {
    throw new PiImageError('SIGNATURE_INVALID', `${bundleLabel} does not verify: ${(e as Error).message}`, { cause: e });
  }

  const identity = signer.identity?.subjectAlternativeName ?? '';
  const issuer = signer.identity?.extensions?.issuer ?? '';
  if (!compileIdentity(options.policy)(identity)) {
    throw new PiImageError(
      'IDENTITY_MISMATCH',
      `signed by ${identity || 'an unknown identity'}, which does not match ${options.policy.regexp ? `the pattern ^(?:${options.policy.identity})$` : options.policy.identity}`,
    );
  }
  if (issuer !== options.policy.issuer) {
    throw new PiImageError('ISSUER_MISMATCH', `the signer's identity was issued by ${issuer || 'an unknown issuer'}, not ${options.policy.issuer}`);
  }
  logger.info(`signature verified: ${identity} (issuer ${issuer})`);

  if (bundle.content.$case !== 'dsseEnvelope' || bundle.content.dsseEnvelope.payloadType !== INTOTO_PAYLOAD_TYPE) {
    throw new PiImageError('BUNDLE_CORRUPT', `${bundleLabel} does not sign an in-toto statement`);
  }
  let statement: InTotoStatement;
  try {
    statement = JSON.parse(Buffer.from(bundle.content.dsseEnvelope.payload).toString('utf8')) as InTotoStatement;
  } catch (e) {
    throw new PiImageError('BUNDLE_CORRUPT', `${bundleLabel}: the signed statement is not JSON`, { cause: e });
  }
  if (statement._type !== STATEMENT_TYPE || statement.predicateType !== PROVENANCE_TYPE || !Array.isArray(statement.subject)) {
    throw new PiImageError('BUNDLE_CORRUPT', `${bundleLabel}: the signed statement is not an in-toto v1 provenance statement`);
  }
  const release = (statement.predicate?.buildDefinition?.externalParameters as { release?: { name?: string; version?: string } } | undefined)?.release;
  if (release?.name !== manifest.name || release?.version !== manifest.version) {
    throw new PiImageError(
      'RELEASE_MISMATCH',
      `the signature is for release ${release?.name ?? '?'} ${release?.version ?? '?'}, this directory holds ${manifest.name} ${manifest.version}`,
    );
  }

  const signed = new Map(statement.subject.map((s) => [s.name, s.digest.sha256]));
  const onDisk = new Set(await readdir(releaseDir));
  // The bundle itself and os-artifact.ref (written after publishing) are not signed.
  const unsigned = new Set(manifest.files.filter((f) => UNSIGNED_ROLES.has(f.role)).map((f) => f.path));
  for (const name of [...onDisk].sort()) {
    if (name === MANIFEST_FILE || unsigned.has(name)) continue;
    if (!signed.has(name)) throw new PiImageError('FILE_UNSIGNED', `${name} is in ${releaseDir} but not covered by the signature`);
  }
  for (const f of manifest.files) {
    if (UNSIGNED_ROLES.has(f.role)) continue;
    if (!signed.has(f.path)) throw new PiImageError('FILE_UNSIGNED', `${f.path} is listed in ${MANIFEST_FILE} but not covered by the signature`);
  }
  let count = 0;
  for (const [name, sha256] of signed) {
    if (!manifest.files.some((f) => f.path === name)) continue; // e.g. the OCI manifest digest: checked where it is pulled
    if (!onDisk.has(name)) throw new PiImageError('FILE_MISSING', `${name} is signed but missing from ${releaseDir}`);
    const actual = await digestFile(join(releaseDir, name));
    if (actual.sha256 !== sha256) throw new PiImageError('FILE_MODIFIED', `${name} was modified after signing: sha256 ${actual.sha256}, signed ${sha256}`);
    count++;
  }
  logger.info(`${count} files match the signed digests`);
  return { identity, issuer, files: count, statement };
}
