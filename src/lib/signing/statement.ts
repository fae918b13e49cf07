/**
 * What a release signature covers: an in-toto Statement v1 whose subjects are
 * manifest.json (its exact bytes) and every file it lists, with a SLSA
 * provenance v1 predicate. Signing the manifest's bytes signs every field of
 * it (name, version, channel, creation time, the raw image's digest, the roles
 * of the files), so nothing a consumer acts on can be changed after signing.
 */
import { SHA256_HEX } from '../core/file-digest';
import { asObject, asString, member } from '../core/json-value';
import { MANIFEST_FILE } from '../release/manifest';
import type { ReleaseMetadata } from '../release/metadata';
import type { ReleaseDir } from '../release/release-dir';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const PROVENANCE_TYPE = 'https://slsa.dev/provenance/v1';
export const INTOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** How pi-image builds are described; external parameters are the package step's inputs. */
export const BUILD_TYPE = 'https://github.com/pi-image-release/pi-image-release/blob/main/docs/signing.md#build-type-v1';

export interface Subject {
  name: string;
  digest: Record<string, string>;
}

export interface ReleaseParameters {
  name: string;
  version: string;
  channel: string;
}

export interface InTotoStatement {
  _type: typeof STATEMENT_TYPE;
  subject: Subject[];
  predicateType: typeof PROVENANCE_TYPE;
  predicate: {
    buildDefinition: {
      buildType: string;
      externalParameters: { release: ReleaseParameters; inputs?: unknown };
      internalParameters: Record<string, unknown>;
      resolvedDependencies: { uri: string; digest: Record<string, string>; name?: string }[];
    };
    runDetails: {
      builder: { id: string };
      metadata: { invocationId?: string; startedOn?: string };
    };
  };
}

export interface StatementOptions {
  /** The pi-gen commit built with (the build step's pigen-commit output). */
  pigenCommit?: string | undefined;
  pigenRepository?: string | undefined;
  /** The builder: the workflow identity in Actions, else a local description. */
  builderId: string;
}

export function buildStatement(release: ReleaseDir, metadata: ReleaseMetadata | undefined, options: StatementOptions): InTotoStatement {
  const { manifest } = release;
  const subject: Subject[] = [
    { name: MANIFEST_FILE, digest: { sha256: release.manifestDigest.sha256 } },
    ...manifest.files.map((f) => ({ name: f.path, digest: { sha256: f.sha256 } })),
  ];
  const deps: InTotoStatement['predicate']['buildDefinition']['resolvedDependencies'] = [];
  if (metadata?.recipe.repository && metadata.recipe.commit) {
    deps.push({
      name: 'recipe',
      uri: `git+${metadata.recipe.repository}${metadata.recipe.ref ? `@${metadata.recipe.ref}` : ''}`,
      digest: { gitCommit: metadata.recipe.commit },
    });
  }
  if (options.pigenCommit) {
    deps.push({ name: 'pi-gen', uri: `git+${options.pigenRepository ?? 'https://github.com/RPi-Distro/pi-gen'}`, digest: { gitCommit: options.pigenCommit } });
  }
  const runMetadata: InTotoStatement['predicate']['runDetails']['metadata'] = { startedOn: manifest.created };
  if (metadata?.workflowRun.url) runMetadata.invocationId = `${metadata.workflowRun.url}/attempts/${metadata.workflowRun.attempt ?? '1'}`;
  return {
    _type: STATEMENT_TYPE,
    subject,
    predicateType: PROVENANCE_TYPE,
    predicate: {
      buildDefinition: {
        buildType: BUILD_TYPE,
        externalParameters: {
          release: { name: manifest.name, version: manifest.version, channel: manifest.channel },
          ...(metadata ? { inputs: metadata.inputs } : {}),
        },
        internalParameters: metadata ? { tool: metadata.tool } : {},
        resolvedDependencies: deps,
      },
      runDetails: { builder: { id: options.builderId }, metadata: runMetadata },
    },
  };
}

export interface SignedRelease {
  release: ReleaseParameters;
  /** sha256 of manifest.json as signed. */
  manifestSha256: string;
  /** The release files signed (every subject but the manifest), by name. */
  files: Map<string, string>;
}

/**
 * What a statement says was signed, or a description of what it lacks: a
 * release signature names the release, has manifest.json as a subject and at
 * least one file, each with a sha256, no name twice.
 */
export function readSignedRelease(statement: unknown): SignedRelease | string {
  const s = asObject(statement);
  if (s?._type !== STATEMENT_TYPE || s.predicateType !== PROVENANCE_TYPE || !Array.isArray(s.subject)) {
    return 'it is not an in-toto v1 statement with SLSA provenance';
  }
  const r = member(s, 'predicate', 'buildDefinition', 'externalParameters', 'release');
  const [name, version, channel] = [asString(member(r, 'name')), asString(member(r, 'version')), asString(member(r, 'channel'))];
  if (name === undefined || version === undefined || channel === undefined) return 'it names no release (name, version, channel)';
  const files = new Map<string, string>();
  let manifestSha256: string | undefined;
  for (const subject of s.subject as unknown[]) {
    const subjectName = asString(member(subject, 'name'));
    const sha256 = asString(member(subject, 'digest', 'sha256'));
    if (subjectName === undefined || sha256 === undefined || !SHA256_HEX.test(sha256)) return 'a subject has no name or no sha256';
    if (subjectName === MANIFEST_FILE) {
      if (manifestSha256 !== undefined) return `it names ${MANIFEST_FILE} twice`;
      manifestSha256 = sha256;
    } else {
      if (files.has(subjectName)) return `it names ${subjectName} twice`;
      files.set(subjectName, sha256);
    }
  }
  if (manifestSha256 === undefined) return `it does not cover ${MANIFEST_FILE}`;
  if (files.size === 0) return 'it covers no release file';
  return { release: { name, version, channel }, manifestSha256, files };
}
