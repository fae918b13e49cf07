import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missingTools, sh, skipReason } from '../../../test/support/tools';
import { listZipEntries, openZipEntry } from './zip-reader';

const missing = missingTools(['zip']);
if (missing.length > 0) skipReason('zip reader tests', 'Info-ZIP zip is not installed');

async function sha256OfStream(stream: NodeJS.ReadableStream): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

describe.skipIf(missing.length > 0)('zip reader against Info-ZIP archives', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zip-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const data = Buffer.concat([Buffer.alloc(300_000, 0), createHash('sha512').update('x').digest(), Buffer.alloc(5000, 9)]);
  const file = join(dir, 'disk.img');
  writeFileSync(file, data);
  writeFileSync(join(dir, 'notes.txt'), 'hello');
  const expected = createHash('sha256').update(data).digest('hex');

  it.each([
    ['deflated', ['-q', '-6']],
    ['stored', ['-q', '-0']],
    ['ZIP64 (zip -fz), as pi-gen makes for images past 4 GiB', ['-q', '-fz']],
  ])('streams a %s entry, checking CRC-32 and size', async (_label, flags) => {
    const archive = join(dir, `${_label.split(' ')[0]}.zip`);
    sh('zip', [...flags, '-j', archive, file, join(dir, 'notes.txt')]);
    const entries = await listZipEntries(archive);
    expect(entries.map((e) => [e.name, e.uncompressedSize])).toEqual([
      ['disk.img', data.length],
      ['notes.txt', 5],
    ]);
    expect(await sha256OfStream(await openZipEntry(archive, entries[0]!))).toBe(expected);
  });

  it('fails the stream when the recorded CRC-32 does not match the data', async () => {
    const archive = join(dir, 'crc.zip');
    sh('zip', ['-q', '-0', '-j', archive, file]);
    const [entry] = await listZipEntries(archive);
    await expect(sha256OfStream(await openZipEntry(archive, { ...entry!, crc32: (entry!.crc32 + 1) >>> 0 }))).rejects.toThrow(
      /crc.zip: .*fails its CRC-32 check/,
    );
  });

  it('stops an entry as soon as it inflates past the size the directory declares', async () => {
    const archive = join(dir, 'long.zip');
    sh('zip', ['-q', '-6', '-j', archive, file]);
    const [entry] = await listZipEntries(archive);
    let seen = 0;
    const stream = await openZipEntry(archive, { ...entry!, uncompressedSize: 1000 }, 4096);
    await expect(
      (async () => {
        for await (const chunk of stream) seen += (chunk as Buffer).length;
      })(),
    ).rejects.toThrow(/long.zip: .*disk.img inflates to more than the 1000 bytes the directory says/);
    expect(seen).toBeLessThanOrEqual(1000);
  });

  it('refuses a file that is not a zip, naming it', async () => {
    const junk = join(dir, 'junk.zip');
    writeFileSync(junk, Buffer.alloc(100, 1));
    await expect(listZipEntries(junk)).rejects.toThrow(/junk.zip: not a readable zip archive: no end-of-central-directory/);
  });
});
