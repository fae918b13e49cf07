import { describe, expect, it } from 'vitest';
import { formatReference, parseReference, registryBaseUrl } from './reference';

describe('OCI references', () => {
  it.each([
    ['ghcr.io/acme/ourbox-mini:1.2.3', { registry: 'ghcr.io', repository: 'acme/ourbox-mini', tag: '1.2.3' }],
    ['127.0.0.1:5000/a/b', { registry: '127.0.0.1:5000', repository: 'a/b' }],
    [`localhost:5000/x@sha256:${'a'.repeat(64)}`, { registry: 'localhost:5000', repository: 'x', digest: `sha256:${'a'.repeat(64)}` }],
    [`ghcr.io/o/n:v1@sha256:${'b'.repeat(64)}`, { registry: 'ghcr.io', repository: 'o/n', tag: 'v1', digest: `sha256:${'b'.repeat(64)}` }],
  ])('reads %s', (text, expected) => {
    expect(parseReference(text)).toEqual(expected);
    expect(formatReference(parseReference(text))).toBe(text);
  });

  it.each([
    ['ourbox-mini', /name the registry/],
    ['ghcr.io/Acme/Img', /not a valid repository name/],
    ['ghcr.io/a/b:bad tag', /not a valid tag|not a valid repository/],
    ['ghcr.io/a/b@sha256:xyz', /the digest must be sha256/],
    ['gh cr.io/a/b', /not a registry host/],
  ])('refuses %s', (text, message) => {
    expect(() => parseReference(text, 'target')).toThrow(message);
  });

  it('speaks plain HTTP only to loopback unless asked', () => {
    expect(registryBaseUrl('ghcr.io', false)).toBe('https://ghcr.io');
    expect(registryBaseUrl('127.0.0.1:5000', false)).toBe('http://127.0.0.1:5000');
    expect(registryBaseUrl('localhost:5000', false)).toBe('http://localhost:5000');
    expect(registryBaseUrl('registry.lan:5000', true)).toBe('http://registry.lan:5000');
  });
});
