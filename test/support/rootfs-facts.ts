/**
 * What an independent reader says of a root file system: e2fsprogs' debugfs
 * of the ext4 (`ls -l` for names, types, modes, owners and sizes, `rdump` for
 * the bytes, `stat` for device numbers), and the same facts of a tree GNU tar
 * extracted, to compare entry by entry.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

export interface Facts {
  mode: string;
  uid: number;
  gid: number;
  size?: number;
  sha256?: string;
  rdev?: string;
}

/** What debugfs says of every entry: `ls -l` of each directory, `rdump` for the bytes, `stat` for device numbers. */
export function debugfsFacts(fsImage: string, scratch: string): Map<string, Facts> {
  const debugfs = (cmd: string): string => execFileSync('debugfs', ['-R', cmd, fsImage], { stdio: ['ignore', 'pipe', 'ignore'], encoding: 'utf8' });
  const dump = join(scratch, 'rdump');
  mkdirSync(dump);
  debugfs(`rdump / ${dump}`);
  const facts = new Map<string, Facts>();
  const walk = (dir: string): void => {
    for (const line of debugfs(`ls -l ${dir === '' ? '/' : dir}`).split('\n')) {
      const m = /^\s*\d+\s+(\d+)\s+\(\d+\)\s+(\d+)\s+(\d+)\s+(\d+)\s+\S+\s+\S+\s(.+)$/.exec(line);
      if (!m || m[5] === '.' || m[5] === '..') continue;
      // debugfs prints a backslash (systemd's unit names hold them) and unprintable bytes as \xHH.
      const name = Buffer.from(
        m[5]!.replace(/\\x([0-9a-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
        'latin1',
      ).toString('utf8');
      const path = `${dir}/${name}`;
      const mode = m[1]!;
      const f: Facts = { mode, uid: Number(m[2]), gid: Number(m[3]) };
      const type = parseInt(mode, 8) & 0o170000;
      if (type === 0o100000) f.sha256 = sha256(readFileSync(join(dump, path)));
      if (type === 0o100000 || type === 0o120000) f.size = Number(m[4]);
      if (type === 0o020000 || type === 0o060000)
        f.rdev = /Device major\/minor number: (\d+):(\d+)/
          .exec(debugfs(`stat ${path}`))!
          .slice(1, 3)
          .map(Number)
          .join(':');
      facts.set(path, f);
      if (type === 0o040000) walk(path);
    }
  };
  walk('');
  return facts;
}

/** The same facts of the tree GNU tar extracted. */
export function extractedFacts(root: string): Map<string, Facts> {
  const facts = new Map<string, Facts>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(join(root, dir))) {
      const path = `${dir}/${name}`;
      const st = lstatSync(join(root, path));
      const f: Facts = { mode: st.mode.toString(8), uid: st.uid, gid: st.gid };
      if (st.isFile()) Object.assign(f, { size: st.size, sha256: sha256(readFileSync(join(root, path))) });
      if (st.isSymbolicLink()) f.size = Buffer.byteLength(readlinkSync(join(root, path)));
      if (st.isCharacterDevice() || st.isBlockDevice()) f.rdev = `${Math.floor(st.rdev / 256) & 0xfff}:${(st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00)}`;
      facts.set(path, f);
      if (st.isDirectory()) walk(path);
    }
  };
  walk('');
  return facts;
}
