/**
 * `pi-image smoke-test` and the smoke-test action: boots a release (or a bare
 * image), and for a release that passes adds the evidence to it before it is
 * signed. A failure is BOOT_TEST_FAILED, with the evidence written beside the
 * input for whoever looks into it; the release itself is left as it was.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { registerCleanup } from '../core/cleanup';
import { PiImageError } from '../core/errors';
import type { Logger } from '../core/logger';
import { checkFiles, diskDigests, fileOfRole, openReleaseDir, readReleaseMetadata, readSignature, releasePath, type ReleaseDir } from '../release/release-dir';
import { pathKind } from '../core/file-digest';
import { addBootEvidence, clearBootEvidence, writeEvidenceDir } from './boot-evidence';
import { prepareBootKit } from './boot-kit';
import { DEFAULT_DEBIAN_KEYRING, DEFAULT_DEBIAN_MIRROR } from './debian-archive';
import { chooseAccel } from './qemu';
import { failureMessage, smokeTest, type SmokeTestReport } from './smoke-test';

/** The Debian release whose kernel boots an image that does not say which it is. */
export const DEFAULT_DEBIAN_SUITE = 'bookworm';
const KNOWN_SUITES = new Set(['bullseye', 'bookworm', 'trixie', 'forky', 'duke']);

export interface BootTestOptions {
  /** A release directory or an image file. */
  source: string;
  mirror?: string | undefined;
  /** The Debian suite the kernel comes from (default: the image's own, else bookworm). */
  suite?: string | undefined;
  keyring?: string | undefined;
  /** A kernel package (.deb) instead of the suite's linux-image-arm64. */
  kernelDeb?: string | undefined;
  cacheDir: string;
  checksDir?: string | undefined;
  dataLabel?: string | undefined;
  dataMount?: string | undefined;
  allowFailedUnits?: readonly string[];
  /** QEMU's user-mode network for the guest. */
  network?: boolean | undefined;
  /** More boots after the others, each seeing the writes of those before (first-boot services). */
  reboots?: number | undefined;
  timeLimitSeconds?: number | undefined;
  stallSeconds?: number | undefined;
  accel?: 'kvm' | 'tcg' | undefined;
  cpus?: number | undefined;
  memoryMiB?: number | undefined;
  /** For a bare image: the version its checks expect (a release's own version otherwise). */
  expectedVersion?: string | undefined;
  /** Where evidence goes when it cannot go into the release (a failure, a bare image). */
  evidenceDir?: string | undefined;
  workDir?: string | undefined;
  logger: Logger;
}

export interface BootTestResult {
  report: SmokeTestReport;
  /** The release with the evidence added, when the source was a release. */
  release?: ReleaseDir;
  /** Where the evidence was written. */
  evidence: string;
}

const defaultEvidenceDir = (source: string): string => join(dirname(resolve(source)), `${basename(resolve(source))}.smoke-test`);

export async function bootTest(options: BootTestOptions): Promise<BootTestResult> {
  const { logger } = options;
  const kind = await pathKind(options.source);
  let release: ReleaseDir | undefined;
  let image = options.source;
  let expectedRawSha256: string | undefined;
  let expectedVersion = options.expectedVersion;
  if (kind === 'a directory') {
    release = await openReleaseDir(options.source);
    if (options.expectedVersion !== undefined) {
      throw new PiImageError(
        'INPUT_INVALID',
        `--expected-version is for an image file: ${options.source} is a release, whose own version (${release.manifest.version}) is expected`,
      );
    }
    if ((await readSignature(release)) !== undefined) {
      throw new PiImageError(
        'OUTPUT_EXISTS',
        `${options.source} is already signed: boot-test a release before it is signed (the evidence goes under the signature)`,
      );
    }
    await checkFiles(release.manifest.files, diskDigests(release.dir), release.dir, 'manifest');
    // An earlier run's evidence goes first: a run that fails must not leave an earlier pass to be signed.
    release = await clearBootEvidence(release);
    const entry = fileOfRole(release, 'image');
    if (!entry) throw new PiImageError('INPUT_INVALID', `${options.source}: manifest.json lists no image`);
    image = releasePath(release, entry.path);
    const meta = await readReleaseMetadata(release);
    expectedRawSha256 = meta?.image.raw.sha256;
    expectedVersion = release.manifest.version;
  } else if (kind !== 'file') {
    throw new PiImageError('INPUT_INVALID', `${options.source} is ${kind === 'missing' ? 'missing' : kind}: give a release directory or an image file`);
  }

  const logDir = await mkdtemp(join(options.workDir ?? tmpdir(), '.pi-image-boot-logs-'));
  const unregister = registerCleanup(() => rm(logDir, { recursive: true, force: true }));
  try {
    const report = await smokeTest({
      image,
      expectedRawSha256,
      expectedVersion,
      kit: (codename) => {
        const suite = options.suite ?? (codename && KNOWN_SUITES.has(codename) ? codename : DEFAULT_DEBIAN_SUITE);
        return prepareBootKit({
          archive: {
            mirror: options.mirror ?? DEFAULT_DEBIAN_MIRROR,
            suite,
            arch: 'arm64',
            keyring: options.keyring ?? DEFAULT_DEBIAN_KEYRING,
            cacheDir: options.cacheDir,
            logger,
          },
          kernelDeb: options.kernelDeb,
        });
      },
      checksDir: options.checksDir,
      dataLabel: options.dataLabel,
      dataMount: options.dataMount,
      allowFailedUnits: options.allowFailedUnits ?? [],
      network: options.network,
      reboots: options.reboots,
      ...(options.timeLimitSeconds !== undefined ? { timeLimitSeconds: options.timeLimitSeconds } : {}),
      ...(options.stallSeconds !== undefined ? { stallSeconds: options.stallSeconds } : {}),
      accel: options.accel ?? chooseAccel(),
      accelFallback: options.accel === undefined,
      ...(options.cpus !== undefined ? { cpus: options.cpus } : {}),
      ...(options.memoryMiB !== undefined ? { memoryMiB: options.memoryMiB } : {}),
      logDir,
      logPrefix: 'smoke-test',
      workDir: options.workDir,
      logger,
    });
    if (report.passed && release) {
      const updated = await addBootEvidence(release, report, logDir);
      return { report, release: updated, evidence: release.dir };
    }
    const evidence = options.evidenceDir ?? defaultEvidenceDir(options.source);
    await writeEvidenceDir(evidence, report, logDir);
    if (!report.passed) throw new PiImageError('BOOT_TEST_FAILED', `${failureMessage(report, options.source)}\n  evidence: ${evidence}`);
    return { report, evidence };
  } finally {
    await rm(logDir, { recursive: true, force: true });
    unregister();
  }
}
