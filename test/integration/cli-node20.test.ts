/**
 * The device side runs Debian's or Raspberry Pi OS's Node 20: the committed CLI
 * bundle must work there. Uses PI_IMAGE_NODE20, or a node 20 found on this
 * machine; says so and skips when there is none.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findNode20, runPiImage } from '../support/cli';
import { makeInfo, makeSmallImage, SMALL_IMAGE_TOOLS } from '../support/small-image';
import { REPO_ROOT } from '../support/test-image';
import { missingTools, skipReason } from '../support/tools';

const node20 = findNode20();
const missing = missingTools([...SMALL_IMAGE_TOOLS, 'xz']);
const why = !node20 ? 'no Node 20 binary (set PI_IMAGE_NODE20)' : missing.length > 0 ? `missing tools: ${missing.join(', ')}` : undefined;
if (why) skipReason('Node 20 CLI smoke test', why);

describe.skipIf(why !== undefined)('pi-image on Node 20', () => {
  const work = mkdtempSync(join(tmpdir(), 'node20-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('shows help, inspects an image, packages a deploy directory and exports it for network boot', () => {
    const help = runPiImage(['--help'], { node: node20! });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: pi-image <command>');

    const deploy = join(work, 'deploy');
    mkdirSync(deploy);
    const img = join(deploy, '2026-01-19-small.img');
    makeSmallImage(img);
    writeFileSync(join(deploy, '2026-01-19-small.info'), makeInfo(3));
    copyFileSync(join(REPO_ROOT, 'test/fixtures/pigen-ourbox-mini-2026-01-19/build.log'), join(deploy, 'build.log'));

    const inspect = runPiImage(['inspect', img, '--json'], { node: node20! });
    expect(inspect.code).toBe(0);
    expect(JSON.parse(inspect.stdout).root.productRelease.values.OURBOX_DEVICE).toBe('mini');

    const pack = runPiImage(['package', deploy, '--out', join(work, 'release'), '--compression-level', '0', '-q'], { node: node20! });
    expect(pack.stderr).toBe('');
    expect(pack.code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(work, 'release', 'manifest.json'), 'utf8'));
    expect(manifest.name).toBe('small');

    const xzInspect = runPiImage(['inspect', join(work, 'release', 'small.img.xz')], { node: node20! });
    expect(xzInspect.code).toBe(0);
    expect(xzInspect.stdout).toContain('LABEL=OURBOX_DATA /var/lib/ourbox ext4');

    // No zstd in Node 20's zlib: the root file system is a tar.gz there, and tar.zst is refused by name.
    const netboot = runPiImage(['netboot', join(work, 'release'), '--out', join(work, 'netboot'), '--server', '192.168.1.10'], { node: node20! });
    expect(netboot.code, netboot.stderr).toBe(0);
    expect(netboot.stderr).toContain('has no zstd: the root file system is written as tar.gz');
    expect(readFileSync(join(work, 'netboot', 'tftp', 'cmdline.txt'), 'utf8')).toContain('nfsroot=192.168.1.10:/srv/netboot/rootfs,vers=3');
    const zst = runPiImage(['netboot', join(work, 'release'), '--out', join(work, 'netboot-zst'), '--server', '192.168.1.10', '--rootfs', 'tar.zst'], {
      node: node20!,
    });
    expect([zst.code, zst.stderr]).toEqual([1, expect.stringMatching(/--rootfs tar\.zst needs Node 22\.15 or later .*use --rootfs tar\.gz \[TOOL_MISSING\]/)]);
  });
});
