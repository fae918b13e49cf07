import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startSigstoreMock } from '../../../test/support/sigstore-mock';
import { checkTrustedRoot, loadTrustedRoot } from './trusted-root';

const dir = mkdtempSync(join(tmpdir(), 'trusted-root-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('trusted roots', () => {
  it('loads a real one (the mock instance’s)', async () => {
    const mock = await startSigstoreMock();
    await mock.close();
    const path = join(dir, 'good.json');
    writeFileSync(path, JSON.stringify(mock.trustedRoot));
    await expect(loadTrustedRoot(path)).resolves.toMatchObject({ mediaType: expect.stringContaining('trustedroot') });
  });

  it.each<[string, string, RegExp]>([
    ['not JSON', '{"mediaType":', /cannot be read as JSON/],
    ['a JSON list', '[]', /is not a Sigstore TrustedRoot \(a JSON object\)/],
    ['an empty object', '{}', /names no certificate authority/],
    [
      'a root with a garbage certificate',
      JSON.stringify({
        certificateAuthorities: [{ certChain: { certificates: [{ rawBytes: 'Z2FyYmFnZQ==' }] }, validFor: { start: '2000-01-01T00:00:00Z' } }],
      }),
      /is not a Sigstore TrustedRoot|names no/,
    ],
  ])('refuses %s as a bad input naming the file (not a bad signature)', async (_label, text, message) => {
    const path = join(dir, `${_label.replace(/\W/g, '-')}.json`);
    writeFileSync(path, text);
    const e = await loadTrustedRoot(path).then(
      () => undefined,
      (x: unknown) => x as { code: string; message: string },
    );
    expect(e).toMatchObject({ code: 'INPUT_INVALID' });
    expect(e!.message).toContain(path);
    expect(e!.message).toMatch(message);
  });

  it('refuses a root that names no transparency log or timestamp authority', async () => {
    const mock = await startSigstoreMock();
    await mock.close();
    const { tlogs: _t, timestampAuthorities: _a, ...rest } = mock.trustedRoot;
    expect(() => checkTrustedRoot(rest, 'r.json')).toThrow(/names no transparency log and no timestamp authority/);
  });
});
