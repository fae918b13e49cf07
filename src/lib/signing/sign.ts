/**
 * Signs a release directory with Sigstore, keyless: a short-lived certificate
 * from Fulcio for the caller's OIDC identity, the signature witnessed by Rekor
 * (and a timestamp authority when configured), all in one Sigstore bundle
 * (v0.3 JSON) written beside manifest.json as NAME.sigstore.json. The signed
 * statement covers manifest.json's exact bytes and every file it lists, so the
 * manifest is sealed from here on.
 */
import { bundleToJSON } from '@sigstore/bundle';
import { DSSEBundleBuilder, FulcioSigner, RekorWitness, TSAWitness, type Witness } from '@sigstore/sign';
import { PiImageError } from '../core/errors';
import type { Logger } from '../core/logger';
import { MANIFEST_FILE, renderJson } from '../release/manifest';
import { checkFiles, diskDigests, openReleaseDir, readReleaseMetadata, readSignature, releaseNames, strayEntries, writeBeside } from '../release/release-dir';
import { builderFromClaims, tokenClaims } from './identity-token';
import { describeSigner, signerOfBundle, type Signer } from './signer-certificate';
import { buildStatement, INTOTO_PAYLOAD_TYPE, type InTotoStatement, type StatementOptions } from './statement';

export const PUBLIC_FULCIO_URL = 'https://fulcio.sigstore.dev';
export const PUBLIC_REKOR_URL = 'https://rekor.sigstore.dev';

export interface SignOptions extends Omit<StatementOptions, 'builderId'> {
  /** The builder recorded in the provenance; default: the workflow running the job (from the token), else "pi-image CLI". */
  builderId?: string | undefined;
  /** The CI server the token's workflow names live on (GitHub Enterprise Server: its URL). */
  serverUrl?: string | undefined;
  releaseDir: string;
  /** Returns the OIDC identity token (GitHub's in Actions, SIGSTORE_ID_TOKEN elsewhere). */
  identityToken: () => Promise<string>;
  fulcioUrl?: string | undefined;
  rekorUrl?: string | undefined;
  tsaUrl?: string | undefined;
  logger: Logger;
}

export interface SignResult {
  bundlePath: string;
  bundleFile: string;
  statement: InTotoStatement;
  /** Who the certificate Fulcio issued says signed: read from it, not from the environment. */
  signer: Signer;
  /** The bundle as written (Sigstore bundle v0.3 JSON). */
  bundle: unknown;
}

export async function signRelease(options: SignOptions): Promise<SignResult> {
  const { logger, releaseDir } = options;
  const release = await openReleaseDir(releaseDir);
  logger.info(`checking ${release.manifest.files.length} files against ${MANIFEST_FILE}`);
  await checkFiles(release.manifest.files, diskDigests(releaseDir), releaseDir, 'manifest');
  // verify refuses a directory holding files the signature does not cover: refuse to make one.
  const stray = await strayEntries(releaseDir, releaseNames(release));
  if (stray.length > 0) {
    throw new PiImageError(
      'INPUT_INVALID',
      `${stray.join(', ')} ${stray.length === 1 ? 'is' : 'are'} in ${releaseDir} but not listed in ${MANIFEST_FILE}: remove ${stray.length === 1 ? 'it' : 'them'} (or package again) before signing`,
    );
  }
  const metadata = await readReleaseMetadata(release);
  if ((await readSignature(release)) !== undefined) logger.warn(`${release.signatureFile} exists: it is replaced by the new signature`);

  // One token for the whole signing: it also names the builder for the provenance.
  const token = await options.identityToken();
  const builderId = options.builderId ?? builderFromClaims(tokenClaims(token), options.serverUrl) ?? 'pi-image CLI';
  const statement = buildStatement(release, metadata, { ...options, builderId });
  const witnesses: Witness[] = [new RekorWitness({ rekorBaseURL: options.rekorUrl ?? PUBLIC_REKOR_URL, entryType: 'intoto' })];
  if (options.tsaUrl) witnesses.push(new TSAWitness({ tsaBaseURL: options.tsaUrl }));
  const builder = new DSSEBundleBuilder({
    signer: new FulcioSigner({ fulcioBaseURL: options.fulcioUrl ?? PUBLIC_FULCIO_URL, identityProvider: { getToken: () => Promise.resolve(token) } }),
    witnesses,
  });
  logger.info(
    `signing ${statement.subject.length} subjects (${MANIFEST_FILE} and every file it lists) with Fulcio at ${options.fulcioUrl ?? PUBLIC_FULCIO_URL}`,
  );
  let bundle;
  try {
    bundle = await builder.create({ data: Buffer.from(JSON.stringify(statement)), type: INTOTO_PAYLOAD_TYPE });
  } catch (e) {
    throw new PiImageError('SIGNING_FAILED', `signing failed: ${(e as Error).message}`, { cause: e });
  }
  const signer = signerOfBundle(bundle);
  const json = bundleToJSON(bundle);
  const bundlePath = await writeBeside(release, release.signatureFile, renderJson(json));
  logger.info(`signed by ${describeSigner(signer)}`);
  logger.info(`signature: ${bundlePath}`);
  return { bundlePath, bundleFile: release.signatureFile, statement, signer, bundle: json };
}
