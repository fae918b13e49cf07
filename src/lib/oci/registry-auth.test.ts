import { describe, expect, it } from 'vitest';
import { realmMayGetCredentials } from './registry-auth';

describe('which token realms may receive the credentials', () => {
  const registry = (u: string) => new URL(u);
  it.each([
    ['https://ghcr.io/token', 'https://ghcr.io', [], true],
    ['https://auth.docker.io/token', 'https://registry-1.docker.io', [], true],
    ['http://auth.docker.io/token', 'https://registry-1.docker.io', [], false],
    ['https://evil.example/token', 'https://registry-1.docker.io', [], false],
    ['https://docker.io.evil.example/token', 'https://registry-1.docker.io', [], false],
    ['https://io/token', 'https://ghcr.io', [], false],
    ['https://auth.example.com/token', 'https://registry.example.com', [], false],
    ['https://gitlab.com/jwt/auth', 'https://registry.gitlab.com', [], true],
    ['https://evil.azurecr.io/oauth2/token', 'https://acme.azurecr.io', [], false],
    ['https://acme.azurecr.io/oauth2/token', 'https://acme.azurecr.io', [], true],
    ['https://auth.docker.io:8443/token', 'https://registry-1.docker.io', [], false],
    ['https://sso.corp.example/token', 'https://registry.example.com', ['https://sso.corp.example'], true],
    ['http://127.0.0.1:9000/token', 'http://127.0.0.1:5000', [], false],
    ['http://127.0.0.1:5000/token', 'http://127.0.0.1:5000', [], true],
  ])('%s for %s (allowed %j): %s', (realm, base, allowed, expected) => {
    expect(realmMayGetCredentials(new URL(realm), registry(base), allowed)).toBe(expected);
  });
});
