/**
 * The package step on a real arm64 image built from Debian's packages, laid out
 * like pi-gen's export-image, in each of pi-gen's deploy formats. Checked with
 * independent tools: sha256sum, xz, bmaptool (Debian's bmap-tools), cmp.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debugfsFacts, extractedFacts } from '../support/rootfs-facts';
import { runPiImage } from '../support/cli';
import { DATA_FSTAB_ENTRY } from '../support/ourbox-contract';
import { schemaErrors } from '../support/schemas';
import { cachedTestImage, REPO_ROOT, testImageUnavailable, type TestImage } from '../support/test-image';
import { missingTools, sh, skipReason } from '../support/tools';

const FIXTURE_LOG = join(REPO_ROOT, 'test/fixtures/pigen-ourbox-mini-2026-01-19/build.log');
const why = testImageUnavailable() ?? (missingTools(['bmaptool', 'xz', 'gzip', 'zip', 'sha256sum', 'cmp', 'debugfs', 'mcopy', 'tar']).join(', ') || undefined);
if (why) skipReason('real-image package tests', why);

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

describe.skipIf(why !== undefined)('pi-image package on a real arm64 image', () => {
  let image: TestImage;
  let work: string;
  const base = '2026-01-19-ourbox-test';

  /** A deploy/ directory as pi-gen leaves it for the given DEPLOY_COMPRESSION. */
  function deployDir(compression: 'zip' | 'gz' | 'xz' | 'none'): string {
    const dir = join(work, `deploy-${compression}`);
    mkdirSync(dir);
    copyFileSync(image.info, join(dir, `${base}.info`));
    copyFileSync(FIXTURE_LOG, join(dir, 'build.log'));
    const raw = join(dir, `${base}.img`);
    sh('cp', ['--sparse=always', image.img, raw]);
    if (compression === 'zip') sh('zip', ['-q', '-1', '-j', join(dir, `image_${base}.zip`), raw]);
    if (compression === 'gz') sh('sh', ['-c', 'gzip -1 -c "$1" > "$2"', 'sh', raw, join(dir, `image_${base}.img.gz`)]);
    if (compression === 'xz') sh('sh', ['-c', 'xz -0 -T0 -c "$1" > "$2"', 'sh', raw, join(dir, `image_${base}.img.xz`)]);
    if (compression !== 'none') rmSync(raw);
    return dir;
  }

  beforeAll(() => {
    image = cachedTestImage()!;
    work = mkdtempSync(join(tmpdir(), 'package-real-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("packages pi-gen's default zip into a release that sha256sum, bmaptool and the schemas accept", () => {
    const deploy = deployDir('zip');
    const out = join(work, 'release-zip');
    const r = runPiImage(['package', deploy, '--out', out, '--version', '1.2.3', '--channel', 'stable', '--compression-level', '1'], {
      env: {
        GITHUB_REPOSITORY: 'techofourown/img-ourbox-mini-rpi',
        GITHUB_SHA: 'a'.repeat(40),
        GITHUB_REF: 'refs/tags/v1.2.3',
        GITHUB_RUN_ID: '42',
        GITHUB_RUN_ATTEMPT: '2',
      },
    });
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(out);
    expect(readdirSync(work).filter((n) => n.includes('.partial-'))).toEqual([]);

    const name = 'ourbox-test';
    expect(readdirSync(out).sort()).toEqual(
      [
        'RELEASE_NOTES.md',
        'build.log',
        'manifest.json',
        'metadata.json',
        `${name}.bmap`,
        `${name}.img.sha256`,
        `${name}.img.xz`,
        `${name}.img.xz.sha256`,
        `${name}.info`,
        `${name}.spdx.json`,
      ].sort(),
    );

    // Checksums: the compressed image directly, the raw one after xz -dk.
    expect(sh('sha256sum', ['-c', `${name}.img.xz.sha256`], { cwd: out })).toContain('OK');
    sh('xz', ['-dk', '-T0', `${name}.img.xz`], { cwd: out });
    expect(sh('sha256sum', ['-c', `${name}.img.sha256`], { cwd: out })).toContain('OK');
    expect(sha256(join(out, `${name}.img`))).toBe(sha256(image.img));
    rmSync(join(out, `${name}.img`));

    // bmaptool copy with our block map reproduces the image byte for byte.
    const copy = join(work, 'bmap-copy.img');
    sh('bmaptool', ['copy', '--bmap', join(out, `${name}.bmap`), join(out, `${name}.img.xz`), copy]);
    sh('cmp', [copy, image.img]);
    rmSync(copy);

    // The manifest lists every other file with the right digest, and validates.
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(schemaErrors('manifest', manifest)).toEqual([]);
    expect(manifest.files.map((f: { path: string }) => f.path).sort()).toEqual(
      readdirSync(out)
        .filter((n) => n !== 'manifest.json')
        .sort(),
    );
    for (const f of manifest.files) {
      expect(sha256(join(out, f.path)), f.path).toBe(f.sha256);
      expect(readFileSync(join(out, f.path)).length, f.path).toBe(f.size);
    }
    expect(manifest).toMatchObject({ name, version: '1.2.3', channel: 'stable', image: { path: `${name}.img.xz`, raw: { sha256: sha256(image.img) } } });

    // The SBOM lists as many packages as the .info has installed (ii) lines, plus the image itself.
    const iiLines = readFileSync(image.info, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('ii ')).length;
    const sbom = JSON.parse(readFileSync(join(out, `${name}.spdx.json`), 'utf8'));
    expect(sbom.spdxVersion).toBe('SPDX-2.3');
    expect(sbom.packages.filter((p: { SPDXID: string }) => p.SPDXID.startsWith('SPDXRef-deb-'))).toHaveLength(iiLines);
    expect(sbom.packages[1].externalRefs[0].referenceLocator).toMatch(/^pkg:deb\/debian\/[^@]+@[^?]+\?arch=(arm64|all)&distro=bookworm$/);

    // Metadata: schema, timings from the real log, provenance, facts from inside the image.
    const meta = JSON.parse(readFileSync(join(out, 'metadata.json'), 'utf8'));
    expect(schemaErrors('metadata', meta)).toEqual([]);
    expect(meta.build.stages.map((s: { name: string; durationSeconds: number }) => [s.name, s.durationSeconds])).toEqual([
      ['stage0', 733],
      ['stage1', 84],
      ['stage2', 1020],
      ['stage-ourbox-mini', 7],
      ['export-image', 597],
    ]);
    expect(meta.pigen).toMatchObject({ gitHash: 'ca8aeed0ae300c2a89f55ce9617d5f96a27e99e5', exportedStage: 'stage-ourbox-mini' });
    expect(meta.recipe).toEqual({
      repository: 'https://github.com/techofourown/img-ourbox-mini-rpi',
      commit: 'a'.repeat(40),
      ref: 'refs/tags/v1.2.3',
      modified: null,
    });
    expect(meta.workflowRun).toEqual({ id: '42', attempt: '2', url: 'https://github.com/techofourown/img-ourbox-mini-rpi/actions/runs/42' });
    expect(meta.packages.count).toBe(iiLines);
    expect(meta.image.source).toEqual({ file: `image_${base}.zip`, compression: 'zip' });
    const c = meta.contents;
    expect(c.partitionTable.partitions.map((p: { filesystem: { type: string; label: string } }) => [p.filesystem.type, p.filesystem.label])).toEqual([
      ['vfat', 'bootfs'],
      ['ext4', 'rootfs'],
    ]);
    expect(c.root.productRelease.values).toMatchObject({ OURBOX_PRODUCT: 'ourbox', OURBOX_DEVICE: 'mini', OURBOX_SKU: 'TOO-OBX-MINI-01' });
    expect(c.root.fstab).toContainEqual(DATA_FSTAB_ENTRY);
    expect(c.root.enabledUnits).toContainEqual({ unit: 'fstrim.timer', wantedBy: 'timers.target', relation: 'wants' });
    expect(c.root.osRelease.VERSION_CODENAME).toBe('bookworm');
    expect(c.boot.configTxt).toContain('arm_64bit=1');
    expect(c.boot.cmdlineTxt).toContain('root=PARTUUID=5eed1234-02');

    const notes = readFileSync(join(out, 'RELEASE_NOTES.md'), 'utf8');
    expect(notes).toContain(`| stage0 | +0s | 12m 13s |`);
    expect(notes).toContain(manifest.image.raw.sha256);
    expect(notes).toContain(`bmaptool copy --bmap ${name}.bmap ${name}.img.xz`);
  });

  it.each(['gz', 'xz', 'none'] as const)('gives the same raw digest and block map from a %s deploy', (compression) => {
    const deploy = deployDir(compression);
    const out = join(work, `release-${compression}`);
    const r = runPiImage(['package', deploy, '--out', out, '--compression-level', '0', '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.image.raw.sha256).toBe(sha256(image.img));
    const zipBmap = readFileSync(join(work, 'release-zip', 'ourbox-test.bmap'), 'utf8');
    expect(readFileSync(join(out, 'ourbox-test.bmap'), 'utf8')).toBe(zipBmap);
    if (compression === 'xz') {
      // An existing .img.xz is copied, not recompressed.
      expect(sha256(join(out, 'ourbox-test.img.xz'))).toBe(sha256(join(deploy, `image_${base}.img.xz`)));
    }
    expect(existsSync(join(out, '.raw-image.tmp'))).toBe(false);
  });

  it('exports the packaged release for network boot: the Debian root as debugfs reads it, the boot files as mtools reads them', () => {
    const out = join(work, 'netboot');
    const r = runPiImage(['netboot', join(work, 'release-zip'), '--out', out, '--server', '192.168.1.10', '--serial', '1234abcd', '--rootfs', 'tar.zst']);
    expect(r.code, r.stderr).toBe(0);
    // The independent readings of the same image: e2fsprogs for the root, mtools for the boot partition.
    const table = JSON.parse(sh('sfdisk', ['--json', image.img])) as { partitiontable: { partitions: { start: number; size: number }[] } };
    const [boot, root] = [1, 2].map((n) => {
      const p = table.partitiontable.partitions[n - 1]!;
      const path = join(work, `netboot-p${n}`);
      sh('dd', [`if=${image.img}`, `of=${path}`, 'bs=1M', `skip=${p.start * 512}`, `count=${p.size * 512}`, 'iflag=skip_bytes,count_bytes', 'status=none']);
      return path;
    });
    const scratch = mkdtempSync(join(work, 'debugfs-'));
    const expected = debugfsFacts(root!, scratch);
    const extracted = join(work, 'netboot-root');
    mkdirSync(extracted);
    sh('tar', ['-x', '--zstd', '-p', '-f', join(out, 'rootfs.tar.zst'), '-C', extracted, '--numeric-owner', '--xattrs', '--xattrs-include=*']);
    const got = extractedFacts(extracted);
    expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [path, facts] of expected) if (path !== '/etc/fstab') expect({ path, ...got.get(path) }).toEqual({ path, ...facts });
    expect(readFileSync(join(extracted, 'etc/fstab'), 'utf8')).not.toMatch(/\s\/\s/);
    expect(readFileSync(join(extracted, 'etc/fstab'), 'utf8')).toContain('LABEL=OURBOX_DATA');
    // A real system's setuid programs and their owners came through.
    expect(expected.get('/usr/bin/su')?.mode).toBe('104755');
    const mtools = join(work, 'netboot-boot');
    mkdirSync(mtools);
    sh('mcopy', ['-s', '-n', '-i', boot!, '::/*', mtools]);
    const files = sh('sh', ['-c', 'cd "$1" && find . -type f | sort | xargs -d "\\n" sha256sum', 'sh', mtools]);
    const exported = sh('sh', ['-c', 'cd "$1" && find . -type f | sort | xargs -d "\\n" sha256sum', 'sh', join(out, 'tftp', '1234abcd')]);
    const differing = (a: string, b: string): string[] => a.split('\n').filter((line) => !b.split('\n').includes(line));
    expect(differing(files, exported).map((l) => l.slice(66))).toEqual(['./cmdline.txt']);
    expect(differing(exported, files).map((l) => l.slice(66))).toEqual(['./cmdline.txt']);
    expect(files).toMatch(/ \.\/config\.txt$/m);
  });
});
