/**
 * An SPDX 2.3 JSON SBOM of the packages installed in the image, built from the
 * dpkg table in pi-gen's .info file. Deterministic: the same inputs give the
 * same bytes (the document namespace is derived from the image digest).
 */
import { createHash } from 'node:crypto';
import type { InstalledPackage } from '../pigen/info-file';

export interface SbomInput {
  name: string;
  version: string;
  created: string;
  /** sha256 of the raw image: the SBOM describes that exact image. */
  imageSha256: string;
  packages: readonly InstalledPackage[];
  /** os-release ID and VERSION_CODENAME from inside the image, for package URLs. */
  distro?: { id?: string | undefined; codename?: string | undefined };
  toolVersion: string;
}

function spdxIdPart(s: string): string {
  return s.replace(/[^A-Za-z0-9.-]/g, '-');
}

/** A name-based UUID from a digest: stable for the same input, unique per image. */
function digestUuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function packageUrl(p: InstalledPackage, distro?: SbomInput['distro']): string {
  const namespace = encodeURIComponent((distro?.id ?? 'debian').toLowerCase());
  const qualifiers = [`arch=${encodeURIComponent(p.qualifier ?? p.architecture)}`];
  if (distro?.codename) qualifiers.push(`distro=${encodeURIComponent(distro.codename)}`);
  return `pkg:deb/${namespace}/${encodeURIComponent(p.name)}@${encodeURIComponent(p.version)}?${qualifiers.join('&')}`;
}

export function buildSbom(input: SbomInput): Record<string, unknown> {
  const used = new Set<string>();
  const packages = input.packages.map((p) => {
    let id = `SPDXRef-deb-${spdxIdPart(p.name)}-${spdxIdPart(p.qualifier ?? p.architecture)}`;
    for (let n = 2; used.has(id); n++) id = `SPDXRef-deb-${spdxIdPart(p.name)}-${spdxIdPart(p.qualifier ?? p.architecture)}-${n}`;
    used.add(id);
    return {
      name: p.name,
      SPDXID: id,
      versionInfo: p.version,
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: 'NOASSERTION',
      copyrightText: 'NOASSERTION',
      ...(p.description ? { summary: p.description } : {}),
      externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: packageUrl(p, input.distro) }],
    };
  });
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: `${input.name}-${input.version}`,
    documentNamespace: `urn:uuid:${digestUuid(`${input.name}\n${input.version}\n${input.imageSha256}`)}`,
    creationInfo: {
      created: input.created,
      creators: [`Tool: pi-image-release-${input.toolVersion}`],
      comment: "Installed packages as recorded by pi-gen's dpkg -l table in the image's .info file.",
    },
    packages: [
      {
        name: input.name,
        SPDXID: 'SPDXRef-Image',
        versionInfo: input.version,
        downloadLocation: 'NOASSERTION',
        filesAnalyzed: false,
        primaryPackagePurpose: 'OPERATING-SYSTEM',
        checksums: [{ algorithm: 'SHA256', checksumValue: input.imageSha256 }],
        licenseConcluded: 'NOASSERTION',
        licenseDeclared: 'NOASSERTION',
        copyrightText: 'NOASSERTION',
      },
      ...packages,
    ],
    relationships: [
      { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: 'SPDXRef-Image' },
      ...packages.map((p) => ({ spdxElementId: 'SPDXRef-Image', relationshipType: 'CONTAINS', relatedSpdxElement: p.SPDXID })),
    ],
  };
}
