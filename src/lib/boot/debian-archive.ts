/**
 * Debian packages fetched the way apt trusts them: the suite's InRelease
 * checked with gpgv against Debian's archive keyring, the Packages index
 * checked against the sha256 InRelease gives it, each .deb checked against
 * the sha256 the index gives it. Downloads are cached by digest; a cached
 * file is hashed again before it is used.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { AtomicFile, writeFileAtomic } from '../core/atomic-file';
import { PiImageError } from '../core/errors';
import { execCapture, execStream } from '../core/exec';
import { digestFile, verifiedChunks, type FileDigest } from '../core/file-digest';
import type { Logger } from '../core/logger';

export const DEFAULT_DEBIAN_MIRROR = 'http://deb.debian.org/debian';
export const DEFAULT_DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
/** InRelease is some 150 KiB; Packages.xz some 10 MiB. */
const MAX_INRELEASE_BYTES = 4 * 1024 * 1024;
const MAX_INDEX_BYTES = 256 * 1024 * 1024;

export interface DebianArchive {
  mirror: string;
  suite: string;
  arch: string;
  keyring: string;
  cacheDir: string;
  logger: Logger;
  /** Seconds without a byte before a download is given up (default 60). */
  idleSeconds?: number;
}

export interface DebianPackage {
  name: string;
  version: string;
  filename: string;
  size: number;
  sha256: string;
  depends: string[];
}

/** One stanza of a Packages index, its fields by name. */
export function parseStanza(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  let key: string | undefined;
  for (const line of text.split('\n')) {
    if (/^\s/.test(line) && key) fields[key] = `${fields[key] ?? ''}\n${line.trim()}`;
    else {
      const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
      if (m) {
        key = m[1]!;
        fields[key] = m[2]!;
      }
    }
  }
  return fields;
}

/** The sha256 and size InRelease gives each index file, by path (`main/binary-arm64/Packages.xz`). */
export function parseReleaseSha256(text: string): Map<string, FileDigest> {
  const fields = parseStanza(text.split('\n\n')[0] ?? '');
  const out = new Map<string, FileDigest>();
  for (const line of (fields.SHA256 ?? '').split('\n')) {
    const m = /^([0-9a-f]{64})\s+(\d+)\s+(\S+)$/.exec(line.trim());
    if (m) out.set(m[3]!, { sha256: m[1]!, size: Number(m[2]) });
  }
  return out;
}

export function packageFromStanza(fields: Record<string, string>, where: string): DebianPackage {
  const { Package: name, Version: version, Filename: filename, SHA256: sha256, Size: size } = fields;
  if (!name || !version || !filename || !sha256 || !/^[0-9a-f]{64}$/.test(sha256) || !size || !/^\d+$/.test(size)) {
    throw new PiImageError('FETCH_FAILED', `${where}: the entry for ${name ?? 'a package'} lacks a version, file name, size or sha256`);
  }
  if (filename.startsWith('/') || filename.split('/').includes('..'))
    throw new PiImageError('FETCH_FAILED', `${where}: ${name}'s file name ${filename} leaves the archive`);
  const depends = (fields.Depends ?? '')
    .split(',')
    .map(
      (d) =>
        d
          .split('|')[0]!
          .trim()
          .split(/[\s(:]/)[0]!,
    )
    .filter(Boolean);
  return { name, version, filename, size: Number(size), sha256, depends };
}

function fetchError(url: string, what: string, cause?: unknown): PiImageError {
  return new PiImageError('FETCH_FAILED', `${url}: ${what}`, cause === undefined ? undefined : { cause });
}

/** Downloads `url` to `path` (atomically), checking size and sha256 when known. */
async function download(url: string, path: string, expected: { size?: number; sha256?: string; max: number }, archive: DebianArchive): Promise<void> {
  const idle = (archive.idleSeconds ?? 60) * 1000;
  const controller = new AbortController();
  let timer = setTimeout(() => controller.abort(), idle);
  const touch = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(), idle);
  };
  const file = new AtomicFile(path);
  try {
    let response: Response;
    try {
      response = await fetch(url, { signal: controller.signal, redirect: 'follow' });
    } catch (e) {
      throw fetchError(url, controller.signal.aborted ? `no answer within ${idle / 1000} s` : `cannot be fetched (${(e as Error).message})`, e);
    }
    if (!response.ok || !response.body) throw fetchError(url, `the server answered ${response.status} ${response.statusText}`);
    async function* body(): AsyncGenerator<Buffer> {
      let size = 0;
      for await (const chunk of Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>)) {
        touch();
        size += (chunk as Buffer).length;
        // With a size known, the check below says it better ("larger than the index gives").
        if (expected.size === undefined && size > expected.max) throw fetchError(url, `more than ${expected.max} bytes: not what was asked for`);
        archive.logger.progress(`fetching ${url.split('/').pop()}`, size, expected.size);
        yield chunk as Buffer;
      }
    }
    const checked = verifiedChunks(body(), expected, (found) =>
      fetchError(
        url,
        found.larger
          ? `larger than the ${expected.size} bytes its index gives`
          : `sha256 ${found.actual.sha256} (${found.actual.size} bytes), not the ${expected.sha256} its index gives`,
      ),
    );
    try {
      await file.fill(checked);
    } catch (e) {
      if (controller.signal.aborted) throw fetchError(url, `stalled: no byte for ${idle / 1000} s`, e);
      throw e;
    }
    await file.commit();
  } catch (e) {
    await file.discard();
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** A file of the cache, fetched when it is not there or not what it should be. */
async function cached(archive: DebianArchive, url: string, name: string, expected: { size?: number; sha256?: string; max: number }): Promise<string> {
  const dir = join(archive.cacheDir, 'debian');
  await mkdir(dir, { recursive: true });
  const path = join(dir, name);
  if (expected.sha256 && existsSync(path)) {
    const have = await digestFile(path).catch(() => undefined);
    if (have?.sha256 === expected.sha256) return path;
    await rm(path, { force: true });
  }
  archive.logger.info(`fetching ${url}`);
  await download(url, path, expected, archive);
  return path;
}

/** The suite's InRelease, its signature checked by gpgv: the signed text only. */
async function verifiedRelease(archive: DebianArchive): Promise<string> {
  if (!existsSync(archive.keyring)) {
    throw new PiImageError(
      'TOOL_MISSING',
      `${archive.keyring} is missing: the Debian archive keyring checks the packages the boot test fetches (apt install debian-archive-keyring gpgv, or give --keyring)`,
    );
  }
  const url = `${archive.mirror}/dists/${archive.suite}/InRelease`;
  const dir = join(archive.cacheDir, 'debian');
  await mkdir(dir, { recursive: true });
  // A name of this run's own: runs sharing a cache never check each other's download.
  const path = join(dir, `${archive.suite}.InRelease.unverified-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await download(url, path, { max: MAX_INRELEASE_BYTES }, archive);
    // gpgv looks for a keyring named without a slash in its home directory, not the working directory the check above used.
    const r = await execCapture('gpgv', ['--quiet', '--keyring', resolve(archive.keyring), '--output', '-', path], {
      logger: archive.logger,
      allowFailure: true,
    });
    if (r.code !== 0) throw new PiImageError('FETCH_FAILED', `${url}: its signature does not check against ${archive.keyring}: ${r.stderr.trim().slice(-500)}`);
    // As apt does: an InRelease older than one already seen is a replay (a mirror, or someone between, serving an old, signed, vulnerable state).
    const seen = join(dir, `${archive.suite}.InRelease.date`);
    const date = Date.parse(parseStanza(r.stdout.split('\n\n')[0] ?? '').Date ?? '');
    const before = existsSync(seen) ? Number(await readFile(seen, 'utf8')) : NaN;
    if (Number.isFinite(before) && (!Number.isFinite(date) || date < before)) {
      throw new PiImageError(
        'FETCH_FAILED',
        `${url} is dated ${Number.isFinite(date) ? new Date(date).toISOString() : 'nothing readable'}, older than the ${new Date(before).toISOString()} already seen: refused as a replay`,
      );
    }
    if (Number.isFinite(date) && !(date <= before)) await writeFileAtomic(seen, String(date));
    return r.stdout;
  } finally {
    await rm(path, { force: true });
  }
}

/**
 * Finds packages by name in the suite's main component, following a
 * metapackage (linux-image-arm64) to the one package it depends on when
 * `follow` says so. Returns each package's entry and its cached .deb.
 */
export async function fetchDebianPackages(
  archive: DebianArchive,
  wanted: readonly { name: string; follow?: RegExp }[],
): Promise<{ pkg: DebianPackage; path: string }[]> {
  const release = await verifiedRelease(archive);
  // A mirror could serve another suite's InRelease, correctly signed: apt checks the suite, and so does this.
  const header = parseStanza(release.split('\n\n')[0] ?? '');
  if (header.Suite !== archive.suite && header.Codename !== archive.suite) {
    throw new PiImageError(
      'FETCH_FAILED',
      `${archive.mirror}/dists/${archive.suite}/InRelease is signed for suite ${header.Suite ?? '?'} (${header.Codename ?? '?'}), not ${archive.suite}`,
    );
  }
  const indexPath = `main/binary-${archive.arch}/Packages.xz`;
  const index = parseReleaseSha256(release).get(indexPath);
  if (!index) throw new PiImageError('FETCH_FAILED', `${archive.mirror} ${archive.suite}: InRelease lists no ${indexPath}`);
  // By hash where the archive offers it: a mirror caught mid-sync still serves the index InRelease names.
  const byHash = /^yes$/i.test(header['Acquire-By-Hash'] ?? '');
  const indexUrl = byHash
    ? `${archive.mirror}/dists/${archive.suite}/main/binary-${archive.arch}/by-hash/SHA256/${index.sha256}`
    : `${archive.mirror}/dists/${archive.suite}/${indexPath}`;
  const packagesXz = await cached(archive, indexUrl, `packages-${index.sha256}.xz`, {
    ...index,
    max: MAX_INDEX_BYTES,
  });

  const names = new Set(wanted.map((w) => w.name));
  const found = new Map<string, DebianPackage>();
  const keep = (fields: Record<string, string>): void => {
    const name = fields.Package;
    if (!name) return;
    if (names.has(name) || wanted.some((w) => w.follow?.test(name))) {
      const pkg = packageFromStanza(fields, indexPath);
      const earlier = found.get(name);
      if (!earlier) found.set(name, pkg);
    }
  };
  const { child, done, stop } = execStream('xz', ['--decompress', '--stdout', '--', packagesXz], { logger: archive.logger, stdin: 'ignore' });
  try {
    let rest = '';
    for await (const chunk of child.stdout) {
      const text = rest + (chunk as Buffer).toString('utf8');
      const stanzas = text.split('\n\n');
      rest = stanzas.pop() ?? '';
      if (rest.length > 1024 * 1024) throw new PiImageError('FETCH_FAILED', `${indexPath}: an entry of more than 1 MiB`);
      for (const s of stanzas) keep(parseStanza(s));
    }
    if (rest.trim()) keep(parseStanza(rest));
    await done;
  } catch (e) {
    await stop();
    throw e;
  }

  const out: { pkg: DebianPackage; path: string }[] = [];
  for (const w of wanted) {
    let pkg = found.get(w.name);
    if (!pkg) throw new PiImageError('FETCH_FAILED', `${archive.suite} (${archive.arch}) has no package ${w.name}`);
    if (w.follow) {
      const target = pkg.depends.find((d) => w.follow!.test(d));
      const next = target ? found.get(target) : undefined;
      if (!next) throw new PiImageError('FETCH_FAILED', `${w.name} ${pkg.version} depends on no package of ${archive.suite} matching ${String(w.follow)}`);
      pkg = next;
    }
    const path = await cached(archive, `${archive.mirror}/${pkg.filename}`, `${pkg.sha256}.deb`, { size: pkg.size, sha256: pkg.sha256, max: pkg.size });
    out.push({ pkg, path });
  }
  return out;
}
