/**
 * OCI references: `registry[:port]/repository[:tag][@sha256:digest]`. Only
 * what the distribution spec allows is accepted; plain HTTP is allowed only
 * for loopback or when asked for.
 */
import { PiImageError } from '../core/errors';

export interface OciReference {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

const REPOSITORY = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
/** A tag as the distribution spec allows it. */
export const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
export const DIGEST = /^sha256:[a-f0-9]{64}$/;

export function parseReference(text: string, input = 'reference'): OciReference {
  const bad = (why: string): PiImageError => new PiImageError('INPUT_INVALID', `${input} "${text}": ${why}`);
  let rest = text.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad('the digest must be sha256:<64 hex digits>');
  }
  const slash = rest.indexOf('/');
  if (slash < 0) throw bad('name the registry, e.g. ghcr.io/OWNER/NAME');
  const registry = rest.slice(0, slash);
  if (!/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(registry) && !/^\[[0-9a-fA-F:]+\](:\d{1,5})?$/.test(registry)) throw bad(`"${registry}" is not a registry host`);
  let repository = rest.slice(slash + 1);
  let tag: string | undefined;
  const colon = repository.lastIndexOf(':');
  if (colon >= 0) {
    tag = repository.slice(colon + 1);
    repository = repository.slice(0, colon);
    if (!TAG.test(tag)) throw bad(`"${tag}" is not a valid tag`);
  }
  if (!REPOSITORY.test(repository)) throw bad(`"${repository}" is not a valid repository name (lowercase letters, digits, separators)`);
  const ref: OciReference = { registry, repository };
  if (tag) ref.tag = tag;
  if (digest) ref.digest = digest;
  return ref;
}

export function formatReference(ref: OciReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** Loopback registries speak plain HTTP; everything else HTTPS unless the caller insists. */
export function registryBaseUrl(registry: string, plainHttp: boolean): string {
  const host = registry.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host === '::1' || host.startsWith('127.');
  return `${loopback || plainHttp ? 'http' : 'https'}://${registry}`;
}
