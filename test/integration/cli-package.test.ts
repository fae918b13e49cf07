/**
 * The npm package of the CLI, as a device gets it: laid out by
 * scripts/release/pack-cli.mjs, packed by npm, installed from the tarball into
 * an empty prefix (offline: it has no dependencies to fetch) and run with the
 * device's Node 20.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findNode20 } from '../support/cli';
import { REPO_ROOT } from '../support/test-image';
import { missingTools, skipReason } from '../support/tools';

const node20 = findNode20();
const why = !node20 ? 'no Node 20 binary (set PI_IMAGE_NODE20)' : missingTools(['npm']).length > 0 ? 'npm is not installed' : undefined;
if (why) skipReason('the CLI npm package', why);

describe.skipIf(why !== undefined)('the pi-image npm package', () => {
  const work = mkdtempSync(join(tmpdir(), 'cli-package-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('packs one file and no dependencies, installs offline from the tarball and runs on Node 20', () => {
    const layout = join(work, 'package');
    execFileSync(process.execPath, ['scripts/release/pack-cli.mjs', layout], { cwd: REPO_ROOT });
    const manifest = JSON.parse(readFileSync(join(layout, 'package.json'), 'utf8')) as Record<string, unknown>;
    const root = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(manifest).toMatchObject({ name: 'pi-image-release', version: root.version, bin: { 'pi-image': 'pi-image.cjs' } });
    expect(manifest).not.toHaveProperty('dependencies');
    expect(manifest).not.toHaveProperty('private');

    const packed = JSON.parse(execFileSync('npm', ['pack', layout, '--json', '--pack-destination', work], { cwd: work, encoding: 'utf8' })) as {
      filename: string;
      files: { path: string }[];
    }[];
    expect(packed[0]!.files.map((f) => f.path).sort()).toEqual(['LICENSE', 'README.md', 'package.json', 'pi-image.cjs']);

    const prefix = join(work, 'prefix');
    execFileSync('npm', ['install', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', join(work, packed[0]!.filename)], { encoding: 'utf8' });
    expect(readdirSync(join(prefix, 'node_modules')).filter((n) => !n.startsWith('.'))).toEqual(['pi-image-release']);

    // The bin's #!/usr/bin/env node finds the device's Node 20 first on PATH.
    const env = { ...process.env, PATH: `${dirname(node20!)}:/usr/bin:/bin` };
    const bin = join(prefix, 'node_modules', '.bin', 'pi-image');
    const version = spawnSync(bin, ['--version'], { env, encoding: 'utf8' });
    expect([version.status, version.stdout.trim()]).toEqual([0, root.version]);
    expect(spawnSync('/usr/bin/env', ['node', '--version'], { env, encoding: 'utf8' }).stdout).toMatch(/^v20\./);
    const help = spawnSync(bin, ['flash', '--help'], { env, encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: pi-image flash SOURCE TARGET');
  });
});
