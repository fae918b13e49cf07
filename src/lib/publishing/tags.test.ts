import { describe, expect, it } from 'vitest';
import { PiImageError } from '../core/errors';
import type { ReleaseContent } from './release-content';
import { buildTag, checkTag, releaseTags, versionTag } from './tags';

function content(version: string, channel: 'nightly' | 'stable', commit: string | null): Pick<ReleaseContent, 'manifest' | 'metadata'> {
  return {
    manifest: {
      schemaVersion: 1,
      name: 'ourbox-mini',
      version,
      channel,
      created: '2026-11-23T04:05:06Z',
      image: { path: 'a', compression: 'xz', raw: { size: 1, sha256: '' } },
      files: [],
    },
    metadata: { recipe: { repository: null, commit, ref: null } } as unknown as ReleaseContent['metadata'],
  };
}

describe('release tags', () => {
  it('are the version, the channel and a build tag of date and short commit', () => {
    expect(releaseTags(content('1.2.3', 'stable', 'ABCDEF0123456789abcdef0123456789abcdef01'))).toEqual([
      { tag: '1.2.3', immutable: true },
      { tag: 'stable', immutable: false },
      { tag: '20261123-abcdef0', immutable: true },
    ]);
  });

  it('fall back to the time when the commit is unknown', () => {
    expect(buildTag('2026-11-23T04:05:06Z', null)).toBe('20261123T040506Z');
    expect(buildTag('2026-11-23T04:05:06+02:00', 'nothex')).toBe('20261123T020506Z');
  });

  it('turn semver build metadata into a valid tag', () => {
    expect(versionTag('1.3.0-nightly.20261123+g1a2b3c')).toBe('1.3.0-nightly.20261123_g1a2b3c');
  });

  it('add extra tags once and refuse invalid or reserved ones', () => {
    expect(releaseTags(content('1.0.0', 'nightly', null), ['latest', 'nightly']).map((t) => t.tag)).toEqual(['1.0.0', 'nightly', '20261123T040506Z', 'latest']);
    for (const bad of ['', '-x', '.x', 'a/b', 'a:b', 'x'.repeat(129), `sha256-${'a'.repeat(64)}`]) {
      expect(() => checkTag(bad), bad).toThrow(PiImageError);
    }
  });
});
