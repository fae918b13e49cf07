/**
 * The boot test on the real arm64 test image, under real QEMU (TCG here),
 * with Debian's kernel fetched and checked as apt checks it. A good release
 * passes both boots (with and without the DATA disk) and gets the evidence
 * under its manifest; each broken image fails with its own reason, and the
 * image file is never changed.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runActionBundle } from '../support/action-bundle';
import { runPiImage } from '../support/cli';
import { DATA_FSTAB_LINE } from '../support/ourbox-contract';
import { editRoot, type RootEdit } from '../support/image-edit';
import { makeRelease, signWithMock } from '../support/release-fixture';
import { startSigstoreMock } from '../support/sigstore-mock';
import { cachedTestImage, REPO_ROOT, testImageUnavailable, type TestImage } from '../support/test-image';
import { missingTools, sh, skipReason } from '../support/tools';

const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
const why =
  testImageUnavailable() ??
  (missingTools(['qemu-system-aarch64', 'gpgv', 'debugfs', 'mkfs.ext4', 'sfdisk', 'xz']).join(', ') || undefined) ??
  (existsSync(KEYRING) ? undefined : `${KEYRING} is missing (debian-archive-keyring)`);
if (why) skipReason('boot tests under QEMU', why);

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
const CHECKS = join(REPO_ROOT, 'pigen/checks');
const BASE_FSTAB = [
  'proc            /proc           proc    defaults          0       0',
  'PARTUUID=5eed1234-01  /boot/firmware  vfat    defaults          0       2',
  'PARTUUID=5eed1234-02  /               ext4    defaults,noatime  0       1',
];

describe.skipIf(why !== undefined)('pi-image smoke-test under QEMU', () => {
  let image: TestImage;
  let work: string;
  const cacheDir = join(process.env.XDG_CACHE_HOME ?? join(process.env.HOME ?? tmpdir(), '.cache'), 'pi-image-release');

  /** A copy of the test image with `edits` made to its root file system. */
  function edited(name: string, edits: RootEdit[]): string {
    const dir = join(work, name);
    mkdirSync(dir);
    const img = join(dir, `${name}.img`);
    sh('cp', ['--sparse=always', image.img, img]);
    editRoot(img, edits, dir);
    return img;
  }
  const smoke = (args: string[]) => runPiImage(['smoke-test', ...args, '--cache-dir', cacheDir]);

  /** The action's committed bundle, run as the runner runs it; the boot kit from the same cache as the CLI's. */
  const action = (inputs: Record<string, string>) =>
    runActionBundle('smoke-test', inputs, {
      work,
      env: { HOME: process.env.HOME, ...(process.env.XDG_CACHE_HOME ? { XDG_CACHE_HOME: process.env.XDG_CACHE_HOME } : {}) },
    });

  beforeAll(() => {
    image = cachedTestImage()!;
    work = mkdtempSync(join(tmpdir(), 'smoke-test-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('the action boots a good release with and without its DATA disk, and adds the evidence under the manifest and the signature', async () => {
    const deploy = join(work, 'deploy');
    mkdirSync(deploy);
    copyFileSync(image.info, join(deploy, '2026-01-19-ourbox-test.info'));
    copyFileSync(join(REPO_ROOT, 'test/fixtures/pigen-ourbox-mini-2026-01-19/build.log'), join(deploy, 'build.log'));
    sh('cp', ['--sparse=always', image.img, join(deploy, '2026-01-19-ourbox-test.img')]);
    const release = join(work, 'release');
    const p = runPiImage(['package', deploy, '--out', release, '--version', '0.0.0-test', '--compression-level', '0', '--quiet']);
    expect(p.code, p.stderr).toBe(0);
    const imageBefore = sha256(join(release, 'ourbox-test.img.xz'));

    // Through the action's bundle, as the pipeline runs it (the CLI runs in the tests below).
    const r = action({ 'release-dir': release, checks: CHECKS, 'data-label': 'OURBOX_DATA', 'data-mount': '/var/lib/ourbox' });
    expect(r.code, r.stdout).toBe(0);
    expect(r.outputs).toEqual({ passed: 'true', report: join(release, 'smoke-test.json'), evidence: release });
    expect(r.summary).toMatch(/## Boot test\n\nPassed: booted under QEMU `virt`/);
    const report = JSON.parse(readFileSync(join(release, 'smoke-test.json'), 'utf8')) as {
      passed: boolean;
      expectedVersion: string;
      boots: {
        name: string;
        passed: boolean;
        times: { multiUser?: number };
        checks: { name: string; passed: boolean }[];
        consoleLog: { file: string; sha256: string };
      }[];
      kernel: { package: string };
    };
    expect(report.passed).toBe(true);
    expect(report.expectedVersion).toBe('0.0.0-test');
    expect(report.kernel.package).toMatch(/^linux-image-[\d.]+-\d+-arm64 /);
    expect(report.boots.map((b) => b.name)).toEqual(['with-data-disk', 'without-data-disk']);
    expect(report.boots[0]!.checks.map((c) => `${c.name}:${c.passed}`)).toEqual([
      'multi-user:true',
      'failed-units:true',
      'data-disk-mounted:true',
      'check:fstrim-timer.sh:true',
      'check:ourbox-release.sh:true',
      'jobs-finished:true',
    ]);
    expect(report.boots[1]!.checks.map((c) => c.name)).toContain('data-disk-absent');
    expect(report.boots[0]!.times.multiUser).toBeGreaterThan(0);

    // The evidence is listed in the manifest with its digests.
    const manifest = JSON.parse(readFileSync(join(release, 'manifest.json'), 'utf8')) as { files: { path: string; role: string; sha256: string }[] };
    const listed = (role: string) => manifest.files.filter((f) => f.role === role);
    expect(listed('boot-test').map((f) => f.path)).toEqual(['smoke-test.json']);
    expect(listed('boot-log').map((f) => f.path)).toEqual(['smoke-test.with-data-disk.console.log', 'smoke-test.without-data-disk.console.log']);
    for (const f of [...listed('boot-test'), ...listed('boot-log'), ...listed('release-notes')]) expect(sha256(join(release, f.path))).toBe(f.sha256);
    expect(report.boots[0]!.consoleLog.sha256).toBe(sha256(join(release, 'smoke-test.with-data-disk.console.log')));
    expect(readFileSync(join(release, 'smoke-test.with-data-disk.console.log'), 'utf8')).toMatch(/PI-IMAGE-PROBE:[0-9a-f]{16}:done/);
    expect(readFileSync(join(release, 'RELEASE_NOTES.md'), 'utf8')).toMatch(
      /## Boot test\n\nPassed: booted under QEMU `virt`[^]*\| `with-data-disk` \| [\d.]+ s \| ✓ `multi-user`[^]*## Verify/,
    );

    // Signed afterwards, the evidence is under the signature: verified with it, and a changed report is caught.
    const mock = await startSigstoreMock();
    const trustedRoot = join(work, 'trusted-root.json');
    try {
      await signWithMock(release, mock);
      writeFileSync(trustedRoot, JSON.stringify(mock.trustedRoot));
    } finally {
      await mock.close();
    }
    const signer = ['--repository', 'acme/appliance', '--signer-workflow', 'acme/appliance/.github/workflows/release.yml', '--trusted-root', trustedRoot];
    const signed = runPiImage(['verify', release, ...signer]);
    expect(signed.code, signed.stderr).toBe(0);
    const evidence = join(release, 'smoke-test.json');
    const original = readFileSync(evidence);
    writeFileSync(evidence, original.toString().replace('"passed": true', '"passed": false '));
    const tampered = runPiImage(['verify', release, ...signer]);
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toMatch(/smoke-test\.json .*was modified after signing.*\[FILE_MODIFIED\]/);
    writeFileSync(evidence, original);
    expect(sha256(join(release, 'ourbox-test.img.xz'))).toBe(imageBefore);
    expect(readdirSync(work).filter((n) => n.endsWith('.smoke-test'))).toEqual([]);
  });

  it.each([
    [
      'an fstab line for a device that never appears',
      'missing-device',
      [{ write: '/etc/fstab', content: [...BASE_FSTAB, 'LABEL=NOWHERE /mnt/nowhere ext4 defaults,x-systemd.device-timeout=5s 0 2', ''].join('\n') }],
      [],
      /failed the boot test: systemd went to emergency mode/,
    ],
    [
      'a unit that fails and no release file (each named)',
      'failing-unit',
      [
        { write: '/etc/systemd/system/broken.service', content: '[Unit]\nDescription=broken\n[Service]\nType=oneshot\nExecStart=/bin/false\n' },
        { symlink: '/etc/systemd/system/multi-user.target.wants/broken.service', target: '/etc/systemd/system/broken.service' },
        { remove: '/etc/ourbox/release' },
      ],
      ['--checks', CHECKS],
      /failed-units: failed: broken\.service\n(.*\n)* {2}check:ourbox-release\.sh: exited with 1: \/etc\/ourbox\/release is missing/,
    ],
    [
      'a DATA line without nofail',
      'data-not-nofail',
      [
        {
          write: '/etc/fstab',
          // The product's own 10 s device timeout (40 s under emulation): 5 s let a loaded machine time out
          // finding the DATA disk that is there, failing the boot that must pass.
          content: [...BASE_FSTAB, DATA_FSTAB_LINE.replace('nofail,', ''), ''].join('\n'),
        },
      ],
      ['--data-label', 'OURBOX_DATA'],
      /\(without-data-disk\): systemd went to emergency mode/,
    ],
  ] as [string, string, RootEdit[], string[], RegExp][])(
    'fails an image with %s, with that reason, leaving the image as it was',
    (_what, name, edits, args, reason) => {
      const img = edited(name, edits);
      const before = sha256(img);
      const r = smoke([img, '--expected-version', '0.0.0-test', ...args]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain('[BOOT_TEST_FAILED]');
      expect(r.stderr).toMatch(reason);
      expect(r.stderr).toMatch(/last console lines/);
      const evidence = `${img}.smoke-test`;
      expect(JSON.parse(readFileSync(join(evidence, 'smoke-test.json'), 'utf8'))).toMatchObject({ passed: false });
      expect(sha256(img)).toBe(before);
    },
  );

  it("boots a customised image and sees cloud-init apply the hostname, user and SSH key from the boot partition, as Imager's would be", () => {
    // The test image has Debian's cloud-init seeded from the boot partition, switched off by its marker: the product turns it on.
    const img = edited('customised', [{ remove: '/etc/cloud/cloud-init.disabled' }]);
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC1/dGVzdGtleXRlc3RrZXl0ZXN0a2V5dGVzdGtleQ alice@laptop';
    const keyFile = join(work, 'alice.pub');
    writeFileSync(keyFile, `${key}\n`);
    const inspected = (path: string) =>
      (JSON.parse(runPiImage(['inspect', path, '--json']).stdout) as { root: { firstBoot: { initFormat: string } } }).root.firstBoot.initFormat;
    expect(inspected(image.img)).toBe('none');
    expect(inspected(img)).toBe('cloudinit');
    const c = runPiImage(['customise', img, '--hostname', 'booted-1', '--user', 'alice', '--ssh-key-file', keyFile, '--instance-id', 'boot-test-1']);
    expect(c.code, c.stderr).toBe(0);

    // What the booted system must show: each fact its own line, so a failure names the one missing.
    const checks = join(work, 'customisation-checks');
    mkdirSync(checks);
    writeFileSync(
      join(checks, 'customised.sh'),
      [
        '#!/bin/sh',
        'fail=0',
        'say() { echo "$*"; }',
        '[ "$(hostname)" = booted-1 ] || { say "hostname is $(hostname), not booted-1"; fail=1; }',
        'id alice >/dev/null 2>&1 || { say "no user alice"; fail=1; }',
        `grep -qxF '${key}' /home/alice/.ssh/authorized_keys 2>/dev/null || { say "alice's authorized_keys lacks the key"; fail=1; }`,
        '[ "$(stat -c %U /home/alice/.ssh/authorized_keys 2>/dev/null)" = alice ] || { say "authorized_keys is not alice\'s"; fail=1; }',
        'status=$(cloud-init status 2>&1)',
        'case "$status" in *"status: done"*) ;; *) say "cloud-init: $status"; fail=1 ;; esac',
        'exit $fail',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    const r = smoke([img, '--checks', checks, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { kernel: { commandLine: string }; boots: { checks: { name: string; passed: boolean; detail: string }[] }[] };
    // The image's own cloud-init argument was carried onto the test's kernel command line.
    expect(report.kernel.commandLine).toMatch(/ ds=nocloud;i=boot-test-1$/);
    expect(report.boots[0]!.checks.map((x) => `${x.name}:${x.passed}`)).toEqual([
      'multi-user:true',
      'failed-units:true',
      'check:customised.sh:true',
      'jobs-finished:true',
    ]);
    const log = readFileSync(join(`${img}.smoke-test`, 'smoke-test.boot.console.log'), 'utf8');
    expect(log).toMatch(/Cloud-init v\. [\d.]+ finished at .* Datasource DataSourceNoCloud \[seed=cmdline,ds_config_seedfrom,file:\/\/\/boot\/firmware\/\]/);
  });

  it('refuses a signed release (the evidence must go under the signature), and names a missing source', async () => {
    const signed = await makeRelease(work, 'signed-release');
    writeFileSync(join(signed, 'appliance.sigstore.json'), '{}');
    const r = smoke([signed]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is already signed: boot-test a release before it is signed.*\[OUTPUT_EXISTS\]/);
    // Inputs are refused before anything slow starts: a check that cannot run, an option that does not apply.
    const checks = join(work, 'checks');
    mkdirSync(checks);
    writeFileSync(join(checks, 'README.md'), 'documentation, not a check');
    writeFileSync(join(checks, 'lost-its-x-bit.sh'), '#!/bin/sh\nexit 0\n');
    const notExecutable = smoke([image.img, '--checks', checks]);
    expect(notExecutable.code).toBe(2);
    expect(notExecutable.stderr).toMatch(/check .*lost-its-x-bit\.sh is not executable/);
    const expected = smoke([signed, '--expected-version', '9.9.9']);
    expect(expected.code).toBe(2);
    expect(expected.stderr).toMatch(/--expected-version is for an image file/);
    const bad = action({ 'release-dir': signed, accel: 'hvf' });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/::error::bad input: input accel "hvf" must be kvm, tcg or auto \[INPUT_INVALID\]/);
    const missing = smoke([join(work, 'nope')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope is missing: give a release directory or an image file/);
  });
});
