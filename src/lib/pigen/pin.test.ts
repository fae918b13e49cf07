import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { skipReason } from '../../../test/support/tools';
import { PI_GEN_PIN } from './pin';

const root = fileURLToPath(new URL('../../..', import.meta.url));

function gitlink(): string | undefined {
  try {
    const out = execFileSync('git', ['ls-files', '-s', 'vendor/pi-gen'], { cwd: root, encoding: 'utf8' });
    return /^160000 ([0-9a-f]{40}) /.exec(out)?.[1];
  } catch {
    return undefined;
  }
}

describe('pi-gen pin', () => {
  it('is a full commit on the arm64 branch of RPi-Distro/pi-gen', () => {
    expect(PI_GEN_PIN).toEqual({
      repository: 'https://github.com/RPi-Distro/pi-gen',
      branch: 'arm64',
      commit: 'ca8aeed0ae300c2a89f55ce9617d5f96a27e99e5',
      tag: '2026-06-18-raspios-trixie-arm64',
    });
  });

  const link = gitlink();
  if (!link) skipReason('submodule pointer check', 'not in a git checkout');
  it.skipIf(!link)('matches the vendor/pi-gen submodule pointer and .gitmodules', () => {
    expect(link).toBe(PI_GEN_PIN.commit);
    const modules = readFileSync(`${root}/.gitmodules`, 'utf8');
    expect(modules).toContain(`url = ${PI_GEN_PIN.repository}`);
    expect(modules).toContain(`branch = ${PI_GEN_PIN.branch}`);
  });
});
