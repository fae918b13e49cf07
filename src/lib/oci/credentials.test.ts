import { describe, expect, it } from 'vitest';
import { resolveCredentials } from './credentials';

const docker = (auths: unknown) => () => JSON.stringify({ auths });

describe('registry credentials', () => {
  it('take explicit options first, then the environment, then docker login', () => {
    const env = { PI_IMAGE_REGISTRY: 'ghcr.io', PI_IMAGE_REGISTRY_USERNAME: 'envuser', PI_IMAGE_REGISTRY_PASSWORD: 'envpass' };
    const cfg = docker({ 'ghcr.io': { auth: Buffer.from('dockeruser:p:w').toString('base64') } });
    expect(resolveCredentials('ghcr.io', { username: 'u', password: 'p', env, readDockerConfig: cfg }).credentials).toEqual({ username: 'u', password: 'p' });
    expect(resolveCredentials('ghcr.io', { env, readDockerConfig: cfg }).credentials).toEqual({ username: 'envuser', password: 'envpass' });
    expect(resolveCredentials('ghcr.io', { env: {}, readDockerConfig: cfg }).credentials).toEqual({ username: 'dockeruser', password: 'p:w' });
    expect(resolveCredentials('quay.io', { env: {}, readDockerConfig: cfg })).toEqual({ credentials: undefined, from: 'none (anonymous)' });
    expect(
      resolveCredentials('r.example:5000', { env: {}, readDockerConfig: docker({ 'https://r.example:5000': { username: 'a', password: 'b' } }) }).credentials,
    ).toEqual({ username: 'a', password: 'b' });
  });

  it("give the environment's credentials only to the registry PI_IMAGE_REGISTRY names", () => {
    const env = { PI_IMAGE_REGISTRY: 'registry.example.com:5000', PI_IMAGE_REGISTRY_USERNAME: 'ci', PI_IMAGE_REGISTRY_PASSWORD: 'secret' };
    expect(resolveCredentials('registry.example.com:5000', { env }).credentials).toEqual({ username: 'ci', password: 'secret' });
    expect(resolveCredentials('evil.example', { env })).toEqual({ credentials: undefined, from: 'none (anonymous)' });
    expect(() => resolveCredentials('ghcr.io', { env: { PI_IMAGE_REGISTRY_USERNAME: 'ci', PI_IMAGE_REGISTRY_PASSWORD: 'secret' } })).toThrow(
      /PI_IMAGE_REGISTRY_USERNAME\/PASSWORD are set but PI_IMAGE_REGISTRY is not/,
    );
  });

  it('refuse half of a pair and an unreadable config', () => {
    expect(() => resolveCredentials('ghcr.io', { username: 'u', env: {} })).toThrow(/both a username and a password/);
    expect(() => resolveCredentials('ghcr.io', { env: { PI_IMAGE_REGISTRY_PASSWORD: 'x' } })).toThrow(/set both/);
    expect(() => resolveCredentials('ghcr.io', { env: {}, readDockerConfig: () => '{' })).toThrow(/config.json is not JSON/);
  });
});
