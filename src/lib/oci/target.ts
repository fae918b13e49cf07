/**
 * Where to publish to or pull from, as the user writes it:
 *   ghcr.io/OWNER/NAME[:TAG|@sha256:…]   a registry repository
 *   oci:DIR[:TAG|@sha256:…]              an OCI image layout on disk
 *   ./DIR, /abs/DIR, an existing directory: an OCI image layout
 * A first component with a dot or a port, or `localhost`, is a registry,
 * as Docker reads names.
 */
import { existsSync, statSync } from 'node:fs';
import { PiImageError } from '../core/errors';
import { DIGEST, parseReference, type OciReference } from './reference';

export type Target = { kind: 'registry'; ref: OciReference } | { kind: 'layout'; dir: string; tag?: string; digest?: string };

function splitLayout(text: string): Target {
  let dir = text;
  let tag: string | undefined;
  let digest: string | undefined;
  const at = dir.lastIndexOf('@');
  if (at > dir.lastIndexOf('/') && DIGEST.test(dir.slice(at + 1))) {
    digest = dir.slice(at + 1);
    dir = dir.slice(0, at);
  }
  const colon = dir.lastIndexOf(':');
  if (colon > dir.lastIndexOf('/')) {
    tag = dir.slice(colon + 1);
    dir = dir.slice(0, colon);
  }
  if (dir === '') throw new PiImageError('INPUT_INVALID', `"${text}": name the layout's directory`);
  return { kind: 'layout', dir, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

export function parseTarget(text: string, input = 'target'): Target {
  const value = text.trim();
  if (value === '') throw new PiImageError('INPUT_INVALID', `${input} is empty: give a registry reference (ghcr.io/OWNER/NAME) or a directory`);
  if (value.startsWith('oci:')) return splitLayout(value.slice(4));
  if (/^(\/|\.\.?\/|~)/.test(value) || value === '.' || value === '..') return splitLayout(value);
  const first = value.split('/')[0]!;
  const looksLikeRegistry = value.includes('/') && (/[.:]/.test(first) || first === 'localhost' || first.startsWith('['));
  if (!looksLikeRegistry) {
    if (existsSync(value) && statSync(value).isDirectory()) return { kind: 'layout', dir: value };
    return splitLayout(value);
  }
  return { kind: 'registry', ref: parseReference(value, input) };
}
