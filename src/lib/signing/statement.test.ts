import { describe, expect, it } from 'vitest';
import { releaseFromBytes } from '../release/release-dir';
import { buildStatement, PROVENANCE_TYPE, readSignedRelease, STATEMENT_TYPE } from './statement';

const D = (c: string): string => c.repeat(64);
const manifest = {
  schemaVersion: 1,
  name: 'appliance',
  version: '1.2.3',
  channel: 'stable',
  created: '2026-01-19T00:00:00Z',
  image: { path: 'appliance.img.xz', compression: 'xz', raw: { size: 10, sha256: D('c') } },
  files: [
    { path: 'appliance.bmap', role: 'bmap', mediaType: 'application/xml', size: 3, sha256: D('b') },
    { path: 'appliance.img.xz', role: 'image', mediaType: 'application/x-xz', size: 5, sha256: D('a') },
  ],
};

describe('buildStatement', () => {
  it("covers manifest.json's exact bytes and every file it lists, and names the release", () => {
    const release = releaseFromBytes('/r', Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
    const s = buildStatement(release, undefined, { builderId: 'https://github.com/acme/appliance/.github/workflows/release.yml@refs/heads/main' });
    expect(s.subject).toEqual([
      { name: 'manifest.json', digest: { sha256: release.manifestDigest.sha256 } },
      { name: 'appliance.bmap', digest: { sha256: D('b') } },
      { name: 'appliance.img.xz', digest: { sha256: D('a') } },
    ]);
    expect(s.predicate.buildDefinition.externalParameters.release).toEqual({ name: 'appliance', version: '1.2.3', channel: 'stable' });
    const signed = readSignedRelease(s);
    expect(signed).toEqual({
      release: { name: 'appliance', version: '1.2.3', channel: 'stable' },
      manifestSha256: release.manifestDigest.sha256,
      files: new Map([
        ['appliance.bmap', D('b')],
        ['appliance.img.xz', D('a')],
      ]),
    });
  });
});

describe('readSignedRelease', () => {
  const base = (subject: unknown[], release: unknown = { name: 'a', version: '1', channel: 'stable' }) => ({
    _type: STATEMENT_TYPE,
    predicateType: PROVENANCE_TYPE,
    subject,
    predicate: { buildDefinition: { externalParameters: { release } } },
  });
  const m = { name: 'manifest.json', digest: { sha256: D('1') } };
  const f = { name: 'a.img.xz', digest: { sha256: D('2') } };
  it.each<[string, unknown, RegExp]>([
    ['not a statement', { hello: 1 }, /not an in-toto v1 statement/],
    ['null', null, /not an in-toto v1 statement/],
    ['another predicate', { ...base([m, f]), predicateType: 'https://example.com/other' }, /not an in-toto v1 statement/],
    ['no release', base([m, f], null), /names no release/],
    ['no manifest subject', base([f]), /does not cover manifest\.json/],
    ['no subject at all', base([]), /does not cover manifest\.json/],
    ['no file subject', base([m]), /covers no release file/],
    ['a subject without sha256', base([m, { name: 'x', digest: { sha512: D('3') } }]), /no name or no sha256/],
    ['a malformed digest', base([m, { name: 'x', digest: { sha256: 'abc' } }]), /no name or no sha256/],
    ['a file named twice', base([m, f, f]), /names a\.img\.xz twice/],
    ['the manifest named twice', base([m, m, f]), /names manifest\.json twice/],
  ])('says what is wrong with %s', (_label, statement, message) => {
    const r = readSignedRelease(statement);
    expect(typeof r).toBe('string');
    expect(r).toMatch(message);
  });
});
