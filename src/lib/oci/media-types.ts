/** OCI media types and annotation keys. */
import { DIGEST } from './reference';
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
export const OCI_IMAGE_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER_TAR = 'application/vnd.oci.image.layer.v1.tar';
export const OCI_LAYER_TAR_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_LAYER_TAR_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

/** The manifest types asked for (Accept) and read: OCI's, and Docker's for images pushed by older tools. */
export const MANIFEST_TYPES = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST];
/** Layers a release image may be read from. */
export const TAR_LAYER_TYPES: ReadonlySet<string> = new Set([OCI_LAYER_TAR, OCI_LAYER_TAR_GZIP, DOCKER_LAYER_TAR_GZIP]);

export const ANNOTATION = {
  title: 'org.opencontainers.image.title',
  source: 'org.opencontainers.image.source',
  revision: 'org.opencontainers.image.revision',
  version: 'org.opencontainers.image.version',
  created: 'org.opencontainers.image.created',
  description: 'org.opencontainers.image.description',
  refName: 'org.opencontainers.image.ref.name',
} as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  artifactType?: string;
}

/** A descriptor as read from a manifest or an index: a sha256 digest and a size, whatever else it has. */
export function isDescriptor(value: unknown): value is Descriptor {
  if (typeof value !== 'object' || value === null) return false;
  const d = value as Record<string, unknown>;
  return typeof d.digest === 'string' && DIGEST.test(d.digest) && typeof d.size === 'number' && Number.isSafeInteger(d.size) && d.size >= 0;
}

/** The empty config blob `{}` every artifact manifest points at. */
export const EMPTY_CONFIG = Buffer.from('{}');
