/**
 * The committed action bundle, run the way the Actions runner runs it: inputs
 * as INPUT_* variables, outputs and the step summary written to the files named
 * by GITHUB_OUTPUT and GITHUB_STEP_SUMMARY. Only the runner itself is missing.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeInfo, makeSmallImage, SMALL_IMAGE_TOOLS } from '../support/small-image';
import { REPO_ROOT } from '../support/test-image';
import { missingTools, skipReason } from '../support/tools';

const missing = missingTools([...SMALL_IMAGE_TOOLS, 'xz']);
if (missing.length > 0) skipReason('package action test', `missing tools: ${missing.join(', ')}`);

/** Parses the runner's output file format: name<<DELIMITER\nvalue\nDELIMITER. */
function readOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /^([^\n<]+)<<(\S+)\n([\s\S]*?)\n\2$/gm;
  for (const m of text.matchAll(re)) out[m[1]!] = m[3]!;
  return out;
}

function runAction(env: Record<string, string>, cwd: string) {
  const outputFile = join(cwd, 'github-output');
  const summaryFile = join(cwd, 'github-summary');
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'actions/package/dist/index.cjs')], {
    cwd,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, GITHUB_OUTPUT: outputFile, GITHUB_STEP_SUMMARY: summaryFile, ...env },
  });
  return { code: r.status, stdout: r.stdout, outputs: readOutputs(readFileSync(outputFile, 'utf8')), summary: readFileSync(summaryFile, 'utf8') };
}

describe.skipIf(missing.length > 0)('actions/package bundle', () => {
  const work = mkdtempSync(join(tmpdir(), 'package-action-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const deploy = join(work, 'deploy');
  mkdirSync(deploy);
  makeSmallImage(join(deploy, '2026-01-19-small.img'));
  writeFileSync(join(deploy, '2026-01-19-small.info'), makeInfo(4));
  copyFileSync(join(REPO_ROOT, 'test/fixtures/pigen-ourbox-mini-2026-01-19/build.log'), join(deploy, 'build.log'));

  it('packages and sets its outputs and step summary', () => {
    const r = runAction(
      {
        'INPUT_DEPLOY-DIR': 'deploy',
        'INPUT_OUTPUT-DIR': 'out/release',
        INPUT_VERSION: '3.1.4',
        INPUT_CHANNEL: 'stable',
        'INPUT_COMPRESSION-LEVEL': '0',
        GITHUB_REPOSITORY: 'acme/appliance',
        GITHUB_SHA: 'b'.repeat(40),
        GITHUB_RUN_ID: '7',
      },
      work,
    );
    expect(r.stdout).not.toMatch(/::error/);
    expect(r.code).toBe(0);
    expect(r.outputs['release-dir']).toBe('out/release');
    expect(r.outputs['image-path']).toBe('out/release/small.img.xz');
    expect(r.outputs.version).toBe('3.1.4');
    expect(r.outputs['raw-image-sha256']).toMatch(/^[0-9a-f]{64}$/);
    const manifest = JSON.parse(readFileSync(join(work, 'out/release/manifest.json'), 'utf8'));
    expect(r.outputs['image-sha256']).toBe(manifest.files.find((f: { role: string }) => f.role === 'image').sha256);
    expect(r.summary).toContain('# small 3.1.4');
    const meta = JSON.parse(readFileSync(join(work, 'out/release/metadata.json'), 'utf8'));
    expect(meta.recipe.commit).toBe('b'.repeat(40));
    expect(meta.workflowRun.url).toBe('https://github.com/acme/appliance/actions/runs/7');
  });

  it('fails the step with an error naming the input, and writes nothing', () => {
    const r = runAction({ 'INPUT_DEPLOY-DIR': 'deploy', 'INPUT_OUTPUT-DIR': 'out/bad', INPUT_CHANNEL: 'weekly' }, work);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('::error::bad input: input channel "weekly" is not one of: nightly, stable');
    expect(existsSync(join(work, 'out/bad'))).toBe(false);
  });
});
