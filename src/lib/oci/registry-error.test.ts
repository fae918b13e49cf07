import { describe, expect, it } from 'vitest';
import { registerSecret } from '../core/secrets';
import { hasStatus, isRetryable, registryErrorSummary, statusError, transportError } from './registry-error';

describe('registry errors as data', () => {
  const url = new URL('https://ghcr.io/v2/acme/x/blobs/uploads/');
  it.each([
    [429, true, 'REGISTRY_FAILED'],
    [500, true, 'REGISTRY_FAILED'],
    [503, true, 'REGISTRY_FAILED'],
    [400, false, 'REGISTRY_FAILED'],
    [404, false, 'REGISTRY_FAILED'],
    [401, false, 'INPUT_INVALID'],
    [403, false, 'INPUT_INVALID'],
  ])('status %i: retryable %s, code %s', (status, retryable, code) => {
    const e = statusError('POST', url, status, '{"errors":[{"code":"DENIED","message":"no"}]}', 'ghcr.io');
    expect(e).toMatchObject({ code, details: { status, retryable, codes: ['DENIED'], kind: 'status' } });
    expect(isRetryable(e)).toBe(retryable);
    expect(hasStatus(e, status)).toBe(true);
  });

  it('reads the registry error codes; shows a body that is not JSON as bounded, printable text', () => {
    expect(registryErrorSummary('{"errors":[{"code":"DIGEST_INVALID","message":"digest did not match"}]}')).toEqual({
      codes: ['DIGEST_INVALID'],
      text: 'DIGEST_INVALID: digest did not match',
    });
    const html = registryErrorSummary(`<html>\u001b[2J${'x'.repeat(500)}</html>`);
    expect(html.codes).toEqual([]);
    expect(html.text.length).toBeLessThanOrEqual(200);
    expect(html.text).not.toContain('\u001b');
  });

  it('scrubs a secret the registry echoes before cutting the text short, so no part of it survives', () => {
    const secret = 'pa ss\tword-echoed-by-a-proxy-0123456789';
    registerSecret(secret);
    // Not JSON: whitespace is collapsed and the text cut at 200, right through the secret.
    const plain = registryErrorSummary(`${'x'.repeat(185)}${secret}`).text;
    expect(plain).not.toContain('pa ss');
    expect(plain).toContain('***');
    // JSON: cut at 300, through the secret in the message.
    const json = registryErrorSummary(JSON.stringify({ errors: [{ code: 'DENIED', message: `${'y'.repeat(285)}${secret}` }] })).text;
    expect(json).not.toContain('pa ss');
    expect(json).toContain('***');
  });

  it('network, timeout and stall failures are retryable; plain errors are not registry errors', () => {
    for (const kind of ['network', 'timeout', 'stalled'] as const) expect(isRetryable(transportError('GET', url, kind, 'x'))).toBe(true);
    expect(isRetryable(new Error('ECONNRESET'))).toBe(false);
  });
});
