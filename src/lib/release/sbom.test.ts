import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { InstalledPackage } from '../pigen/info-file';
import { buildSbom, packageUrl, type SbomInput } from './sbom';

const pkg = (name: string, version: string, architecture: string, over: Partial<InstalledPackage> = {}): InstalledPackage => ({
  name,
  version,
  architecture,
  description: `${name} package`,
  state: 'ii',
  ...over,
});

const IMAGE = 'f'.repeat(64);
const input = (over: Partial<SbomInput> = {}): SbomInput => ({
  name: 'ourbox-mini',
  version: '1.2.3',
  created: '2026-01-19T00:00:00Z',
  imageSha256: IMAGE,
  packages: [
    pkg('base-files', '12.4+deb12u8', 'arm64'),
    pkg('zlib1g', '1:1.2.13.dfsg-1', 'arm64', { qualifier: 'arm64' }),
    pkg('libstdc++6', '12.2.0-14', 'arm64', { description: '' }),
  ],
  distro: { id: 'debian', codename: 'bookworm' },
  toolVersion: '0.9.0',
  ...over,
});

describe('packageUrl', () => {
  it.each<[string, InstalledPackage, SbomInput['distro'], string]>([
    [
      'a Debian package',
      pkg('base-files', '12.4', 'arm64'),
      { id: 'debian', codename: 'bookworm' },
      'pkg:deb/debian/base-files@12.4?arch=arm64&distro=bookworm',
    ],
    ['no distro: debian, no distro qualifier', pkg('bash', '5.2', 'arm64'), undefined, 'pkg:deb/debian/bash@5.2?arch=arm64'],
    ['an upper-case os-release ID', pkg('bash', '5.2', 'armhf'), { id: 'Raspbian' }, 'pkg:deb/raspbian/bash@5.2?arch=armhf'],
    [
      'the multiarch qualifier over the architecture column',
      pkg('zlib1g', '1.3', 'all', { qualifier: 'arm64' }),
      undefined,
      'pkg:deb/debian/zlib1g@1.3?arch=arm64',
    ],
    [
      'characters purl encodes',
      pkg('libstdc++6', '1:12.2+deb12u1~x', 'arm64'),
      { id: 'debian', codename: 'book worm' },
      'pkg:deb/debian/libstdc%2B%2B6@1%3A12.2%2Bdeb12u1~x?arch=arm64&distro=book%20worm',
    ],
  ])('writes %s', (_label, p, distro, expected) => {
    expect(packageUrl(p, distro)).toBe(expected);
  });
});

/** The document as a reader of the JSON file sees it. */
const doc = (i: SbomInput) => JSON.parse(JSON.stringify(buildSbom(i)));

describe('buildSbom', () => {
  const sbom = doc(input());

  it('is an SPDX 2.3 document describing the image by its sha256', () => {
    expect(sbom.spdxVersion).toBe('SPDX-2.3');
    expect(sbom.dataLicense).toBe('CC0-1.0');
    expect(sbom.SPDXID).toBe('SPDXRef-DOCUMENT');
    expect(sbom.name).toBe('ourbox-mini-1.2.3');
    expect(sbom.creationInfo).toEqual({
      created: '2026-01-19T00:00:00Z',
      creators: ['Tool: pi-image-release-0.9.0'],
      comment: "Installed packages as recorded by pi-gen's dpkg -l table in the image's .info file.",
    });
    expect(sbom.packages[0]).toEqual({
      name: 'ourbox-mini',
      SPDXID: 'SPDXRef-Image',
      versionInfo: '1.2.3',
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      primaryPackagePurpose: 'OPERATING-SYSTEM',
      checksums: [{ algorithm: 'SHA256', checksumValue: IMAGE }],
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: 'NOASSERTION',
      copyrightText: 'NOASSERTION',
    });
  });

  it('lists each package with its purl, and a summary only when dpkg gave a description', () => {
    expect(sbom.packages.slice(1)).toEqual([
      {
        name: 'base-files',
        SPDXID: 'SPDXRef-deb-base-files-arm64',
        versionInfo: '12.4+deb12u8',
        downloadLocation: 'NOASSERTION',
        filesAnalyzed: false,
        licenseConcluded: 'NOASSERTION',
        licenseDeclared: 'NOASSERTION',
        copyrightText: 'NOASSERTION',
        summary: 'base-files package',
        externalRefs: [
          {
            referenceCategory: 'PACKAGE-MANAGER',
            referenceType: 'purl',
            referenceLocator: 'pkg:deb/debian/base-files@12.4%2Bdeb12u8?arch=arm64&distro=bookworm',
          },
        ],
      },
      expect.objectContaining({ SPDXID: 'SPDXRef-deb-zlib1g-arm64', summary: 'zlib1g package' }),
      expect.not.objectContaining({ summary: expect.anything() }),
    ]);
    expect(sbom.packages[3].SPDXID).toBe('SPDXRef-deb-libstdc--6-arm64');
  });

  it('relates the document to the image and the image to every package', () => {
    expect(sbom.relationships).toEqual([
      { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: 'SPDXRef-Image' },
      { spdxElementId: 'SPDXRef-Image', relationshipType: 'CONTAINS', relatedSpdxElement: 'SPDXRef-deb-base-files-arm64' },
      { spdxElementId: 'SPDXRef-Image', relationshipType: 'CONTAINS', relatedSpdxElement: 'SPDXRef-deb-zlib1g-arm64' },
      { spdxElementId: 'SPDXRef-Image', relationshipType: 'CONTAINS', relatedSpdxElement: 'SPDXRef-deb-libstdc--6-arm64' },
    ]);
  });

  it('gives every element a distinct SPDX 2.3 identifier, even when names collide after replacing characters', () => {
    const many = doc(
      input({ packages: [pkg('a+b', '1', 'arm64'), pkg('a-b', '1', 'arm64'), pkg('a_b', '1', 'arm64'), pkg('a-b', '1', 'arm64', { qualifier: 'armhf' })] }),
    );
    const ids = (many.packages as { SPDXID: string }[]).map((p) => p.SPDXID);
    expect(ids).toEqual(['SPDXRef-Image', 'SPDXRef-deb-a-b-arm64', 'SPDXRef-deb-a-b-arm64-2', 'SPDXRef-deb-a-b-arm64-3', 'SPDXRef-deb-a-b-armhf']);
    for (const id of ids) expect(id).toMatch(/^SPDXRef-[A-Za-z0-9.-]+$/);
    expect((many.relationships as { relatedSpdxElement: string }[]).map((r) => r.relatedSpdxElement)).toEqual(ids);
  });

  it('derives a version 5 style URN namespace from the name, version and image digest', () => {
    const h = createHash('sha256').update(`ourbox-mini\n1.2.3\n${IMAGE}`).digest('hex');
    expect(sbom.documentNamespace).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(sbom.documentNamespace).toBe(
      `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${sbom.documentNamespace.slice(28, 29)}${h.slice(17, 20)}-${h.slice(20, 32)}`,
    );
  });

  it('is the same for the same input and differs for another image', () => {
    expect(JSON.stringify(buildSbom(input()))).toBe(JSON.stringify(buildSbom(input())));
    expect(doc(input())).toEqual(sbom);
    const other = doc(input({ imageSha256: 'e'.repeat(64) }));
    expect(other.documentNamespace).not.toBe(sbom.documentNamespace);
    const otherVersion = doc(input({ version: '1.2.4' }));
    expect(otherVersion.documentNamespace).not.toBe(sbom.documentNamespace);
  });
});
