import { describe, expect, it } from 'vitest';
import { parseFlashPolicy } from './flash-policy';

const WHERE = '/etc/pi-image/flash-policy.json';

describe('a device flash policy file', () => {
  it('reads labels, serials, the signer and the trusted root', () => {
    const policy = parseFlashPolicy(
      JSON.stringify({
        protectLabels: ['OURBOX_DATA', ' BACKUP '],
        protectSerials: ['S64DNX0R123456'],
        requireSignature: true,
        signer: {
          repository: 'acme/ourbox-mini',
          'signer-workflow': 'acme/pi-image-release/.github/workflows/pipeline.yml',
          'trusted-root': '/etc/pi-image/root.json',
        },
      }),
      WHERE,
    );
    expect(policy).toMatchObject({
      protectLabels: ['OURBOX_DATA', 'BACKUP'],
      protectSerials: ['S64DNX0R123456'],
      requireSignature: true,
      trustedRoot: '/etc/pi-image/root.json',
    });
    expect(policy.signer).toBeDefined();
  });

  it('an empty policy protects nothing more and requires nothing', () => {
    expect(parseFlashPolicy('{}', WHERE)).toEqual({
      protectLabels: [],
      protectSerials: [],
      requireSignature: false,
      signer: undefined,
      trustedRoot: undefined,
    });
  });

  it.each([
    ['[]', /is not a JSON object/],
    ['{"protectLabel": ["X"]}', /unknown key "protectLabel"/],
    ['{"protectLabels": "OURBOX_DATA"}', /"protectLabels" must be a list of non-empty strings/],
    ['{"protectSerials": [""]}', /"protectSerials" must be a list of non-empty strings/],
    ['{"requireSignature": "yes"}', /"requireSignature" must be true or false/],
    ['{"requireSignature": true}', /"requireSignature" needs a "signer"/],
    ['{"signer": {"repo": "acme/x"}}', /"signer" has unknown key "repo"/],
    ['{"signer": {}}', /"signer" names no signer/],
  ])('refuses %s, naming the file', (text, message) => {
    expect(() => parseFlashPolicy(text, WHERE)).toThrow(expect.objectContaining({ code: 'INPUT_INVALID' }));
    expect(() => parseFlashPolicy(text, WHERE)).toThrow(message);
    expect(() => parseFlashPolicy(text, WHERE)).toThrow(WHERE);
  });
});
