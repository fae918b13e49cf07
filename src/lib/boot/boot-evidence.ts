/**
 * The boot test's evidence: `smoke-test.json` and each boot's console log,
 * added to the release (so the manifest lists them and a signature covers
 * them), and a "Boot test" section in RELEASE_NOTES.md.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PiImageError } from '../core/errors';
import { mdCode, mdText } from '../core/markdown-text';
import { addReleaseFiles, fileOfRole, releasePath, type NewFile, type ReleaseDir } from '../release/release-dir';
import type { SmokeTestReport } from './smoke-test';

export const SMOKE_TEST_FILE = 'smoke-test.json';
const SECTION = '## Boot test';

export function renderJsonReport(report: SmokeTestReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** The "Boot test" section of the release notes. */
export function bootTestSection(report: SmokeTestReport): string {
  const out = [SECTION, ''];
  out.push(
    `${report.passed ? 'Passed' : '**Failed**'}: booted under QEMU \`virt\` (${report.machine.accel === 'kvm' ? 'KVM' : 'TCG'}, ${report.machine.cpus} CPUs, ${report.machine.memoryMiB} MiB) with Debian's generic kernel ${mdCode(report.kernel.version)}, the image's own root file system. Evidence: ${mdCode(SMOKE_TEST_FILE)} and the console logs.`,
    '',
  );
  out.push('| Boot | Multi-user after | Checks | Result |', '|---|---|---|---|');
  for (const b of report.boots) {
    const mu = b.times.multiUser !== undefined ? `${b.times.multiUser.toFixed(1)} s` : '—';
    const checks = b.checks.map((c) => `${c.passed ? '✓' : '✗'} ${mdCode(c.name)}`).join(', ');
    out.push(`| ${mdCode(b.name)} | ${mu} | ${checks} | ${b.passed ? 'passed' : mdText(b.ended)} |`);
  }
  out.push('');
  return out.join('\n');
}

/** The notes with the section put in (before "## Verify", or at the end), replacing an earlier one. */
export function withBootTestSection(notes: string, section: string): string {
  const lines = withoutBootTestSection(notes).split('\n');
  const verify = lines.indexOf('## Verify');
  if (verify >= 0) {
    lines.splice(verify, 0, ...section.split('\n'));
    return lines.join('\n');
  }
  const text = lines.join('\n').replace(/\n*$/, '\n\n');
  return `${text}${section.replace(/\n*$/, '\n')}`;
}

async function readLog(dir: string, name: string): Promise<Buffer> {
  try {
    return await readFile(join(dir, name));
  } catch (e) {
    throw new PiImageError('INTERNAL', `the boot test's console log ${name} is missing from ${dir}: ${(e as Error).message}`, { cause: e });
  }
}

/** Adds the report, the console logs (read from `logDir`) and the notes' section to an unsigned release. */
export async function addBootEvidence(release: ReleaseDir, report: SmokeTestReport, logDir: string): Promise<ReleaseDir> {
  const files: NewFile[] = [{ name: SMOKE_TEST_FILE, role: 'boot-test', content: renderJsonReport(report) }];
  for (const b of report.boots) files.push({ name: b.consoleLog.file, role: 'boot-log', content: await readLog(logDir, b.consoleLog.file) });
  const notes = fileOfRole(release, 'release-notes');
  if (notes) {
    const text = await readFile(releasePath(release, notes.path), 'utf8');
    files.push({ name: notes.path, role: 'release-notes', content: withBootTestSection(text, bootTestSection(report)) });
  }
  return addReleaseFiles(release, files, { replaceRoles: ['boot-test', 'boot-log'] });
}

/**
 * Takes earlier boot evidence out of an unsigned release (before a new run: a
 * run that fails must not leave an earlier pass behind, to be signed).
 */
export async function clearBootEvidence(release: ReleaseDir): Promise<ReleaseDir> {
  if (!release.manifest.files.some((f) => f.role === 'boot-test' || f.role === 'boot-log')) return release;
  const files: NewFile[] = [];
  const notes = fileOfRole(release, 'release-notes');
  if (notes) {
    const text = await readFile(releasePath(release, notes.path), 'utf8');
    files.push({ name: notes.path, role: 'release-notes', content: withoutBootTestSection(text) });
  }
  return addReleaseFiles(release, files, { replaceRoles: ['boot-test', 'boot-log'] });
}

/** The notes without a "Boot test" section. */
export function withoutBootTestSection(notes: string): string {
  const lines = notes.split('\n');
  const start = lines.indexOf(SECTION);
  if (start < 0) return notes;
  let end = lines.findIndex((l, i) => i > start && l.startsWith('## '));
  if (end < 0) end = lines.length;
  lines.splice(start, end - start);
  return lines.join('\n');
}

/** Writes the report and the logs to a directory of their own (a failed test's evidence, or an image's). */
export async function writeEvidenceDir(dir: string, report: SmokeTestReport, logDir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, SMOKE_TEST_FILE), renderJsonReport(report));
  for (const b of report.boots) await writeFile(join(dir, b.consoleLog.file), await readLog(logDir, b.consoleLog.file));
}
