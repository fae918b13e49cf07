/**
 * `pi-image imager-feed` on release directories packaged by the real package
 * step from real small images: the feed validated against Raspberry Pi
 * Imager's own schema (every subitem too), the fields Imager reads checked
 * against independent tools (xz and sha256 of the decompressed image, the
 * file's size), init_format read from what each image holds, channel groups
 * merged newest first, and every bad input refused with nothing written.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPiImage } from '../support/cli';
import { imagerFeedErrors } from '../support/imager-schema';
import { makeRelease, makeSignedRelease } from '../support/release-fixture';
import { SMALL_IMAGE_TOOLS } from '../support/small-image';
import { missingTools, skipReason } from '../support/tools';
import { CLOUD_INIT_ROOT } from '../support/first-boot-roots';

const missing = missingTools([...SMALL_IMAGE_TOOLS, 'xz']);
if (missing.length > 0) skipReason('Imager feed tests', `missing: ${missing.join(', ')}`);

const ICON = 'https://example.com/ourbox/icon.png';
const BASE = 'https://github.com/acme/appliance/releases/download/v1.0.0/';
const SETTINGS = ['--set', `IMAGER_ICON=${ICON}`, '--set', 'IMAGER_DEVICES=pi5-64bit', '--set', 'IMAGER_NAME=OurBox Mini'];

interface Entry {
  name: string;
  url: string;
  extract_size: number;
  extract_sha256: string;
  image_download_size: number;
  release_date: string;
  devices: string[];
  init_format: string;
  bmap_url?: string;
}
interface Feed {
  os_list: { name: string; description: string; icon?: string; subitems: Entry[] }[];
}

describe.skipIf(missing.length > 0)('pi-image imager-feed', () => {
  let work: string;
  let plain: string;
  let cloud: string;
  let nightly: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'imager-feed-'));
    plain = await makeRelease(work, 'plain', { version: '1.0.0', epoch: 1768780800 });
    cloud = await makeRelease(work, 'cloud', { version: '1.1.0', epoch: 1768780800 + 86400, rootFiles: CLOUD_INIT_ROOT });
    nightly = await makeRelease(work, 'nightly', { version: '1.2.0-nightly.20260201', channel: 'nightly', epoch: 1768780800 + 2 * 86400 });
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const feedOf = (path: string): Feed => JSON.parse(readFileSync(path, 'utf8')) as Feed;
  const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { image: { path: string } };

  it('writes an entry Imager accepts: its schema, the sizes and sha256 of what it writes, the URL, the date, init_format from the image', () => {
    const out = join(work, 'one.json');
    const r = runPiImage(['imager-feed', plain, '--url-base', BASE, '--out', out, ...SETTINGS, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/its signature was not checked/);
    const feed = feedOf(out);
    expect(imagerFeedErrors(feed)).toEqual([]);
    expect(feed.os_list.map((g) => g.name)).toEqual(['OurBox Mini']);
    const [entry] = feed.os_list[0]!.subitems;
    const imageFile = join(plain, manifestOf(plain).image.path);
    // What Imager checks after writing: the decompressed image, as xz itself gives it.
    const raw = execFileSync('xz', ['-dc', imageFile], { maxBuffer: 1 << 30 });
    expect(entry).toMatchObject({
      name: 'OurBox Mini 1.0.0',
      url: `${BASE}${manifestOf(plain).image.path}`,
      extract_size: raw.length,
      extract_sha256: createHash('sha256').update(raw).digest('hex'),
      image_download_size: statSync(imageFile).size,
      release_date: '2026-01-19',
      devices: ['pi5-64bit'],
      init_format: 'none',
    });
    expect(entry!.bmap_url).toMatch(/^https:\/\/github\.com\/acme\/appliance\/releases\/download\/v1\.0\.0\/.*\.bmap$/);
    expect(JSON.parse(r.stdout).added).toEqual([expect.objectContaining({ version: '1.0.0', initFormat: 'none', checkedAgainst: 'manifest' })]);
  });

  it('merges into a channel feed: newest first, init_format cloudinit-rpi for the image with cloud-init seeded from its boot partition', () => {
    const first = join(work, 'channel-1.json');
    const second = join(work, 'channel-2.json');
    expect(runPiImage(['imager-feed', plain, '--url-base', BASE, '--out', first, ...SETTINGS]).code).toBe(0);
    // Another item a maintainer added by hand stays as it was.
    const withOther = feedOf(first);
    withOther.os_list.push({ name: 'Something else', description: 'kept', subitems: [] });
    writeFileSync(first, JSON.stringify(withOther));
    const r = runPiImage(['imager-feed', cloud, '--url-base', BASE.replace('v1.0.0', 'v1.1.0'), '--out', second, '--merge', first, ...SETTINGS]);
    expect(r.code, r.stderr).toBe(0);
    const feed = feedOf(second);
    expect(imagerFeedErrors(feed)).toEqual([]);
    expect(feed.os_list.map((g) => g.name)).toEqual(['OurBox Mini', 'Something else']);
    expect(feed.os_list[0]!.subitems.map((e) => [e.name, e.init_format])).toEqual([
      ['OurBox Mini 1.1.0', 'cloudinit-rpi'],
      ['OurBox Mini 1.0.0', 'none'],
    ]);
    // The older release published again (the same URL): replaced in its place by date, not listed twice
    // and not put above the newer one; IMAGER_KEEP=1 keeps only the newest.
    const third = join(work, 'channel-3.json');
    expect(runPiImage(['imager-feed', plain, '--url-base', BASE, '--out', third, '--merge', second, ...SETTINGS]).code).toBe(0);
    expect(feedOf(third).os_list[0]!.subitems.map((e) => e.name)).toEqual(['OurBox Mini 1.1.0', 'OurBox Mini 1.0.0']);
    const fourth = join(work, 'channel-4.json');
    expect(runPiImage(['imager-feed', plain, '--url-base', BASE, '--out', fourth, '--merge', second, ...SETTINGS, '--set', 'IMAGER_KEEP=1']).code).toBe(0);
    expect(feedOf(fourth).os_list[0]!.subitems.map((e) => e.name)).toEqual(['OurBox Mini 1.1.0']);
  });

  it('lists nightly builds only when the product asks (IMAGER_CHANNELS), in a group of their own after stable', () => {
    const stable = join(work, 'stable-only.json');
    expect(runPiImage(['imager-feed', plain, '--url-base', BASE, '--out', stable, ...SETTINGS]).code).toBe(0);
    const out = join(work, 'nightly.json');
    const nightlyBase = 'https://example.com/nightly/1.2.0-nightly.20260201/';
    let r = runPiImage(['imager-feed', nightly, '--url-base', nightlyBase, '--out', out, '--merge', stable, ...SETTINGS]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/is a nightly release; IMAGER_CHANNELS \(stable\) leaves it out/);
    expect(feedOf(out).os_list.map((g) => g.name)).toEqual(['OurBox Mini']);
    r = runPiImage([
      'imager-feed',
      nightly,
      '--url-base',
      nightlyBase,
      '--out',
      out,
      '--merge',
      stable,
      ...SETTINGS,
      '--set',
      'IMAGER_CHANNELS=stable nightly',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const feed = feedOf(out);
    expect(imagerFeedErrors(feed)).toEqual([]);
    expect(feed.os_list.map((g) => [g.name, g.subitems.map((e) => e.name)])).toEqual([
      ['OurBox Mini', ['OurBox Mini 1.0.0']],
      ['OurBox Mini (nightly)', ['OurBox Mini 1.2.0-nightly.20260201']],
    ]);
  });

  it('checks a signed release against its signer, and refuses one signed by another repository', async () => {
    const { release, trustedRoot } = await makeSignedRelease(work, 'signed');
    const out = join(work, 'signed.json');
    const signer = ['--trusted-root', trustedRoot, '--signer-workflow', 'acme/appliance/.github/workflows/release.yml'];
    let r = runPiImage(['imager-feed', release, '--url-base', BASE, '--out', out, ...SETTINGS, ...signer, '--repository', 'acme/appliance', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).added[0].checkedAgainst).toBe('signature');
    rmSync(out);
    r = runPiImage(['imager-feed', release, '--url-base', BASE, '--out', out, ...SETTINGS, ...signer, '--repository', 'mallory/appliance']);
    expect([r.code, r.stderr]).toEqual([1, expect.stringMatching(/\[REPOSITORY_MISMATCH\]/)]);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses bad input with exit 2 and a tampered release with its file named, writing nothing', () => {
    const out = join(work, 'refused.json');
    const cases: [string[], RegExp][] = [
      [['--set', 'IMAGER_DEVICES=pi5-64bit'], /IMAGER_ICON is not set/],
      [['--set', `IMAGER_ICON=${ICON}`], /IMAGER_DEVICES is not set/],
      [[...SETTINGS, '--set', 'IMAGER_ICON=ftp://x/icon.png'], /IMAGER_ICON: "ftp:\/\/x\/icon.png" is not an http\(s\) URL/],
      [[...SETTINGS, '--set', 'IMAGER_CHANNELS=beta'], /IMAGER_CHANNELS: "beta" is not stable or nightly/],
      [[...SETTINGS, '--set', 'PI_GEN_RELEASE=x'], /PI_GEN_RELEASE is not an Imager setting/],
    ];
    for (const [args, message] of cases) {
      const r = runPiImage(['imager-feed', plain, '--url-base', BASE, '--out', out, ...args]);
      expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(message)]);
    }
    const notJson = join(work, 'not-a-feed.json');
    writeFileSync(notJson, '{"os_list": 3}');
    let r = runPiImage(['imager-feed', plain, '--url-base', BASE, '--out', out, '--merge', notJson, ...SETTINGS]);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/not-a-feed\.json is not an Imager feed: it has no os_list array/)]);
    // A feed nested past any Imager list (a hostile --merge): refused, not a crash.
    const deep = join(work, 'deep.json');
    writeFileSync(deep, `{"os_list":[{"name":"x","subitems":[${'['.repeat(100000)}${']'.repeat(100000)}]}]}`);
    r = runPiImage(['imager-feed', plain, '--url-base', BASE, '--out', out, '--merge', deep, ...SETTINGS]);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/deep\.json nests deeper than 64 levels/)]);
    // One --url-base is one version's download location.
    r = runPiImage(['imager-feed', plain, cloud, '--url-base', BASE, '--out', out, ...SETTINGS]);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/versions 1\.0\.0, 1\.1\.0: one --url-base serves one version/)]);
    r = runPiImage(['imager-feed', plain, '--url-base', 'file:///srv/', '--out', out, ...SETTINGS]);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/--url-base: "file:\/\/\/srv\/" is not an http\(s\) URL/)]);

    // One byte of the image changed after packaging: the feed would promise a sha256 Imager then fails on.
    const tampered = join(work, 'tampered');
    execFileSync('cp', ['-a', plain, tampered]);
    const image = join(tampered, manifestOf(tampered).image.path);
    const bytes = readFileSync(image);
    bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0xff;
    writeFileSync(image, bytes);
    r = runPiImage(['imager-feed', tampered, '--url-base', BASE, '--out', out, ...SETTINGS]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\.img\.xz in .*tampered does not match manifest\.json.*\[FILE_MODIFIED\]/);
    expect(existsSync(out)).toBe(false);

    // An unsigned manifest whose raw digest (what Imager checks after writing) is not the image's,
    // with every listed file consistent: the decompressed image is hashed, and the lie refused.
    const lying = join(work, 'lying');
    execFileSync('cp', ['-a', plain, lying]);
    const manifestPath = join(lying, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { image: { raw: { sha256: string } } };
    manifest.image.raw.sha256 = 'e'.repeat(64);
    writeFileSync(manifestPath, JSON.stringify(manifest));
    r = runPiImage(['imager-feed', lying, '--url-base', BASE, '--out', out, ...SETTINGS]);
    expect([r.code, r.stderr]).toEqual([
      1,
      expect.stringMatching(/decompresses to \d+ bytes, sha256 [0-9a-f]{64}; manifest\.json says \d+ bytes, e{64} \[FILE_MODIFIED\]/),
    ]);
    expect(existsSync(out)).toBe(false);
  });
});
