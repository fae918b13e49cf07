/**
 * Registry authentication: anonymous, Basic, and Bearer tokens from the
 * realm the registry names (service and scope), cached per scope until they
 * expire. Credentials go to the registry's own origin, and to a token realm
 * on another host only over https and only when it is a registry's known
 * token service (auth.docker.io for Docker Hub, gitlab.com for GitLab's
 * registry) or one the user allowed; anywhere else the token is asked for
 * anonymously. A shared parent domain is not enough: tenants of the same
 * registry service (acme.azurecr.io, evil.azurecr.io) are strangers.
 */
import type { Logger } from '../core/logger';
import { registerBasicCredentials, registerSecret } from '../core/secrets';
import { readBodyText, sendRequest } from './http-transport';
import { protocolError, statusError } from './registry-error';
import type { TransferLimits } from './transfer-limits';

export interface Credentials {
  username: string;
  password: string;
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

export function parseChallenge(header: string): Challenge {
  const m = /^(\w+)\s*(.*)$/.exec(header.trim());
  const params: Record<string, string> = {};
  for (const p of (m?.[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) params[p[1]!.toLowerCase()] = p[2]!;
  return { scheme: (m?.[1] ?? '').toLowerCase(), params };
}

/** Registries whose token service lives on another host, and that host. */
const KNOWN_TOKEN_SERVICES: Readonly<Record<string, string>> = {
  'registry-1.docker.io': 'auth.docker.io',
  'index.docker.io': 'auth.docker.io',
  'docker.io': 'auth.docker.io',
  'registry.gitlab.com': 'gitlab.com',
};

/** May the registry's credentials go to this token realm? */
export function realmMayGetCredentials(realm: URL, registry: URL, allowed: readonly string[]): boolean {
  if (realm.origin === registry.origin) return true;
  if (allowed.some((a) => new URL(a).origin === realm.origin)) return true;
  return realm.protocol === 'https:' && realm.port === '' && KNOWN_TOKEN_SERVICES[registry.hostname] === realm.hostname;
}

export class RegistryAuth {
  private challenge: Challenge | undefined;
  private readonly tokens = new Map<string, { token: string; expires: number }>();
  private warned = false;

  constructor(
    private readonly registry: string,
    private readonly base: URL,
    private readonly credentials: Credentials | undefined,
    private readonly allowedRealms: readonly string[],
    private readonly limits: TransferLimits,
    private readonly logger: Logger,
  ) {
    if (credentials) registerBasicCredentials(credentials.username, credentials.password);
  }

  /** Records the registry's `WWW-Authenticate` challenge; the next header() answers it. */
  challenged(header: string, scope: string): void {
    this.challenge = parseChallenge(header);
    this.tokens.delete(scope);
  }

  private basic(): string | undefined {
    if (!this.credentials) return undefined;
    return `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString('base64')}`;
  }

  /** The Authorization header for a request to the registry's own origin with this scope. */
  async header(scope: string): Promise<Record<string, string>> {
    const c = this.challenge;
    if (!c) return {};
    if (c.scheme === 'basic') {
      const basic = this.basic();
      return basic ? { authorization: basic } : {};
    }
    if (c.scheme !== 'bearer') return {};
    const cached = this.tokens.get(scope);
    if (cached && cached.expires > Date.now()) return { authorization: `Bearer ${cached.token}` };
    return { authorization: `Bearer ${await this.fetchToken(c, scope)}` };
  }

  private async fetchToken(c: Challenge, scope: string): Promise<string> {
    const realmText = c.params.realm;
    let url: URL;
    try {
      url = new URL(realmText ?? '');
    } catch {
      throw protocolError('GET', this.base, `${this.registry} asked for a Bearer token but named no usable realm`);
    }
    if (c.params.service) url.searchParams.set('service', c.params.service);
    if (scope) url.searchParams.set('scope', scope);
    const headers: Record<string, string> = { accept: 'application/json' };
    const basic = this.basic();
    if (basic && realmMayGetCredentials(url, this.base, this.allowedRealms)) headers.authorization = basic;
    else if (basic && !this.warned) {
      this.warned = true;
      this.logger.warn(
        `${this.registry}'s token service ${url.origin} is on another origin${url.protocol === 'https:' ? '' : ' over plain http'}: credentials are not sent there (asking anonymously); allow it with --token-realm ${url.origin} if you trust it`,
      );
    }
    const res = await sendRequest('GET', url, headers, undefined, this.limits);
    const text = await readBodyText(res.body);
    if (res.status !== 200) throw statusError('GET', url, res.status, text, this.registry);
    let json: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      json = JSON.parse(text) as typeof json;
    } catch {
      throw protocolError('GET', url, 'the token service did not answer JSON');
    }
    const token = typeof json.token === 'string' ? json.token : typeof json.access_token === 'string' ? json.access_token : undefined;
    if (!token) throw protocolError('GET', url, 'the token service answered without a token');
    registerSecret(token);
    // Renew a little before the registry would: expires_in defaults to 60 s in the spec.
    const seconds = typeof json.expires_in === 'number' && Number.isFinite(json.expires_in) ? json.expires_in : 60;
    this.tokens.set(scope, { token, expires: Date.now() + Math.max(5, seconds - 10) * 1000 });
    return token;
  }
}
