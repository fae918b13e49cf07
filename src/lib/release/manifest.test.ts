import { describe, expect, it } from 'vitest';
import { parseManifest, renderJson } from './manifest';

const D = (c: string): string => c.repeat(64);
const good = () => ({
  schemaVersion: 1,
  name: 'appliance',
  version: '1.2.3',
  channel: 'stable',
  created: '2026-01-19T00:00:00Z',
  image: { path: 'appliance.img.xz', compression: 'xz', raw: { size: 10, sha256: D('c') } },
  files: [{ path: 'appliance.img.xz', role: 'image', mediaType: 'application/x-xz', size: 5, sha256: D('a') }] as Record<string, unknown>[],
});
const reserved = (name: string) => [`${name}.sigstore.json`, 'os-artifact.ref'];
const parse = (value: unknown) => parseManifest(typeof value === 'string' ? value : renderJson(value), 'm.json', reserved);

describe('parseManifest', () => {
  it('accepts a release manifest', () => {
    expect(parse(good()).name).toBe('appliance');
  });

  const file = (over: Record<string, unknown>) => ({ ...good(), files: [{ ...good().files[0], ...over }] });
  it.each<[string, unknown, RegExp]>([
    ['text that is not JSON', '{"schemaVersion":', /m\.json is not valid JSON/],
    ['a JSON list', [], /not a JSON object/],
    ['another schema version', { ...good(), schemaVersion: 2 }, /not a pi-image release manifest/],
    ['a name with a slash', { ...good(), name: '../x' }, /name "\.\.\/x" is not a release name/],
    ['a version of 200 characters', { ...good(), version: 'v'.repeat(200) }, /version .* is not a release version/],
    ['an unknown channel', { ...good(), channel: 'beta' }, /channel "beta" is not one of nightly, stable/],
    ['an unreadable date', { ...good(), created: 'yesterday' }, /created "yesterday" is not a date/],
    ['files that are not a list', { ...good(), files: {} }, /files is not a list/],
    ['a path with a directory', file({ path: 'sub/x' }), /"sub\/x" is not a plain file name/],
    ['a hidden file', file({ path: '.x' }), /is not a plain file name/],
    ['a path with ..', file({ path: 'a..b' }), /is not a plain file name/],
    ['manifest.json listed in itself', file({ path: 'manifest.json' }), /reserved for a file kept beside the manifest/],
    ['the signature listed', file({ path: 'appliance.sigstore.json' }), /reserved/],
    ['the OCI reference listed', file({ path: 'os-artifact.ref' }), /reserved/],
    ['an unknown role', file({ role: 'signature' }), /role "signature", not one of/],
    ['a negative size', file({ size: -1 }), /size -1, not a byte count/],
    ['a fractional size', file({ size: 1.5 }), /not a byte count/],
    ['a short digest', file({ sha256: 'abc' }), /has no sha256/],
    ['no media type', file({ mediaType: '' }), /has no media type/],
    ['a file listed twice', { ...good(), files: [good().files[0], good().files[0]] }, /listed twice/],
    ['an image that is not listed', { ...good(), image: { ...good().image, path: 'other.img.xz' } }, /image\.path does not name a listed file/],
    ['an image without a raw digest', { ...good(), image: { ...good().image, raw: { size: 1 } } }, /image\.raw has no size and sha256/],
  ])('refuses %s, naming the manifest and what is wrong', (_label, value, message) => {
    expect(() => parse(value)).toThrow(message);
    expect(() => parse(value)).toThrow(/^m\.json/);
  });

  it('refuses more files than a release has', () => {
    const many = { ...good(), files: Array.from({ length: 10_001 }, (_, i) => ({ ...good().files[0], path: `f${i}` })) };
    expect(() => parse(many)).toThrow(/lists 10001 files/);
  });
});
