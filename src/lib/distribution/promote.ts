/**
 * Promotion: a channel tag (stable) moved to a release already in the
 * registry, by digest, without rebuilding or uploading it again. The
 * signature, attached to that digest, travels with it. Refused unless the
 * release verifies against the signer policy (signature, manifest.json, every
 * file) and carries passing boot-test evidence for its own image under that
 * signature. The promotion is recorded next to the release as a referrer
 * (what was promoted, to which channel, from which digest, when, signed by
 * whom), so the release's history is read where the release is.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SmokeTestReport } from '../boot/smoke-test';
import { registerCleanup } from '../core/cleanup';
import { PiImageError } from '../core/errors';
import type { Logger } from '../core/logger';
import { readSmallFile } from '../core/small-file';
import { attachArtifact, referrersOfType } from '../oci/referrers';
import { readBlobBytes, type OciStore } from '../oci/store';
import { pullRelease } from '../publishing/pull';
import { checkTag, copiedTags } from '../publishing/tags';
import { parseManifest } from '../oci/manifest-json';
import { fileOfRole, openReleaseDir, releasePath, type ReleaseDir } from '../release/release-dir';
import type { SignerPolicy } from '../signing/signer-policy';

export const PROMOTION_ARTIFACT_TYPE = 'application/vnd.pi-image.promotion.v1+json';

export interface PromotionRecord {
  schemaVersion: 1;
  name: string;
  version: string;
  /** The release's own channel, as built. */
  builtAs: string;
  channel: string;
  digest: string;
  /** Where the channel tag pointed before (null: a new tag). */
  previous: string | null;
  promotedAt: string;
  signer: string;
  bootTest: { passed: true; startedAt: string; imageSha256: string };
}

export interface PromoteOptions {
  store: OciStore;
  /** A tag or digest in the store: the release to promote. */
  reference: string;
  channel: string;
  policy: SignerPolicy;
  trustedRoot: unknown;
  /** Where the release is pulled to be checked (default: the system's temporary directory). */
  tmpdir?: string | undefined;
  /** The time recorded (tests); default now. */
  now?: Date;
  logger: Logger;
}

export interface PromoteResult {
  record: PromotionRecord;
  /** False when the channel already pointed at this release: nothing was changed. */
  moved: boolean;
  recordDigest: string | null;
}

/** The boot test's report inside a release, as far as promotion reads it (unchecked JSON: every field may be missing). */
type BootEvidence = Partial<Pick<SmokeTestReport, 'passed' | 'startedAt'>> & { image?: Partial<SmokeTestReport['image']> };

async function passingBootTest(release: ReleaseDir): Promise<PromotionRecord['bootTest']> {
  const { manifest } = release;
  const where = `${manifest.name} ${manifest.version}`;
  const entry = fileOfRole(release, 'boot-test');
  if (!entry)
    throw new PiImageError('BOOT_EVIDENCE_MISSING', `${where} has no boot-test evidence (smoke-test.json) under its signature: boot-test it before promoting`);
  let report: BootEvidence | null;
  try {
    report = JSON.parse((await readSmallFile(releasePath(release, entry.path), 4 * 1024 * 1024)).toString('utf8')) as BootEvidence | null;
  } catch (e) {
    throw new PiImageError('BOOT_EVIDENCE_MISSING', `${where}: ${entry.path} is not a boot test report: ${(e as Error).message}`, { cause: e });
  }
  if (report === null || typeof report !== 'object') throw new PiImageError('BOOT_EVIDENCE_MISSING', `${where}: ${entry.path} is not a boot test report`);
  if (report.image?.rawSha256 !== manifest.image.raw.sha256)
    throw new PiImageError(
      'BOOT_EVIDENCE_MISSING',
      `${where}: ${entry.path} is about another image (sha256 ${String(report.image?.rawSha256)}, this one ${manifest.image.raw.sha256})`,
    );
  if (report.passed !== true) throw new PiImageError('BOOT_TEST_FAILED', `${where} failed its boot test (${entry.path}): not promoted`);
  return { passed: true, startedAt: typeof report.startedAt === 'string' ? report.startedAt : '', imageSha256: manifest.image.raw.sha256 };
}

export async function promoteRelease(options: PromoteOptions): Promise<PromoteResult> {
  const { store, logger } = options;
  const channel = checkTag(options.channel, 'channel');
  const scratch = await mkdtemp(join(options.tmpdir ?? tmpdir(), 'pi-image-promote-'));
  const unregister = registerCleanup(() => rm(scratch, { recursive: true, force: true }));
  try {
    // The whole release is pulled and checked as a consumer would: the signature, manifest.json, every file.
    logger.info(`checking ${store.label}:${options.reference} before promoting it (pulled to ${scratch}, removed afterwards)`);
    const outDir = join(scratch, 'release');
    const pulled = await pullRelease({
      store,
      reference: options.reference,
      outDir,
      verify: { policy: options.policy, trustedRoot: options.trustedRoot },
      logger,
    });
    const verified = pulled.verified!;
    // The pulled directory as it now is (verification ran in its staging place before it was moved).
    const release = await openReleaseDir(outDir);
    if (release.manifest.image.raw.sha256 !== verified.release.manifest.image.raw.sha256)
      throw new PiImageError('INTERNAL', `${outDir} is not the release that was verified`);
    const bootTest = await passingBootTest(release);
    const previous = (await store.resolveTag(channel)) ?? null;
    const { manifest } = release;
    // A version or build tag is published once: promotion moves channels, never those.
    const stored = await store.getManifest(pulled.digest);
    const annotationsOf = async (digest: string) =>
      parseManifest(digest === pulled.digest ? stored.bytes : (await store.getManifest(digest)).bytes, store.pinned(digest)).annotations;
    for (const [digest, what] of [
      [previous, 'the release it points at'],
      [pulled.digest, 'this release'],
    ] as const) {
      if (digest && copiedTags([channel], await annotationsOf(digest), store.label)[0]!.immutable)
        throw new PiImageError(
          'INPUT_INVALID',
          `--channel ${channel} is a version or build tag of ${what}: those are published once and never moved; promote to a channel (stable)`,
        );
    }
    const record: PromotionRecord = {
      schemaVersion: 1,
      name: manifest.name,
      version: manifest.version,
      builtAs: manifest.channel,
      channel,
      digest: pulled.digest,
      previous,
      promotedAt: (options.now ?? new Date()).toISOString(),
      signer: verified.signer.subject,
      bootTest,
    };
    if (previous === pulled.digest) {
      logger.info(`${store.label}:${channel} already points at ${pulled.digest} (${manifest.name} ${manifest.version}): nothing to do`);
      return { record, moved: false, recordDigest: null };
    }
    // The same manifest bytes under the channel tag: the digest, and all attached to it, unchanged.
    const put = await store.putManifest(stored.bytes, stored.mediaType, channel);
    if (put.digest !== pulled.digest) throw new PiImageError('REGISTRY_FAILED', `${store.label} stored ${channel} as ${put.digest}, not ${pulled.digest}`);
    logger.info(`${store.label}:${channel} → ${pulled.digest} (${manifest.name} ${manifest.version})${previous ? `, was ${previous}` : ''}`);
    const attached = await attachArtifact(
      store,
      { mediaType: stored.mediaType, digest: pulled.digest, size: stored.bytes.length },
      {
        artifactType: PROMOTION_ARTIFACT_TYPE,
        blob: Buffer.from(`${JSON.stringify(record, null, 2)}\n`),
        annotations: { 'org.opencontainers.image.created': record.promotedAt, 'dev.pi-image.channel': channel },
      },
    ).catch((e: unknown) => {
      throw new PiImageError(
        'REGISTRY_FAILED',
        `${store.label}:${channel} now points at ${pulled.digest}, but the promotion could not be recorded (--history will not list it): ${(e as Error).message}`,
        { cause: e },
      );
    });
    logger.info(`promotion recorded as ${attached.digest} (${attached.via})`);
    return { record, moved: true, recordDigest: attached.digest };
  } finally {
    await rm(scratch, { recursive: true, force: true });
    unregister();
  }
}

/**
 * The promotions recorded for a release, oldest first: a log of what was done,
 * not a signed statement (anyone who may push to the repository may add one);
 * records that are not JSON of this shape are left out.
 */
export async function promotionsOf(store: OciStore, digest: string): Promise<PromotionRecord[]> {
  const records: PromotionRecord[] = [];
  for (const r of await referrersOfType(store, digest, PROMOTION_ARTIFACT_TYPE, 100, 64 * 1024)) {
    const bytes = await readBlobBytes(store, r.layer);
    try {
      const record = JSON.parse(bytes.toString('utf8')) as Partial<PromotionRecord> | null;
      if (record?.schemaVersion === 1 && record.digest === digest && typeof record.promotedAt === 'string') records.push(record as PromotionRecord);
    } catch {
      // not a record
    }
  }
  return records.sort((a, b) => (a.promotedAt < b.promotedAt ? -1 : a.promotedAt > b.promotedAt ? 1 : 0));
}
