import { describe, expect, it } from 'vitest';
import { PiImageError } from '../core/errors';
import { parseTarget } from './target';

const D = `sha256:${'a'.repeat(64)}`;

describe('publish and pull targets', () => {
  it('reads registry references the way Docker does', () => {
    expect(parseTarget('ghcr.io/acme/ourbox-mini')).toEqual({ kind: 'registry', ref: { registry: 'ghcr.io', repository: 'acme/ourbox-mini' } });
    expect(parseTarget(`localhost:5000/a/b:1.2.3@${D}`)).toEqual({
      kind: 'registry',
      ref: { registry: 'localhost:5000', repository: 'a/b', tag: '1.2.3', digest: D },
    });
    expect(parseTarget('127.0.0.1:5000/x:nightly')).toMatchObject({ kind: 'registry', ref: { tag: 'nightly' } });
  });

  it('reads directories as OCI layouts, with an optional tag or digest', () => {
    expect(parseTarget('oci:out/layout')).toEqual({ kind: 'layout', dir: 'out/layout' });
    expect(parseTarget('oci:/srv/layout:1.2.3')).toEqual({ kind: 'layout', dir: '/srv/layout', tag: '1.2.3' });
    expect(parseTarget(`oci:/srv/lay:out@${D}`)).toEqual({ kind: 'layout', dir: '/srv/lay', tag: 'out', digest: D });
    expect(parseTarget('./layout')).toEqual({ kind: 'layout', dir: './layout' });
    expect(parseTarget('releases/layout')).toEqual({ kind: 'layout', dir: 'releases/layout' });
  });

  it('refuses what is neither', () => {
    expect(() => parseTarget('  ')).toThrow(PiImageError);
    expect(() => parseTarget('ghcr.io/Acme/Upper')).toThrow(/not a valid repository name/);
    expect(() => parseTarget('oci::tag')).toThrow(/name the layout's directory/);
  });
});
