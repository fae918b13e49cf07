import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../core/logger';
import { fetchDebianPackages, packageFromStanza, parseReleaseSha256, parseStanza, type DebianArchive } from './debian-archive';

const WHERE = 'main/binary-arm64/Packages.xz';
const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const available = (cmd: string): boolean => spawnSync(cmd, ['--version']).status === 0;
const gpgAvailable = available('gpg') && available('gpgv') && available('gpgconf') && available('xz');

describe('a stanza of a Debian index', () => {
  it('reads fields by name, a value keeping everything after the first colon', () => {
    expect(parseStanza('Package: busybox-static\nVersion: 1:1.35.0-4+b3\nHomepage: https://busybox.net\nEmpty:')).toEqual({
      Package: 'busybox-static',
      Version: '1:1.35.0-4+b3',
      Homepage: 'https://busybox.net',
      Empty: '',
    });
  });

  it('joins continuation lines to the field above them, each trimmed, one per line', () => {
    const fields = parseStanza('Package: a\nDescription: short\n  long line one\n\tlong line two\n .\nVersion: 1');
    expect(fields.Description).toBe('short\nlong line one\nlong line two\n.');
    expect(fields.Version).toBe('1');
    expect(fields.Package).toBe('a');
  });

  it('ignores a continuation line before any field, and lines that are not fields', () => {
    expect(parseStanza(' stray continuation\nnot a field line\nPackage: a')).toEqual({ Package: 'a' });
  });
});

describe("an InRelease's SHA256 list", () => {
  const packagesXz = sha256('xz');
  const packages = sha256('plain');
  const release = [
    'Origin: Debian',
    'Suite: stable',
    'Codename: bookworm',
    'MD5Sum:',
    ` ${'1'.repeat(32)}   999 main/binary-arm64/Packages.xz`,
    'SHA256:',
    ` ${packages}  4000 main/binary-arm64/Packages`,
    ` ${packagesXz}   812 main/binary-arm64/Packages.xz`,
    ` ${'A'.repeat(64)}   10 main/uppercase-hex`,
    ` ${'b'.repeat(63)}   10 main/short-digest`,
    ` ${'c'.repeat(64)}   ten main/no-size`,
    'Acquire-By-Hash: yes',
  ].join('\n');

  it('gives each listed path its sha256 and size, and nothing from the MD5Sum list or malformed lines', () => {
    const map = parseReleaseSha256(release);
    expect([...map.entries()]).toEqual([
      ['main/binary-arm64/Packages', { sha256: packages, size: 4000 }],
      ['main/binary-arm64/Packages.xz', { sha256: packagesXz, size: 812 }],
    ]);
  });

  it('reads only the first paragraph', () => {
    const map = parseReleaseSha256(`Origin: Debian\n\nSHA256:\n ${packagesXz} 812 main/binary-arm64/Packages.xz\n`);
    expect(map.size).toBe(0);
  });

  it('is empty when there is no SHA256 field', () => {
    expect(parseReleaseSha256('Origin: Debian\nMD5Sum:\n 1 2 x\n').size).toBe(0);
  });
});

describe('a package entry of the index', () => {
  const complete = {
    Package: 'linux-image-6.1.0-9-arm64',
    Version: '6.1.27-1',
    Filename: 'pool/main/l/linux-signed-arm64/linux-image-6.1.0-9-arm64_6.1.27-1_arm64.deb',
    Size: '66112233',
    SHA256: 'e'.repeat(64),
  };

  it('gives name, version, file, size, sha256, and no dependencies when it has none', () => {
    expect(packageFromStanza(complete, WHERE)).toEqual({
      name: 'linux-image-6.1.0-9-arm64',
      version: '6.1.27-1',
      filename: complete.Filename,
      size: 66112233,
      sha256: 'e'.repeat(64),
      depends: [],
    });
  });

  it('reads Depends: names only, without versions or architecture-free alternatives after the first', () => {
    const pkg = packageFromStanza(
      { ...complete, Depends: 'kmod, linux-base (>= 4.3~), initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool,libc6(>= 2.36)' },
      WHERE,
    );
    expect(pkg.depends).toEqual(['kmod', 'linux-base', 'initramfs-tools', 'libc6']);
  });

  it('reads a Depends field that runs over several lines', () => {
    const fields = parseStanza(
      `Package: linux-image-arm64\nVersion: 1\nFilename: pool/a.deb\nSize: 1\nSHA256: ${'f'.repeat(64)}\nDepends: linux-image-6.1.0-9-arm64 (= 6.1.27-1),\n linux-base\n  | other`,
    );
    expect(packageFromStanza(fields, WHERE).depends).toEqual(['linux-image-6.1.0-9-arm64', 'linux-base']);
  });

  it.each([
    ['no Version', { Version: undefined }],
    ['no Filename', { Filename: undefined }],
    ['no Size', { Size: undefined }],
    ['no SHA256', { SHA256: undefined }],
    ['a Size that is not a number', { Size: '12k' }],
    ['a negative Size', { Size: '-1' }],
    ['an upper-case SHA256', { SHA256: 'E'.repeat(64) }],
    ['a short SHA256', { SHA256: 'e'.repeat(63) }],
  ])('refuses an entry with %s, naming the index and the package', (_what, change) => {
    const fields = Object.fromEntries(Object.entries({ ...complete, ...change }).filter((e): e is [string, string] => e[1] !== undefined));
    expect(() => packageFromStanza(fields, WHERE)).toThrow(
      expect.objectContaining({
        code: 'FETCH_FAILED',
        message: `${WHERE}: the entry for linux-image-6.1.0-9-arm64 lacks a version, file name, size or sha256`,
      }),
    );
  });

  it('refuses an entry without a Package name', () => {
    const { Package: _, ...fields } = complete;
    expect(() => packageFromStanza(fields, WHERE)).toThrow(
      expect.objectContaining({ code: 'FETCH_FAILED', message: expect.stringContaining('a package lacks') }),
    );
  });

  it.each(['/etc/passwd', '../outside.deb', 'pool/../../outside.deb', 'pool/main/..'])('refuses a file name that leaves the archive: %s', (filename) => {
    expect(() => packageFromStanza({ ...complete, Filename: filename }, WHERE)).toThrow(
      expect.objectContaining({ code: 'FETCH_FAILED', message: `${WHERE}: linux-image-6.1.0-9-arm64's file name ${filename} leaves the archive` }),
    );
  });

  it('accepts dots inside a file name segment', () => {
    expect(packageFromStanza({ ...complete, Filename: 'pool/main/a..b/x..y.deb' }, WHERE).filename).toBe('pool/main/a..b/x..y.deb');
  });
});

/** A throwaway GnuPG home with one signing key, no passphrase. */
function gpgHome(root: string, name: string): string {
  const home = join(root, name);
  mkdirSync(home, { mode: 0o700 });
  execFileSync(
    'gpg',
    ['--batch', '--passphrase', '', '--pinentry-mode', 'loopback', '--quick-gen-key', `${name} <${name}@example.invalid>`, 'ed25519', 'sign', 'never'],
    {
      env: { ...process.env, GNUPGHOME: home },
      stdio: 'pipe',
    },
  );
  return home;
}

function clearsign(home: string, text: string): Buffer {
  return execFileSync('gpg', ['--batch', '--yes', '--passphrase', '', '--pinentry-mode', 'loopback', '--clearsign', '--output', '-'], {
    env: { ...process.env, GNUPGHOME: home },
    input: text,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

interface Deb {
  name: string;
  version: string;
  filename: string;
  bytes: Buffer;
  depends?: string;
}

const KERNEL: Deb = {
  name: 'linux-image-6.1.0-9-arm64',
  version: '1',
  filename: 'pool/main/l/linux-signed-arm64/linux-image-6.1.0-9-arm64_1_arm64.deb',
  bytes: randomBytes(3000),
};
const META: Deb = {
  name: 'linux-image-arm64',
  version: '1',
  filename: 'pool/main/l/linux-signed-arm64/linux-image-arm64_1_arm64.deb',
  bytes: randomBytes(100),
  depends: 'linux-image-6.1.0-9-arm64 (= 1)',
};
const BUSYBOX: Deb = {
  name: 'busybox-static',
  version: '1:1.35.0-4',
  filename: 'pool/main/b/busybox/busybox-static_1.35.0-4_arm64.deb',
  bytes: randomBytes(2000),
};
/** Another kernel the follow pattern matches, that the metapackage does not depend on. */
const OTHER_KERNEL: Deb = { name: 'linux-image-6.1.0-8-arm64', version: '1', filename: 'pool/main/l/old.deb', bytes: randomBytes(50) };

function packagesText(debs: readonly Deb[]): string {
  return debs
    .map((d) =>
      [
        `Package: ${d.name}`,
        `Version: ${d.version}`,
        'Architecture: arm64',
        ...(d.depends ? [`Depends: ${d.depends}`] : []),
        'Description: a test package',
        ' with a long description',
        `Filename: ${d.filename}`,
        `Size: ${d.bytes.length}`,
        `SHA256: ${sha256(d.bytes)}`,
        '',
      ].join('\n'),
    )
    .join('\n');
}

function releaseText(indexes: Record<string, Buffer>, fields: Record<string, string> = {}): string {
  return [
    'Origin: Debian',
    'Suite: stable',
    'Codename: testsuite',
    `Date: ${fields.Date ?? 'Sat, 08 Nov 2026 10:00:00 UTC'}`,
    ...(fields['Acquire-By-Hash'] ? [`Acquire-By-Hash: ${fields['Acquire-By-Hash']}`] : []),
    'Architectures: arm64',
    'Components: main',
    'SHA256:',
    ...Object.entries(indexes).map(([path, bytes]) => ` ${sha256(bytes)} ${String(bytes.length).padStart(8)} ${path}`),
    '',
  ].join('\n');
}

describe.skipIf(!gpgAvailable)('Debian packages fetched from a signed archive (gpg, gpgv or xz not installed: skipped)', () => {
  let root: string;
  let archiveKey: string;
  let otherKey: string;
  let keyring: string;
  let server: Server;
  let mirror: string;
  const routes = new Map<string, Buffer>();
  const requests: string[] = [];
  let cacheDir: string;
  let logger: MemoryLogger;

  const archive = (change: Partial<DebianArchive> = {}): DebianArchive => ({
    mirror,
    suite: 'testsuite',
    arch: 'arm64',
    keyring,
    cacheDir,
    logger,
    idleSeconds: 10,
    ...change,
  });
  const wanted = [{ name: 'linux-image-arm64', follow: /^linux-image-\d/ }, { name: 'busybox-static' }];

  /** Serves the archive: the index lists `listed`, the pool serves `served` (by default the same bytes). */
  function publish(
    options: { listed?: readonly Deb[]; served?: readonly Deb[]; signer?: string; releaseIndex?: Buffer; date?: string; byHash?: boolean } = {},
  ): void {
    routes.clear();
    const listed = options.listed ?? [OTHER_KERNEL, META, KERNEL, BUSYBOX];
    for (const d of options.served ?? listed) routes.set(`/debian/${d.filename}`, d.bytes);
    const plain = Buffer.from(packagesText(listed));
    const xz = execFileSync('xz', ['--compress', '--stdout'], { input: plain });
    // By hash only when the archive says so (then the plain name serves another state, as a mirror mid-sync does).
    if (options.byHash) {
      routes.set(`/debian/dists/testsuite/main/binary-arm64/by-hash/SHA256/${sha256(xz)}`, xz);
      routes.set('/debian/dists/testsuite/main/binary-arm64/Packages.xz', Buffer.from('a newer index, mid-sync'));
    } else routes.set('/debian/dists/testsuite/main/binary-arm64/Packages.xz', xz);
    const inRelease = clearsign(
      options.signer ?? archiveKey,
      releaseText(
        { 'main/binary-arm64/Packages': plain, 'main/binary-arm64/Packages.xz': options.releaseIndex ?? xz },
        { ...(options.date ? { Date: options.date } : {}), ...(options.byHash ? { 'Acquire-By-Hash': 'yes' } : {}) },
      ),
    );
    routes.set('/debian/dists/testsuite/InRelease', inRelease);
  }

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'debian-archive-'));
    archiveKey = gpgHome(root, 'archive');
    otherKey = gpgHome(root, 'other');
    keyring = join(root, 'archive-keyring.gpg');
    writeFileSync(keyring, execFileSync('gpg', ['--export'], { env: { ...process.env, GNUPGHOME: archiveKey } }));
    server = createServer((req, res) => {
      const path = req.url ?? '';
      requests.push(path);
      const body = routes.get(path);
      if (!body) {
        res.writeHead(404, 'Not Found').end('no such file');
        return;
      }
      res.writeHead(200, { 'content-length': body.length }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}/debian`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    for (const home of [archiveKey, otherKey]) spawnSync('gpgconf', ['--kill', 'gpg-agent'], { env: { ...process.env, GNUPGHOME: home } });
    rmSync(root, { recursive: true, force: true });
  });

  beforeEach(() => {
    cacheDir = mkdtempSync(join(root, 'cache-'));
    logger = new MemoryLogger();
    requests.length = 0;
    publish();
  });
  afterEach(() => rmSync(cacheDir, { recursive: true, force: true }));

  const cacheEntries = (): string[] => readdirSync(join(cacheDir, 'debian')).sort();

  it('follows the metapackage to its kernel and caches each .deb under its sha256, bytes as served', async () => {
    const got = await fetchDebianPackages(archive(), wanted);
    expect(got.map((g) => g.pkg)).toEqual([
      { name: KERNEL.name, version: '1', filename: KERNEL.filename, size: KERNEL.bytes.length, sha256: sha256(KERNEL.bytes), depends: [] },
      { name: BUSYBOX.name, version: '1:1.35.0-4', filename: BUSYBOX.filename, size: BUSYBOX.bytes.length, sha256: sha256(BUSYBOX.bytes), depends: [] },
    ]);
    expect(got.map((g) => g.path)).toEqual([join(cacheDir, 'debian', `${sha256(KERNEL.bytes)}.deb`), join(cacheDir, 'debian', `${sha256(BUSYBOX.bytes)}.deb`)]);
    expect(readFileSync(got[0]!.path).equals(KERNEL.bytes)).toBe(true);
    expect(readFileSync(got[1]!.path).equals(BUSYBOX.bytes)).toBe(true);
    // The metapackage itself is never downloaded, nor the other kernel.
    expect(requests).toEqual([
      '/debian/dists/testsuite/InRelease',
      '/debian/dists/testsuite/main/binary-arm64/Packages.xz',
      `/debian/${KERNEL.filename}`,
      `/debian/${BUSYBOX.filename}`,
    ]);
    const xz = routes.get('/debian/dists/testsuite/main/binary-arm64/Packages.xz')!;
    expect(cacheEntries()).toEqual(
      [`${sha256(KERNEL.bytes)}.deb`, `${sha256(BUSYBOX.bytes)}.deb`, `packages-${sha256(xz)}.xz`, 'testsuite.InRelease.date'].sort(),
    );
  });

  it('a second fetch takes the index and the packages from the cache: only InRelease is asked for again', async () => {
    const first = await fetchDebianPackages(archive(), wanted);
    expect(requests).toHaveLength(4);
    requests.length = 0;
    const second = await fetchDebianPackages(archive(), wanted);
    expect(requests).toEqual(['/debian/dists/testsuite/InRelease']);
    expect(second).toEqual(first);
  });

  it('a cached .deb whose bytes changed is fetched again', async () => {
    const first = await fetchDebianPackages(archive(), wanted);
    writeFileSync(first[1]!.path, Buffer.alloc(BUSYBOX.bytes.length));
    requests.length = 0;
    const second = await fetchDebianPackages(archive(), wanted);
    expect(requests).toEqual(['/debian/dists/testsuite/InRelease', `/debian/${BUSYBOX.filename}`]);
    expect(readFileSync(second[1]!.path).equals(BUSYBOX.bytes)).toBe(true);
  });

  it.each([
    ['the same size', Buffer.from(BUSYBOX.bytes.map((b) => b ^ 0xff)), /sha256 [0-9a-f]{64} \(2000 bytes\), not the [0-9a-f]{64} its index gives/],
    ['one byte more', Buffer.concat([BUSYBOX.bytes, Buffer.from([0])]), /larger than the 2000 bytes its index gives/],
    ['one byte fewer', BUSYBOX.bytes.subarray(1), /\(1999 bytes\), not the [0-9a-f]{64} its index gives/],
  ])('refuses a .deb whose bytes are not the index sha256 (%s), leaving nothing of it in the cache', async (_what, bytes, message) => {
    publish({ served: [OTHER_KERNEL, META, KERNEL, { ...BUSYBOX, bytes }] });
    const error = await fetchDebianPackages(archive(), wanted).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'FETCH_FAILED', message: expect.stringContaining(`${mirror}/${BUSYBOX.filename}: `) });
    expect((error as Error).message).toMatch(message);
    const entries = cacheEntries();
    expect(entries.filter((n) => n.includes('.partial'))).toEqual([]);
    expect(entries).not.toContain(`${sha256(BUSYBOX.bytes)}.deb`);
    expect(entries.filter((n) => n.endsWith('.deb'))).toEqual([`${sha256(KERNEL.bytes)}.deb`]);
  });

  it('refuses a Packages.xz that is not the one InRelease lists, and keeps none of it', async () => {
    publish({ releaseIndex: Buffer.from('another index') });
    await expect(fetchDebianPackages(archive(), wanted)).rejects.toMatchObject({
      code: 'FETCH_FAILED',
      message: expect.stringContaining(`${mirror}/dists/testsuite/main/binary-arm64/Packages.xz: `),
    });
    expect(cacheEntries()).toEqual(['testsuite.InRelease.date']);
  });

  it('takes the index by hash where InRelease offers it: a mirror mid-sync still serves the one it names', async () => {
    publish({ byHash: true });
    const got = await fetchDebianPackages(archive(), wanted);
    expect(got).toHaveLength(2);
    expect(requests.filter((r) => r.includes('binary-arm64'))).toEqual([expect.stringMatching(/\/by-hash\/SHA256\/[0-9a-f]{64}$/) as unknown]);
  });

  it('refuses an InRelease older than one already seen (a replay of an old, signed state)', async () => {
    publish({ date: 'Mon, 10 Nov 2026 10:00:00 UTC' });
    await fetchDebianPackages(archive(), wanted);
    publish({ date: 'Sat, 01 Nov 2026 10:00:00 UTC' });
    await expect(fetchDebianPackages(archive(), wanted)).rejects.toMatchObject({
      code: 'FETCH_FAILED',
      message: expect.stringMatching(/dated 2026-11-01T10:00:00\.000Z, older than the 2026-11-10T10:00:00\.000Z already seen: refused as a replay/) as unknown,
    });
    publish({ date: 'Tue, 11 Nov 2026 10:00:00 UTC' });
    await expect(fetchDebianPackages(archive(), wanted)).resolves.toHaveLength(2);
  });

  it('refuses an InRelease signed by another key, naming the keyring, and keeps none of it', async () => {
    publish({ signer: otherKey });
    await expect(fetchDebianPackages(archive(), wanted)).rejects.toMatchObject({
      code: 'FETCH_FAILED',
      message: expect.stringContaining(`${mirror}/dists/testsuite/InRelease: its signature does not check against ${keyring}`),
    });
    expect(requests).toEqual(['/debian/dists/testsuite/InRelease']);
    expect(cacheEntries()).toEqual([]);
  });

  it('refuses an InRelease whose signed text was changed after signing', async () => {
    const path = '/debian/dists/testsuite/InRelease';
    routes.set(path, Buffer.from(routes.get(path)!.toString('utf8').replace('Origin: Debian', 'Origin: Evil')));
    await expect(fetchDebianPackages(archive(), wanted)).rejects.toMatchObject({
      code: 'FETCH_FAILED',
      message: expect.stringContaining('its signature does not check'),
    });
  });

  it('reads a keyring given by a name relative to the working directory', async () => {
    const cwd = process.cwd();
    process.chdir(root);
    try {
      const got = await fetchDebianPackages(archive({ keyring: 'archive-keyring.gpg' }), [{ name: 'busybox-static' }]);
      expect(got.map((g) => g.pkg.name)).toEqual(['busybox-static']);
    } finally {
      process.chdir(cwd);
    }
  });

  it('a missing keyring is TOOL_MISSING naming it, before anything is fetched', async () => {
    const missing = join(root, 'no-such-keyring.gpg');
    await expect(fetchDebianPackages(archive({ keyring: missing }), wanted)).rejects.toMatchObject({
      code: 'TOOL_MISSING',
      message: expect.stringContaining(`${missing} is missing`),
    });
    expect(requests).toEqual([]);
  });

  it('a 404 for InRelease is FETCH_FAILED naming the URL and the status', async () => {
    await expect(fetchDebianPackages(archive({ suite: 'nosuchsuite' }), wanted)).rejects.toMatchObject({
      code: 'FETCH_FAILED',
      message: `${mirror}/dists/nosuchsuite/InRelease: the server answered 404 Not Found`,
    });
  });

  it('a 404 for a .deb is FETCH_FAILED naming its URL, and leaves nothing of it in the cache', async () => {
    publish({ listed: [OTHER_KERNEL, META, KERNEL, BUSYBOX], served: [KERNEL] });
    await expect(fetchDebianPackages(archive(), wanted)).rejects.toMatchObject({
      code: 'FETCH_FAILED',
      message: `${mirror}/${BUSYBOX.filename}: the server answered 404 Not Found`,
    });
    expect(cacheEntries().filter((n) => n.includes('.partial') || n.startsWith(sha256(BUSYBOX.bytes)))).toEqual([]);
  });

  it('a package the index does not list is FETCH_FAILED naming it', async () => {
    await expect(fetchDebianPackages(archive(), [{ name: 'no-such-package' }])).rejects.toMatchObject({
      code: 'FETCH_FAILED',
      message: 'testsuite (arm64) has no package no-such-package',
    });
  });

  it('a metapackage that depends on nothing the pattern matches is FETCH_FAILED naming it', async () => {
    publish({ listed: [{ ...META, depends: 'linux-image-6.1.0-7-arm64 (= 1)' }, KERNEL, BUSYBOX] });
    await expect(fetchDebianPackages(archive(), [{ name: 'linux-image-arm64', follow: /^linux-image-\d/ }])).rejects.toMatchObject({
      code: 'FETCH_FAILED',
      message: expect.stringContaining('linux-image-arm64 1 depends on no package of testsuite matching /^linux-image-\\d/'),
    });
  });

  it('an index entry whose file name leaves the archive is refused before anything is fetched from it', async () => {
    publish({ listed: [{ ...BUSYBOX, filename: '../../etc/passwd' }] });
    await expect(fetchDebianPackages(archive(), [{ name: 'busybox-static' }])).rejects.toMatchObject({
      code: 'FETCH_FAILED',
      message: expect.stringContaining('leaves the archive'),
    });
    expect(requests.some((r) => r.includes('passwd'))).toBe(false);
  });

  it('an InRelease that lists no index for the architecture is FETCH_FAILED', async () => {
    await expect(fetchDebianPackages(archive({ arch: 'riscv64' }), wanted)).rejects.toMatchObject({
      code: 'FETCH_FAILED',
      message: `${mirror} testsuite: InRelease lists no main/binary-riscv64/Packages.xz`,
    });
  });
});
