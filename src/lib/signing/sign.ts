/**
 * Signs a release directory with Sigstore, keyless: a short-lived certificate
 * from Fulcio for the caller's OIDC identity, the signature witnessed by Rekor
 * (and a timestamp authority when configured), all in one Sigstore bundle
 * (v0.3 JSON) written into the directory and added to its manifest.
 */
import { createHash } from 'node:crypto';
import { rename, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bundleToJSON } from '@sigstore/bundle';
import { DSSEBundleBuilder, FulcioSigner, RekorWitness, TSAWitness, type Witness } from '@sigstore/sign';
import { PiImageError } from '../core/errors';
import type { Logger } from '../core/logger';
import { MANIFEST_FILE, readManifest, renderJson, sortFiles, type ReleaseManifest } from '../release/manifest';
import { METADATA_FILE, type ReleaseMetadata } from '../release/metadata';
import { checkFilesAgainstManifest } from './release-files';
import { buildStatement, INTOTO_PAYLOAD_TYPE, type InTotoStatement, type StatementOptions } from './statement';

export const PUBLIC_FULCIO_URL = 'https://fulcio.sigstore.dev';
export const PUBLIC_REKOR_URL = 'https://rekor.sigstore.dev';
export const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

export interface SignOptions extends StatementOptions {
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
  manifest: ReleaseManifest;
}

export function bundleFileName(manifest: ReleaseManifest): string {
  return `${manifest.name}.sigstore.json`;
}

async function writeAtomically(path: string, content: string): Promise<void> {
  const temp = `${path}.partial-${process.pid}`;
  await writeFile(temp, content);
  await rename(temp, path);
}

export async function signRelease(options: SignOptions): Promise<SignResult> {
  const { logger, releaseDir } = options;
  const manifest = await readManifest(releaseDir);
  logger.info(`checking ${manifest.files.length} files against ${MANIFEST_FILE}`);
  await checkFilesAgainstManifest(releaseDir, manifest);
  let metadata: ReleaseMetadata | undefined;
  if (manifest.files.some((f) => f.path === METADATA_FILE)) metadata = JSON.parse(await readFile(join(releaseDir, METADATA_FILE), 'utf8')) as ReleaseMetadata;

  const statement = buildStatement(manifest, metadata, options);
  const witnesses: Witness[] = [new RekorWitness({ rekorBaseURL: options.rekorUrl ?? PUBLIC_REKOR_URL, entryType: 'intoto' })];
  if (options.tsaUrl) witnesses.push(new TSAWitness({ tsaBaseURL: options.tsaUrl }));
  const builder = new DSSEBundleBuilder({
    signer: new FulcioSigner({ fulcioBaseURL: options.fulcioUrl ?? PUBLIC_FULCIO_URL, identityProvider: { getToken: options.identityToken } }),
    witnesses,
  });
  logger.info(`signing ${statement.subject.length} subjects with Fulcio at ${options.fulcioUrl ?? PUBLIC_FULCIO_URL}`);
  let bundle;
  try {
    bundle = await builder.create({ data: Buffer.from(JSON.stringify(statement)), type: INTOTO_PAYLOAD_TYPE });
  } catch (e) {
    throw new PiImageError('SIGNING_FAILED', `signing failed: ${(e as Error).message}`, { cause: e });
  }
  const bundleFile = bundleFileName(manifest);
  const content = renderJson(bundleToJSON(bundle));
  const bundlePath = join(releaseDir, bundleFile);
  await writeAtomically(bundlePath, content);

  const files = manifest.files.filter((f) => f.role !== 'signature');
  files.push({ path: bundleFile, role: 'signature', mediaType: BUNDLE_MEDIA_TYPE, size: Buffer.byteLength(content), sha256: createHash('sha256').update(content).digest('hex') });
  const updated: ReleaseManifest = { ...manifest, files: sortFiles(files) };
  await writeAtomically(join(releaseDir, MANIFEST_FILE), renderJson(updated));
  logger.info(`signature: ${bundlePath}`);
  return { bundlePath, bundleFile, statement, manifest: updated };
}
