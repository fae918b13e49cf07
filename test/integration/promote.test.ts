/**
 * `pi-image promote` against a real registry (Debian's docker-registry):
 * releases packaged by the real package step, boot-test evidence added the
 * way the boot test adds it (under the signature), signed against the
 * Sigstore mock, published. The channel tag is read before and after with
 * skopeo (an independent client); the release's digest never changes; the
 * signature still verifies through the moved tag; every refusal leaves the
 * tag where it was.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addBootEvidence } from '../../src/lib/boot/boot-evidence';
import { SMOKE_TEST_SCHEMA_VERSION, type SmokeTestReport } from '../../src/lib/boot/smoke-test';
import { openReleaseDir } from '../../src/lib/release/release-dir';
import { runPiImage } from '../support/cli';
import { startRegistry, type TestRegistry } from '../support/registry';
import { makeRelease, signWithMock } from '../support/release-fixture';
import { startSigstoreMock, type SigstoreMock } from '../support/sigstore-mock';
import { SMALL_IMAGE_TOOLS } from '../support/small-image';
import { missingTools, skipReason } from '../support/tools';

const missing = missingTools([...SMALL_IMAGE_TOOLS, 'xz', 'docker-registry', 'htpasswd', 'skopeo']);
if (missing.length > 0) skipReason('promotion tests', `missing: ${missing.join(', ')}`);

const SIGNER = ['--repository', 'acme/appliance', '--signer-workflow', 'acme/appliance/.github/workflows/release.yml'];

/** A boot test report as the boot test writes it, for the release's own image (or another's). */
function report(passed: boolean, rawSha256: string): SmokeTestReport {
  return {
    schemaVersion: SMOKE_TEST_SCHEMA_VERSION,
    passed,
    startedAt: '2026-01-19T12:00:00.000Z',
    seconds: 61,
    image: { file: 'image.img.xz', rawSize: 1, rawSha256 },
    machine: { emulator: 'qemu-system-aarch64', machine: 'virt', accel: 'tcg', cpus: 2, memoryMiB: 1024, cpu: 'cortex-a72' },
    kernel: { version: '6.1.0', package: 'linux-image-arm64', busybox: 'busybox-static', commandLine: '' },
    deviceTimeouts: { scale: 4, devices: [] },
    expectedVersion: null,
    dataLabel: null,
    dataMount: null,
    boots: [],
  };
}

describe.skipIf(missing.length > 0)('pi-image promote', () => {
  let work: string;
  let registry: TestRegistry;
  let trustedRoot: string;
  let mock: SigstoreMock | undefined;
  const digests: Record<string, string> = {};

  /** A release: evidence 'pass', 'fail', 'other-image' or none; signed unless told; published to REPO. */
  async function release(
    name: string,
    version: string,
    channel: 'stable' | 'nightly',
    evidence: 'pass' | 'fail' | 'other-image' | 'none',
    signed: boolean,
    repo: string,
  ) {
    // Each its own day: the build tag (date and commit) is published once.
    const dir = await makeRelease(work, name, { version, channel, epoch: 1768780800 + Object.keys(digests).length * 86400 });
    if (evidence !== 'none') {
      const r = await openReleaseDir(dir);
      const sha = evidence === 'other-image' ? 'f'.repeat(64) : r.manifest.image.raw.sha256;
      await addBootEvidence(r, report(evidence !== 'fail', sha), work);
    }
    if (signed) await signWithMock(dir, mock!);
    const p = runPiImage(['publish', dir, `${registry.host}/${repo}`, '--json']);
    expect(p.code, p.stderr).toBe(0);
    digests[name] = (JSON.parse(p.stdout) as { reference: string }).reference.split('@')[1]!;
  }

  /** What a tag points at, as skopeo sees it: the sha256 of the manifest bytes it fetches (undefined: no such tag). */
  const tagDigest = (repo: string, tag: string): string | undefined => {
    const r = spawnSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/${repo}:${tag}`]);
    if (r.status !== 0) {
      if (r.stderr.toString().includes('manifest unknown')) return undefined;
      throw new Error(`skopeo inspect ${repo}:${tag}: ${r.stderr.toString()}`);
    }
    return `sha256:${createHash('sha256').update(r.stdout).digest('hex')}`;
  };
  const promote = (ref: string, extra: string[] = []) =>
    runPiImage(['promote', `${registry.host}/${ref}`, '--channel', 'stable', ...SIGNER, '--trusted-root', trustedRoot, ...extra]);

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'promote-'));
    registry = await startRegistry();
    // One Sigstore for every release: the trusted root that verifies them all.
    mock = await startSigstoreMock();
    trustedRoot = join(work, 'trusted-root.json');
    writeFileSync(trustedRoot, JSON.stringify(mock.trustedRoot));
    await release('stable-1', '1.0.0', 'stable', 'pass', true, 'acme/appliance');
    await release('nightly-2', '1.1.0-nightly.7', 'nightly', 'pass', true, 'acme/appliance');
    await release('no-evidence', '2.0.0', 'nightly', 'none', true, 'acme/refused');
    await release('failed', '2.0.1', 'nightly', 'fail', true, 'acme/refused');
    await release('other-image', '2.0.2', 'nightly', 'other-image', true, 'acme/refused');
    await release('unsigned', '2.0.3', 'nightly', 'pass', false, 'acme/refused');
  }, 240_000);
  afterAll(async () => {
    await mock?.close();
    await registry?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('moves stable to a boot-tested nightly by digest: nothing rebuilt or uploaded, the signature verifies through the new tag, the promotion recorded', () => {
    expect(tagDigest('acme/appliance', 'stable')).toBe(digests['stable-1']);
    expect(tagDigest('acme/appliance', 'nightly')).toBe(digests['nightly-2']);
    const r = promote('acme/appliance:nightly', ['--json']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { moved: boolean; record: { digest: string; previous: string; channel: string; builtAs: string; signer: string } };
    expect(result.moved).toBe(true);
    expect(result.record).toMatchObject({ digest: digests['nightly-2'], previous: digests['stable-1'], channel: 'stable', builtAs: 'nightly' });
    expect(result.record.signer).toMatch(/acme\/appliance\/\.github\/workflows\/release\.yml/);
    // The tag moved; the release's manifest is the same one (its digest, its nightly tag).
    expect(tagDigest('acme/appliance', 'stable')).toBe(digests['nightly-2']);
    expect(tagDigest('acme/appliance', 'nightly')).toBe(digests['nightly-2']);
    expect(tagDigest('acme/appliance', '1.1.0-nightly.7')).toBe(digests['nightly-2']);
    // Pulled through the new tag, the attached signature verifies.
    const out = join(work, 'pulled-stable');
    const pull = runPiImage(['pull', `${registry.host}/acme/appliance:stable`, out, ...SIGNER, '--trusted-root', trustedRoot, '--json']);
    expect(pull.code, pull.stderr).toBe(0);
    expect(JSON.parse(pull.stdout)).toMatchObject({ digest: digests['nightly-2'], version: '1.1.0-nightly.7', verified: expect.anything() });
    // The history, read back from the registry.
    const h = runPiImage(['promote', `${registry.host}/acme/appliance@${digests['nightly-2']}`, '--history', '--json']);
    expect(h.code, h.stderr).toBe(0);
    expect(JSON.parse(h.stdout)).toEqual([expect.objectContaining({ channel: 'stable', previous: digests['stable-1'], version: '1.1.0-nightly.7' })]);
    // The release was checked in a temporary directory, removed afterwards.
    const scratch = /pulled to (\S+), removed afterwards/.exec(r.stderr)?.[1];
    expect(scratch).toBeDefined();
    expect(existsSync(scratch!.replace(/\)$/, ''))).toBe(false);
  });

  it('rolls back by promoting the previous digest; promoting what the tag already holds changes nothing', () => {
    let r = promote(`acme/appliance@${digests['stable-1']}`);
    expect(r.code, r.stderr).toBe(0);
    expect(tagDigest('acme/appliance', 'stable')).toBe(digests['stable-1']);
    r = promote(`acme/appliance@${digests['stable-1']}`, ['--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).moved).toBe(false);
  });

  it.each([
    ['no-evidence', 1, /has no boot-test evidence \(smoke-test\.json\) under its signature.*\[BOOT_EVIDENCE_MISSING\]/],
    ['failed', 1, /failed its boot test \(smoke-test\.json\): not promoted \[BOOT_TEST_FAILED\]/],
    ['other-image', 1, /smoke-test\.json is about another image.*\[BOOT_EVIDENCE_MISSING\]/],
    ['unsigned', 1, /has no Sigstore bundle attached.*\[SIGNATURE_MISSING\]/],
  ] as const)('refuses the release %s, leaving the tag where it was', (name, code, message) => {
    const before = tagDigest('acme/refused', 'stable');
    const r = promote(`acme/refused@${digests[name]}`);
    expect([r.code, r.stderr]).toEqual([code, expect.stringMatching(message)]);
    expect(tagDigest('acme/refused', 'stable')).toBe(before);
  });

  it("refuses a release signed by another repository than the policy's, and a promotion without a signer or channel", () => {
    const before = tagDigest('acme/appliance', 'stable');
    let r = runPiImage([
      'promote',
      `${registry.host}/acme/appliance:nightly`,
      '--channel',
      'stable',
      '--repository',
      'mallory/appliance',
      '--signer-workflow',
      'mallory/appliance/.github/workflows/release.yml',
      '--trusted-root',
      trustedRoot,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/MISMATCH\]/);
    expect(tagDigest('acme/appliance', 'stable')).toBe(before);
    r = runPiImage(['promote', `${registry.host}/acme/appliance:nightly`, '--channel', 'stable']);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/checks the signature first/)]);
    r = runPiImage(['promote', `${registry.host}/acme/appliance:nightly`, ...SIGNER]);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/--channel is required/)]);
    // A version tag is published once: promotion never moves one.
    r = runPiImage(['promote', `${registry.host}/acme/appliance:nightly`, '--channel', '1.0.0', ...SIGNER, '--trusted-root', trustedRoot]);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/--channel 1\.0\.0 is a version or build tag of the release it points at/)]);
    expect(tagDigest('acme/appliance', '1.0.0')).toBe(digests['stable-1']);
    r = runPiImage(['promote', `${registry.host}/acme/appliance:nightly`, '--channel', `sha256-${'a'.repeat(64)}`, ...SIGNER, '--trusted-root', trustedRoot]);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/reserved for attached signatures/)]);
  });
});
