/**
 * Reads pi-gen's .info file.
 *   line 1: `<PI_GEN_RELEASE> <date>`
 *   line 2: `Generated using pi-gen, <repo url>, <GIT_HASH>, <stage>`
 *   then `Packages:` and the `dpkg -l` table.
 */
import { PiImageError } from '../core/errors';

export interface InstalledPackage {
  name: string;
  /** The multiarch qualifier when dpkg printed one (`zlib1g:arm64` → arm64). */
  qualifier?: string;
  version: string;
  architecture: string;
  description: string;
  /** dpkg's two-letter state, e.g. ii or hi. */
  state: string;
}

export interface PiGenInfo {
  /** PI_GEN_RELEASE as written on line 1, e.g. "OurBox OS for TOO-OBX-MINI-01 (dev)". */
  release: string;
  /** The date at the end of line 1 (IMG_DATE), e.g. 2026-01-19. */
  date: string;
  repository: string;
  /** GIT_HASH: the recipe's commit when the caller set it, else pi-gen's own. */
  gitHash: string;
  /** The stage the image was exported from. */
  stage: string;
  packages: InstalledPackage[];
}

const GENERATED = /^Generated using pi-gen, (\S+), (\S*), (\S+)\s*$/;
const ROW = /^([a-zA-Z][a-zA-Z ]?[a-zA-Z ]?)\s+(\S+)\s+(\S+)\s+(\S+)(?:\s+(.*))?$/;

export function parseInfoFile(text: string, source = '.info'): PiGenInfo {
  const lines = text.split(/\r?\n/);
  const header = lines[0]?.trim() ?? '';
  const dateMatch = /^(.*\S)\s+(\d{4}-\d{2}-\d{2})$/.exec(header);
  if (!dateMatch) {
    // The line itself is not shown: a file given by mistake (a password file) must not end up in a log.
    throw new PiImageError('INFO_INVALID', `${source}: line 1 is not "<PI_GEN_RELEASE> <YYYY-MM-DD>": not a pi-gen .info file`);
  }
  const generated = GENERATED.exec(lines[1]?.trim() ?? '');
  if (!generated) {
    throw new PiImageError('INFO_INVALID', `${source}: line 2 is not "Generated using pi-gen, <repository>, <commit>, <stage>": not a pi-gen .info file`);
  }
  const packagesAt = lines.findIndex((l) => l.trim() === 'Packages:');
  const tableRule = lines.findIndex((l, i) => i > packagesAt && /^\+\+\+-=+/.test(l));
  if (packagesAt < 0 || tableRule < 0) {
    throw new PiImageError('INFO_INVALID', `${source}: no package table ("Packages:" followed by the dpkg -l table) found`);
  }
  const packages: InstalledPackage[] = [];
  for (let i = tableRule + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const row = ROW.exec(line);
    if (!row) {
      throw new PiImageError('INFO_INVALID', `${source}:${i + 1}: not a dpkg -l package row (state, name, version, architecture, description)`);
    }
    const state = row[1]!.trim();
    // Only what is installed: the second letter is the current state, i = installed.
    if (state[1] !== 'i') continue;
    const [name, qualifier] = row[2]!.split(':', 2) as [string, string | undefined];
    packages.push({
      name,
      ...(qualifier ? { qualifier } : {}),
      version: row[3]!,
      architecture: row[4]!,
      description: (row[5] ?? '').trim(),
      state,
    });
  }
  if (packages.length === 0) {
    throw new PiImageError('INFO_INVALID', `${source}: the package table lists no installed package`);
  }
  return {
    release: dateMatch[1]!,
    date: dateMatch[2]!,
    repository: generated[1]!,
    gitHash: generated[2]!,
    stage: generated[3]!,
    packages,
  };
}
