/**
 * What a release signature covers: an in-toto Statement v1 whose subjects are
 * every file of the release manifest (and the OCI manifest digest once the
 * release is laid out for a registry), with a SLSA provenance v1 predicate.
 */
import type { ReleaseManifest } from '../release/manifest';
import type { ReleaseMetadata } from '../release/metadata';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const PROVENANCE_TYPE = 'https://slsa.dev/provenance/v1';
export const INTOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** How pi-image builds are described; external parameters are the package step's inputs. */
export const BUILD_TYPE = 'https://github.com/pi-image-release/pi-image-release/blob/main/docs/signing.md#build-type-v1';

export interface Subject {
  name: string;
  digest: Record<string, string>;
}

export interface InTotoStatement {
  _type: typeof STATEMENT_TYPE;
  subject: Subject[];
  predicateType: typeof PROVENANCE_TYPE;
  predicate: {
    buildDefinition: {
      buildType: string;
      externalParameters: Record<string, unknown>;
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
  /** sha256 of the OCI manifest, when the release has been laid out for publishing. */
  ociManifestDigest?: string | undefined;
  ociReference?: string | undefined;
  /** The builder: the workflow identity in Actions, else a local description. */
  builderId: string;
}

/** Files a signature never covers: itself (written after signing) and os-artifact.ref (written after publishing). */
export const UNSIGNED_ROLES = new Set(['signature', 'oci-reference']);

export function buildStatement(manifest: ReleaseManifest, metadata: ReleaseMetadata | undefined, options: StatementOptions): InTotoStatement {
  const subject: Subject[] = manifest.files
    .filter((f) => !UNSIGNED_ROLES.has(f.role))
    .map((f) => ({ name: f.path, digest: { sha256: f.sha256 } }));
  if (options.ociManifestDigest) {
    subject.push({ name: options.ociReference ?? 'oci-manifest', digest: { sha256: options.ociManifestDigest.replace(/^sha256:/, '') } });
  }
  const deps: InTotoStatement['predicate']['buildDefinition']['resolvedDependencies'] = [];
  if (metadata?.recipe.repository && metadata.recipe.commit) {
    deps.push({ name: 'recipe', uri: `git+${metadata.recipe.repository}${metadata.recipe.ref ? `@${metadata.recipe.ref}` : ''}`, digest: { gitCommit: metadata.recipe.commit } });
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
