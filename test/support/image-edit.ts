/**
 * Changes files inside a copy of a disk image's ext4 root, without mounting:
 * the partition is cut out, edited with debugfs (e2fsprogs), and put back.
 * For tests that need a broken image (a bad fstab, a failing unit, a missing
 * file). debugfs reports some failures only on stderr: any output there fails.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type RootEdit = { write: string; content: string } | { remove: string } | { symlink: string; target: string } | { mkdir: string };

function partition(image: string, number: number): { start: number; size: number } {
  const table = JSON.parse(execFileSync('sfdisk', ['--json', image], { encoding: 'utf8' })) as {
    partitiontable: { sectorsize?: number; partitions: { node: string; start: number; size: number }[] };
  };
  const p = table.partitiontable.partitions[number - 1];
  if (!p) throw new Error(`${image} has no partition ${number}`);
  const sector = table.partitiontable.sectorsize ?? 512;
  return { start: p.start * sector, size: p.size * sector };
}

/** Applies `edits` to the ext4 file system of partition `number` of `image` (a file the test owns). */
export function editRoot(image: string, edits: readonly RootEdit[], scratch: string, number = 2): void {
  const { start, size } = partition(image, number);
  const part = join(scratch, 'root.part');
  const MiB = 1024 * 1024;
  if (start % MiB !== 0 || size % MiB !== 0) throw new Error('partition not MiB-aligned');
  execFileSync('dd', [`if=${image}`, `of=${part}`, 'bs=1M', `skip=${start / MiB}`, `count=${size / MiB}`, 'conv=sparse', 'status=none']);
  const commands: string[] = [];
  edits.forEach((e, i) => {
    if ('write' in e) {
      const local = join(scratch, `file-${i}`);
      writeFileSync(local, e.content);
      commands.push(`rm ${e.write}`, `write ${local} ${e.write}`);
    } else if ('remove' in e) commands.push(`rm ${e.remove}`);
    else if ('symlink' in e) commands.push(`symlink ${e.symlink} ${e.target}`);
    else commands.push(`mkdir ${e.mkdir}`);
  });
  const script = join(scratch, 'debugfs.cmds');
  writeFileSync(script, `${commands.join('\n')}\n`);
  const r = spawnSync('debugfs', ['-w', '-f', script, part], { encoding: 'utf8' });
  // "rm" of a file that is not there yet (before a write) is expected; nothing else may complain.
  const complaints = r.stderr.split('\n').filter((l) => l.trim() !== '' && !/^debugfs [\d.]+/.test(l) && !l.includes('rm: File not found by ext2_lookup'));
  if (r.status !== 0 || complaints.length > 0) throw new Error(`debugfs on ${image}: ${complaints.join('; ') || r.stderr}`);
  execFileSync('dd', [`if=${part}`, `of=${image}`, 'bs=1M', `seek=${start / MiB}`, 'conv=notrunc', 'status=none']);
  rmSync(part);
}
