import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { digestBytes } from '../core/file-digest';
import { checkFiles, diskDigests, openReleaseDir, ReleaseWriter } from '../release/release-dir';
import { addBootEvidence, bootTestSection, renderJsonReport, SMOKE_TEST_FILE, withBootTestSection, writeEvidenceDir } from './boot-evidence';
import { SMOKE_TEST_SCHEMA_VERSION, type BootResult, type SmokeTestReport } from './smoke-test';

const NOTES = ['# appliance 1.2.3', '', 'What changed.', '', '## Files', '', '- appliance.img.xz', '', '## Verify', '', 'Run pi-image verify.', ''].join('\n');
const SECTION = ['## Boot test', '', 'New section.', ''].join('\n');

describe('the boot test section in the release notes', () => {
  it('goes just before "## Verify"', () => {
    expect(withBootTestSection(NOTES, SECTION)).toBe(
      [
        '# appliance 1.2.3',
        '',
        'What changed.',
        '',
        '## Files',
        '',
        '- appliance.img.xz',
        '',
        '## Boot test',
        '',
        'New section.',
        '',
        '## Verify',
        '',
        'Run pi-image verify.',
        '',
      ].join('\n'),
    );
  });

  it('replaces an earlier boot test section, up to the next heading, wherever it was', () => {
    const once = withBootTestSection(NOTES, SECTION);
    expect(withBootTestSection(once, SECTION)).toBe(once);
    const old = NOTES.replace('## Files', '## Boot test\n\nOld result.\n| table | row |\n\n## Files');
    const replaced = withBootTestSection(old, SECTION);
    expect(replaced).toBe(once);
    expect(replaced).not.toContain('Old result.');
    expect(replaced.match(/## Boot test/g)).toHaveLength(1);
  });

  it('replaces an earlier section at the very end, and keeps a "### " subheading inside it out', () => {
    const old = '# appliance\n\nText.\n\n## Boot test\n\nOld result.\n### Details\nold details\n';
    expect(withBootTestSection(old, SECTION)).toBe('# appliance\n\nText.\n\n## Boot test\n\nNew section.\n');
  });

  it('goes at the end when the notes have no "## Verify"', () => {
    expect(withBootTestSection('# appliance\n\nText.\n', SECTION)).toBe('# appliance\n\nText.\n\n## Boot test\n\nNew section.\n');
    expect(withBootTestSection('# appliance\n\n## Boot test\n\nOld.\n', SECTION)).toBe('# appliance\n\n## Boot test\n\nNew section.\n');
  });

  it('does not take a heading that merely starts with "Verify" for the Verify section', () => {
    const notes = '# a\n\n## Verifying by hand\n\ntext\n';
    expect(withBootTestSection(notes, SECTION)).toBe(`${notes}\n## Boot test\n\nNew section.\n`);
  });
});

function boot(change: Partial<BootResult> = {}): BootResult {
  return {
    name: 'boot',
    dataDisk: false,
    passed: true,
    ended: 'the checks ran',
    seconds: 42.5,
    times: { kernel: 0.4, multiUser: 31.26, checksDone: 40 },
    checks: [
      { name: 'multi-user', passed: true, detail: 'multi-user.target is active' },
      { name: 'failed-units', passed: true, detail: 'no failed units' },
    ],
    consoleLog: { file: 'appliance.boot.console.log', size: 0, sha256: 'a'.repeat(64) },
    lastLines: [],
    ...change,
  };
}

function makeReport(boots: BootResult[], change: Partial<SmokeTestReport> = {}): SmokeTestReport {
  return {
    schemaVersion: SMOKE_TEST_SCHEMA_VERSION,
    passed: boots.every((b) => b.passed),
    startedAt: '2026-01-19T00:00:00.000Z',
    seconds: 90.2,
    image: { file: 'appliance.img.xz', rawSize: 4096, rawSha256: 'b'.repeat(64) },
    machine: { emulator: 'QEMU emulator version 8.2.2', machine: 'virt', accel: 'kvm', cpus: 2, memoryMiB: 1024, cpu: 'host' },
    kernel: { version: '6.1.0-9-arm64', package: 'linux-image-6.1.0-9-arm64 6.1.27-1', busybox: 'busybox-static 1:1.35.0-4', commandLine: 'console=ttyAMA0' },
    deviceTimeouts: { scale: 4, devices: [{ device: '/dev/disk/by-label/OURBOX_DATA', seconds: 40 }] },
    expectedVersion: '1.2.3',
    dataLabel: 'OURBOX_DATA',
    dataMount: null,
    boots,
    ...change,
  };
}

const TWO_BOOTS = [
  boot({
    name: 'with-data-disk',
    dataDisk: true,
    checks: [
      { name: 'multi-user', passed: true, detail: '' },
      { name: 'data-disk-mounted', passed: true, detail: '' },
      { name: 'check:10-version', passed: true, detail: 'passed' },
    ],
    consoleLog: { file: 'appliance.with-data-disk.console.log', size: 0, sha256: 'c'.repeat(64) },
  }),
  boot({
    name: 'without-data-disk',
    passed: false,
    ended: 'the console was silent for 120 s | stalled',
    times: { kernel: 0.4 },
    checks: [{ name: 'multi-user', passed: false, detail: 'the probe never reported' }],
    consoleLog: { file: 'appliance.without-data-disk.console.log', size: 0, sha256: 'd'.repeat(64) },
  }),
];

describe('the boot test section', () => {
  it('says what was booted and how, one table row per boot, names as code', () => {
    expect(bootTestSection(makeReport(TWO_BOOTS)).split('\n')).toEqual([
      '## Boot test',
      '',
      "**Failed**: booted under QEMU `virt` (KVM, 2 CPUs, 1024 MiB) with Debian's generic kernel `6.1.0-9-arm64`, the image's own root file system. Evidence: `smoke-test.json` and the console logs.",
      '',
      '| Boot | Multi-user after | Checks | Result |',
      '|---|---|---|---|',
      '| `with-data-disk` | 31.3 s | ✓ `multi-user`, ✓ `data-disk-mounted`, ✓ `check:10-version` | passed |',
      '| `without-data-disk` | — | ✗ `multi-user` | the console was silent for 120 s \\| stalled |',
      '',
    ]);
  });

  it('says Passed and TCG for a passing emulated boot', () => {
    const text = bootTestSection(
      makeReport([boot()], { machine: { emulator: 'q', machine: 'virt', accel: 'tcg', cpus: 4, memoryMiB: 2048, cpu: 'cortex-a72' } }),
    );
    expect(text).toContain('Passed: booted under QEMU `virt` (TCG, 4 CPUs, 2048 MiB)');
    expect(text).toContain('| `boot` | 31.3 s | ✓ `multi-user`, ✓ `failed-units` | passed |');
    expect(text).not.toContain('**Failed**');
  });

  it('keeps a kernel version from breaking out of its code span or the table', () => {
    const text = bootTestSection(makeReport([boot()], { kernel: { version: '6.1`x|y\nz', package: '', busybox: '', commandLine: '' } }));
    const line = text.split('\n')[2]!;
    expect(line).toContain("generic kernel `` 6.1`x\\|y z ``, the image's");
    expect(text.split('\n')).toHaveLength(8);
  });
});

describe("the boot test's evidence added to a release", () => {
  let work: string;
  let dir: string;
  let logDir: string;
  const logs: Record<string, string> = {
    'appliance.with-data-disk.console.log': 'Booting Linux on physical CPU 0x0\r\nwith the disk\r\n',
    'appliance.without-data-disk.console.log': 'Booting Linux on physical CPU 0x0\r\nwithout the disk\r\n',
  };

  beforeEach(async () => {
    work = mkdtempSync(join(tmpdir(), 'boot-evidence-'));
    dir = join(work, 'release');
    logDir = join(work, 'logs');
    mkdirSync(dir);
    mkdirSync(logDir);
    for (const [name, text] of Object.entries(logs)) writeFileSync(join(logDir, name), text);
    const w = new ReleaseWriter(dir);
    writeFileSync(w.path('appliance.img.xz'), 'image bytes');
    w.record('appliance.img.xz', 'image', digestBytes('image bytes'));
    await w.writeText('RELEASE_NOTES.md', 'release-notes', NOTES);
    await w.finish({
      name: 'appliance',
      version: '1.2.3',
      channel: 'stable',
      created: '2026-01-19T00:00:00Z',
      image: { path: 'appliance.img.xz', compression: 'xz', raw: { size: 4096, sha256: 'b'.repeat(64) } },
    });
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it('lists the report and each console log in the manifest with their digests, and puts the section in the notes', async () => {
    const report = makeReport(TWO_BOOTS);
    const updated = await addBootEvidence(await openReleaseDir(dir), report, logDir);

    const reread = await openReleaseDir(dir);
    expect(reread.manifestBytes.equals(updated.manifestBytes)).toBe(true);
    const entries = Object.fromEntries(reread.manifest.files.map((f) => [f.path, f]));
    expect(Object.keys(entries).sort()).toEqual(
      ['RELEASE_NOTES.md', 'appliance.img.xz', 'appliance.with-data-disk.console.log', 'appliance.without-data-disk.console.log', SMOKE_TEST_FILE].sort(),
    );
    expect(entries[SMOKE_TEST_FILE]).toEqual({
      path: SMOKE_TEST_FILE,
      role: 'boot-test',
      mediaType: 'application/json',
      ...digestBytes(renderJsonReport(report)),
    });
    expect(JSON.parse(readFileSync(join(dir, SMOKE_TEST_FILE), 'utf8'))).toEqual(report);
    for (const [name, text] of Object.entries(logs)) {
      expect(entries[name]).toEqual({ path: name, role: 'boot-log', mediaType: 'text/plain', ...digestBytes(text) });
      expect(readFileSync(join(dir, name), 'utf8')).toBe(text);
    }

    const notes = readFileSync(join(dir, 'RELEASE_NOTES.md'), 'utf8');
    expect(notes).toBe(withBootTestSection(NOTES, bootTestSection(report)));
    expect(notes.indexOf('## Boot test')).toBeLessThan(notes.indexOf('## Verify'));
    expect(entries['RELEASE_NOTES.md']).toMatchObject({ role: 'release-notes', ...digestBytes(notes) });

    // Every listed file matches the manifest on disk; nothing else was left behind.
    expect(await checkFiles(reread.manifest.files, diskDigests(dir), dir, 'manifest')).toBe(5);
    expect(readdirSync(dir).sort()).toEqual([...Object.keys(entries), 'manifest.json'].sort());
  });

  it('replaces the evidence of an earlier run: one section, one entry per file', async () => {
    await addBootEvidence(await openReleaseDir(dir), makeReport(TWO_BOOTS), logDir);
    const second = makeReport([boot({ consoleLog: { file: 'appliance.with-data-disk.console.log', size: 0, sha256: 'e'.repeat(64) } })]);
    const updated = await addBootEvidence(await openReleaseDir(dir), second, logDir);
    expect(updated.manifest.files.filter((f) => f.path === SMOKE_TEST_FILE)).toHaveLength(1);
    expect(updated.manifest.files.find((f) => f.path === SMOKE_TEST_FILE)).toMatchObject(digestBytes(renderJsonReport(second)));
    const notes = readFileSync(join(dir, 'RELEASE_NOTES.md'), 'utf8');
    expect(notes.match(/## Boot test/g)).toHaveLength(1);
    expect(notes).toBe(withBootTestSection(NOTES, bootTestSection(second)));
    // The first run's second console log is neither listed nor left behind.
    const logs = updated.manifest.files.filter((f) => f.role === 'boot-log').map((f) => f.path);
    expect(logs).toEqual(['appliance.with-data-disk.console.log']);
    expect(await checkFiles(updated.manifest.files, diskDigests(dir), dir, 'manifest')).toBe(updated.manifest.files.length);
    expect(readdirSync(dir).sort()).toEqual([...updated.manifest.files.map((f) => f.path), 'manifest.json'].sort());
  });

  it('refuses a signed release with OUTPUT_EXISTS, changing nothing', async () => {
    writeFileSync(join(dir, 'appliance.sigstore.json'), '{}');
    const before = readFileSync(join(dir, 'manifest.json'));
    await expect(addBootEvidence(await openReleaseDir(dir), makeReport(TWO_BOOTS), logDir)).rejects.toMatchObject({
      code: 'OUTPUT_EXISTS',
      message: expect.stringContaining(`${dir} is signed: adding ${SMOKE_TEST_FILE}`),
    });
    expect(readFileSync(join(dir, 'manifest.json')).equals(before)).toBe(true);
    expect(readFileSync(join(dir, 'RELEASE_NOTES.md'), 'utf8')).toBe(NOTES);
    expect(existsSync(join(dir, SMOKE_TEST_FILE))).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(['RELEASE_NOTES.md', 'appliance.img.xz', 'appliance.sigstore.json', 'manifest.json']);
  });

  it('adds the files to a release without notes, and writes no notes', async () => {
    rmSync(dir, { recursive: true });
    mkdirSync(dir);
    const w = new ReleaseWriter(dir);
    writeFileSync(w.path('appliance.img.xz'), 'image bytes');
    w.record('appliance.img.xz', 'image', digestBytes('image bytes'));
    await w.finish({
      name: 'appliance',
      version: '1.2.3',
      channel: 'stable',
      created: '2026-01-19T00:00:00Z',
      image: { path: 'appliance.img.xz', compression: 'xz', raw: { size: 4096, sha256: 'b'.repeat(64) } },
    });
    const updated = await addBootEvidence(await openReleaseDir(dir), makeReport([TWO_BOOTS[0]!]), logDir);
    expect(updated.manifest.files.map((f) => `${f.path}:${f.role}`).sort()).toEqual(
      ['appliance.img.xz:image', 'appliance.with-data-disk.console.log:boot-log', `${SMOKE_TEST_FILE}:boot-test`].sort(),
    );
    expect(existsSync(join(dir, 'RELEASE_NOTES.md'))).toBe(false);
  });

  it('writes the same evidence to a directory of its own', async () => {
    const report = makeReport(TWO_BOOTS);
    const out = join(work, 'evidence', 'nested');
    await writeEvidenceDir(out, report, logDir);
    expect(readdirSync(out).sort()).toEqual([...Object.keys(logs), SMOKE_TEST_FILE].sort());
    expect(readFileSync(join(out, SMOKE_TEST_FILE), 'utf8')).toBe(renderJsonReport(report));
    for (const [name, text] of Object.entries(logs)) expect(readFileSync(join(out, name), 'utf8')).toBe(text);
  });
});
