/** Reading an OCI manifest or index as it comes from a store: every descriptor checked before use. */
import { PiImageError } from '../core/errors';
import { isDescriptor, type Descriptor } from './media-types';

/** The most a manifest or index may be: the limit registries apply (distribution's 4 MiB). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface ParsedManifest {
  mediaType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Descriptor[];
  subject?: Descriptor;
  artifactType?: string;
  /** Only string values are kept (anything else in a hostile manifest is dropped). */
  annotations?: Record<string, string>;
}

export function parseManifest(bytes: Buffer, where: string): ParsedManifest {
  let m: ParsedManifest;
  try {
    m = JSON.parse(bytes.toString('utf8')) as ParsedManifest;
  } catch (e) {
    throw new PiImageError('DIGEST_MISMATCH', `${where} is not JSON`, { cause: e });
  }
  const check = (d: Descriptor | undefined, what: string): void => {
    if (!d) return;
    if (!isDescriptor(d) || typeof d.mediaType !== 'string') {
      throw new PiImageError('DIGEST_MISMATCH', `${where}: ${what} is not a valid descriptor (sha256 digest, size, media type)`);
    }
  };
  check(m.config, 'config');
  for (const l of m.layers ?? []) check(l, 'a layer');
  for (const l of m.manifests ?? []) check(l, 'an index entry');
  if (!m.manifests && (!m.config || !Array.isArray(m.layers))) throw new PiImageError('DIGEST_MISMATCH', `${where} is neither an image manifest nor an index`);
  const annotations: unknown = m.annotations;
  if (annotations !== undefined) {
    m.annotations =
      typeof annotations === 'object' && annotations !== null && !Array.isArray(annotations)
        ? Object.fromEntries(Object.entries(annotations).filter((e): e is [string, string] => typeof e[1] === 'string'))
        : {};
  }
  return m;
}
