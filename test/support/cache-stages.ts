/**
 * Two tiny pi-gen stages for the stage cache tests, no debootstrap needed:
 * stage-a makes a rootfs with an owned file, a setuid file, a hard link and a
 * symlink; stage-b copies it (copy_previous) and adds a file. Each prints
 * "RAN <stage> <marker>" when pi-gen runs it, so a test sees what ran.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CacheStages {
  a: string;
  b: string;
  writeA: (marker: string) => void;
  writeB: (marker: string) => void;
  /** While this file exists, stage-b fails (the same stage files: a transient failure). */
  failFlag: string;
}

export function makeCacheStages(dir: string): CacheStages {
  const a = join(dir, 'stage-a');
  const b = join(dir, 'stage-b');
  mkdirSync(a, { recursive: true });
  mkdirSync(b, { recursive: true });
  const write = (stage: string, lines: string[]): void => writeFileSync(join(stage, 'prerun.sh'), `#!/bin/bash -e\n${lines.join('\n')}\n`, { mode: 0o755 });
  const failFlag = join(dir, 'fail-stage-b');
  const stages: CacheStages = {
    a,
    b,
    failFlag,
    writeA: (marker) =>
      write(a, [
        `echo "RAN stage-a ${marker}"`,
        'mkdir -p "${ROOTFS_DIR}/etc" "${ROOTFS_DIR}/usr/bin"',
        'echo a >"${ROOTFS_DIR}/etc/a"',
        'chown 1234:5678 "${ROOTFS_DIR}/etc/a"',
        'printf x >"${ROOTFS_DIR}/usr/bin/tool"',
        'chmod 4755 "${ROOTFS_DIR}/usr/bin/tool"',
        'ln -f "${ROOTFS_DIR}/usr/bin/tool" "${ROOTFS_DIR}/usr/bin/tool-link"',
        'ln -sfn tool "${ROOTFS_DIR}/usr/bin/tool-sym"',
      ]),
    writeB: (marker) =>
      write(b, [
        `echo "RAN stage-b ${marker}"`,
        `if [ -e '${failFlag}' ]; then echo "stage-b fails"; exit 3; fi`,
        'if [ ! -d "${ROOTFS_DIR}" ]; then copy_previous; fi',
        'echo "$(cat "${ROOTFS_DIR}/etc/a")b" >"${ROOTFS_DIR}/etc/b"',
      ]),
  };
  stages.writeA('1');
  stages.writeB('1');
  return stages;
}
