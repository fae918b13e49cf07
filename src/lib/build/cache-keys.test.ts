import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { aptCacheKey, hashTree } from './cache-keys';

const dir = mkdtempSync(join(tmpdir(), 'cache-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cache keys', () => {
  it('hash a stage tree by content, path and executable bit, not by time', async () => {
    const stage = join(dir, 'stage');
    mkdirSync(join(stage, '00-x'), { recursive: true });
    writeFileSync(join(stage, '00-x', '00-run.sh'), '#!/bin/bash\n');
    writeFileSync(join(stage, 'prerun.sh'), 'copy_previous\n');
    const first = await hashTree([stage]);
    expect(await hashTree([stage])).toBe(first);
    writeFileSync(join(stage, 'prerun.sh'), 'copy_previous\n'); // rewritten, same content, new mtime
    expect(await hashTree([stage])).toBe(first);
    chmodSync(join(stage, '00-x', '00-run.sh'), 0o755);
    const executable = await hashTree([stage]);
    expect(executable).not.toBe(first);
    writeFileSync(join(stage, '00-x', '00-packages'), 'curl\n');
    expect(await hashTree([stage])).not.toBe(executable);
  });

  it('key the apt cache on pi-gen commit, stages and config, with nearest-first restore keys', () => {
    const k = aptCacheKey('x64', 'ca8aeed0', 'a'.repeat(64), 'b'.repeat(64));
    expect(k.key).toBe(`pi-image-apt-x64-ca8aeed0-${'a'.repeat(16)}-${'b'.repeat(16)}`);
    expect(k.restoreKeys).toEqual([`pi-image-apt-x64-ca8aeed0-${'a'.repeat(16)}-`, 'pi-image-apt-x64-ca8aeed0-']);
    expect(aptCacheKey('x64', 'other', 'a'.repeat(64), 'b'.repeat(64)).key).not.toBe(k.key);
    expect(k.key).not.toMatch(/20\d\d-\d\d-\d\d/);
  });

  it('key the builder image on runtime, arch, pi-gen commit and Dockerfile', () => {});
});
