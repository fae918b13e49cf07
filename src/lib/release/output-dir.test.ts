import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pendingCleanups } from '../core/cleanup';
import { stageOutputDir } from './output-dir';

const root = mkdtempSync(join(tmpdir(), 'output-dir-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
/** A fresh directory under the test root for one test. */
function scratch(): string {
  const dir = join(root, `t${++n}`);
  mkdirSync(dir);
  return dir;
}

describe('stageOutputDir', () => {
  it('writes under a hidden partial name that nothing sees as the release until commit', async () => {
    const dir = scratch();
    const out = join(dir, 'release');
    const before = pendingCleanups();
    const staged = await stageOutputDir(out, { replace: false });
    expect(basename(staged.path)).toMatch(new RegExp(`^\\.release\\.partial-${process.pid}-[0-9a-f]{8}$`));
    expect(join(staged.path, '..')).toBe(dir);
    expect(pendingCleanups()).toBe(before + 1);
    writeFileSync(join(staged.path, 'manifest.json'), '{}');
    expect(existsSync(out)).toBe(false);

    await staged.commit();
    expect(readFileSync(join(out, 'manifest.json'), 'utf8')).toBe('{}');
    expect(readdirSync(dir)).toEqual(['release']);
    expect(pendingCleanups()).toBe(before);
  });

  it('creates missing parent directories', async () => {
    const out = join(scratch(), 'a', 'b', 'release');
    const staged = await stageOutputDir(out, { replace: false });
    await staged.commit();
    expect(readdirSync(out)).toEqual([]);
  });

  it('discard removes the staged directory and leaves no release', async () => {
    const dir = scratch();
    const before = pendingCleanups();
    const staged = await stageOutputDir(join(dir, 'release'), { replace: false });
    writeFileSync(join(staged.path, 'half-written.img.xz'), 'x');
    await staged.discard();
    expect(readdirSync(dir)).toEqual([]);
    expect(pendingCleanups()).toBe(before);
  });

  it('writes into an existing empty directory without --force', async () => {
    const out = join(scratch(), 'release');
    mkdirSync(out);
    const staged = await stageOutputDir(out, { replace: false });
    writeFileSync(join(staged.path, 'new'), 'new');
    await staged.commit();
    expect(readdirSync(out)).toEqual(['new']);
  });

  it('refuses a non-empty directory without replace, naming it with the label', async () => {
    const dir = scratch();
    const out = join(dir, 'release');
    mkdirSync(out);
    writeFileSync(join(out, 'old'), 'old');
    await expect(stageOutputDir(out, { replace: false, label: '--out' })).rejects.toMatchObject({
      code: 'OUTPUT_EXISTS',
      message: `--out ${out} already exists and is not empty; choose another or pass --force to replace it`,
    });
    expect(readdirSync(dir)).toEqual(['release']);
  });

  it('refuses an existing file in its place without replace, calling it "output" by default', async () => {
    const out = join(scratch(), 'release');
    writeFileSync(out, 'a file');
    await expect(stageOutputDir(out, { replace: false })).rejects.toMatchObject({
      code: 'OUTPUT_EXISTS',
      message: `output ${out} already exists and is not empty; choose another or pass --force to replace it`,
    });
  });

  it('replaces a non-empty directory with replace, only at commit, leaving nothing old behind', async () => {
    const dir = scratch();
    const out = join(dir, 'release');
    mkdirSync(out);
    writeFileSync(join(out, 'manifest.json'), '{}');
    const staged = await stageOutputDir(out, { replace: true });
    writeFileSync(join(staged.path, 'new'), 'new');
    expect(readdirSync(out)).toEqual(['manifest.json']);
    await staged.commit();
    expect(readdirSync(out)).toEqual(['new']);
    expect(readdirSync(dir)).toEqual(['release']);
  });

  it('without replace, leaves alone what appeared at the target while it was writing', async () => {
    const dir = scratch();
    const out = join(dir, 'release');
    const staged = await stageOutputDir(out, { replace: false });
    writeFileSync(join(staged.path, 'new'), 'new');
    mkdirSync(out);
    writeFileSync(join(out, 'theirs'), 'theirs');
    await expect(staged.commit()).rejects.toMatchObject({
      code: 'OUTPUT_EXISTS',
      message: `output ${out} appeared while this run was writing; it is left as it is`,
    });
    expect(readdirSync(out)).toEqual(['theirs']);
    await staged.discard();
    expect(readdirSync(dir)).toEqual(['release']);
  });

  it('with replace, puts the old release back when the new one cannot be moved in (a second commit)', async () => {
    const dir = scratch();
    const out = join(dir, 'release');
    mkdirSync(out);
    writeFileSync(join(out, 'manifest.json'), '{}');
    const staged = await stageOutputDir(out, { replace: true });
    writeFileSync(join(staged.path, 'new'), 'new');
    await staged.commit();
    await expect(staged.commit()).rejects.toMatchObject({ code: 'ENOENT' });
    expect(readdirSync(out)).toEqual(['new']);
    expect(readdirSync(dir)).toEqual(['release']);
  });

  it('with replace, still refuses a directory that is not a release (a mistyped path must not wipe a checkout)', async () => {
    const dir = scratch();
    const out = join(dir, 'checkout');
    mkdirSync(out);
    writeFileSync(join(out, 'code.c'), 'int main;');
    await expect(stageOutputDir(out, { replace: true, label: 'OUT_DIR' })).rejects.toMatchObject({
      code: 'OUTPUT_EXISTS',
      message: `OUT_DIR ${out} is not empty and is not a release directory (no manifest.json): --force replaces only a release; choose another directory`,
    });
    expect(readdirSync(out)).toEqual(['code.c']);
    expect(readdirSync(dir)).toEqual(['checkout']);
  });

  it('with replace, keeps the old release when the new one is discarded', async () => {
    const out = join(scratch(), 'release');
    mkdirSync(out);
    writeFileSync(join(out, 'manifest.json'), '{}');
    const staged = await stageOutputDir(out, { replace: true });
    await staged.discard();
    expect(readdirSync(out)).toEqual(['manifest.json']);
  });

  describe('refuses an output that is, or holds, an input (even with replace)', () => {
    it.each<[string, (dir: string) => { out: string; input: string }]>([
      ['the input directory itself', (dir) => ({ out: join(dir, 'deploy'), input: join(dir, 'deploy') })],
      ['the same directory written differently', (dir) => ({ out: join(dir, 'x', '..', 'deploy', '.'), input: join(dir, 'deploy') })],
      ['a directory holding the input image', (dir) => ({ out: join(dir, 'deploy'), input: join(dir, 'deploy', 'image.zip') })],
      ['a directory holding the input deeper down', (dir) => ({ out: dir, input: join(dir, 'deploy', 'image.zip') })],
      ['a symbolic link to the input directory', (dir) => ({ out: join(dir, 'link'), input: join(dir, 'deploy') })],
      ['a directory reached through a link to the input', (dir) => ({ out: join(dir, 'deploy'), input: join(dir, 'link', 'image.zip') })],
    ])('%s', async (_label, paths) => {
      const dir = scratch();
      mkdirSync(join(dir, 'deploy'));
      writeFileSync(join(dir, 'deploy', 'image.zip'), 'input');
      symlinkSync(join(dir, 'deploy'), join(dir, 'link'));
      const { out, input } = paths(dir);
      await expect(stageOutputDir(out, { replace: true, inputs: [join(root, 'elsewhere'), input], label: '--out' })).rejects.toMatchObject({
        code: 'INPUT_INVALID',
        message: `--out ${out} is, or holds, the input ${input}: writing there would replace it; choose another directory`,
      });
      expect(readFileSync(join(dir, 'deploy', 'image.zip'), 'utf8')).toBe('input');
      expect(readdirSync(dir).sort()).toEqual(['deploy', 'link']);
    });
  });

  it('accepts an output beside the inputs, or inside an input directory, or sharing a name prefix with one', async () => {
    const dir = scratch();
    mkdirSync(join(dir, 'deploy'));
    const inputs = [join(dir, 'deploy'), join(dir, 'release-input')];
    for (const out of [join(dir, 'release'), join(dir, 'deploy', 'release'), join(dir, 'release-')]) {
      const staged = await stageOutputDir(out, { replace: false, inputs });
      await staged.discard();
    }
    expect(readdirSync(dir).sort()).toEqual(['deploy']);
    expect(readdirSync(join(dir, 'deploy'))).toEqual([]);
  });
});
