import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseInfoFile } from './info-file';

const path = '../../../test/fixtures/pigen-ourbox-mini-2026-01-19/img-ourbox-mini-rpi-too-obx-mini-01-dev-dev.info';
const fixture = readFileSync(new URL(path, import.meta.url), 'utf8');

describe('parseInfoFile on the real OurBox Mini .info', () => {
  const info = parseInfoFile(fixture);

  it('reads the header', () => {
    expect(info.release).toBe('OurBox OS for TOO-OBX-MINI-01 (dev)');
    expect(info.date).toBe('2026-01-19');
    expect(info.repository).toBe('https://github.com/RPi-Distro/pi-gen');
    expect(info.gitHash).toBe('0487bebd214e270ef06d1ab7f6194a2f26b498cf');
    expect(info.stage).toBe('stage-ourbox-mini');
  });

  it('reads every installed package (627 ii lines)', () => {
    const iiLines = fixture.split('\n').filter((l) => l.startsWith('ii ')).length;
    expect(iiLines).toBe(627);
    expect(info.packages).toHaveLength(iiLines);
    expect(info.packages[0]).toEqual({
      name: '7zip',
      version: '25.01+dfsg-1~deb13u1',
      architecture: 'arm64',
      description: '7-Zip file archiver with a high compression ratio',
      state: 'ii',
    });
    expect(info.packages.find((p) => p.name === 'zlib1g')).toMatchObject({ qualifier: 'arm64', version: '1:1.3.dfsg+really1.3.1-1+b1' });
  });
});

describe('parseInfoFile refuses malformed files, naming them', () => {
  it('without a package table', () => {
    const head = fixture.split('\n').slice(0, 2).join('\n');
    expect(() => parseInfoFile(head, 'deploy/x.info')).toThrow(/deploy\/x.info: no package table/);
  });
  it('with a garbled header', () => {
    expect(() => parseInfoFile('hello\n', 'x.info')).toThrow(/x.info: line 1/);
    expect(() => parseInfoFile('R 2026-01-01\nsomething else\n', 'x.info')).toThrow(/x.info: line 2/);
  });
  it('with a table that lists nothing installed', () => {
    const lines = fixture.split('\n');
    const cut = lines.findIndex((l) => l.startsWith('+++-'));
    expect(() => parseInfoFile(lines.slice(0, cut + 1).join('\n'), 'x.info')).toThrow(/no installed package/);
  });
  it('skips removed packages with config files left (rc)', () => {
    const text = fixture.replace(/^ii {2}adduser/m, 'rc  adduser');
    expect(parseInfoFile(text).packages).toHaveLength(626);
  });
});
