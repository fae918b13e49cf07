import { describe, expect, it } from 'vitest';
import { onSecretRegistered, registerBasicCredentials, registerSecret, scrubSecrets } from './secrets';

describe('the secret scrubber', () => {
  it('hides a secret in every form it may be printed in', () => {
    registerSecret('p@ss word/1');
    registerBasicCredentials('ci', 'tok-123456');
    const basic = Buffer.from('ci:tok-123456').toString('base64');
    expect(scrubSecrets(`a p@ss word/1 b ${encodeURIComponent('p@ss word/1')} c ${basic} d tok-123456`)).toBe('a *** b *** c *** d ***');
  });

  it('hides the longer of two overlapping secrets whole', () => {
    registerSecret('abcd');
    registerSecret('abcdefgh');
    expect(scrubSecrets('x abcdefgh y abcd')).toBe('x *** y ***');
  });

  it('ignores empty and very short values, which would blank out ordinary words', () => {
    registerSecret('');
    registerSecret(undefined);
    registerSecret('ab');
    expect(scrubSecrets('ab cd')).toBe('ab cd');
  });

  it('tells listeners of secrets registered before and after they listen', () => {
    registerSecret('early-secret');
    const heard: string[] = [];
    onSecretRegistered((s) => heard.push(s));
    registerSecret('late-secret');
    expect(heard).toContain('early-secret');
    expect(heard).toContain('late-secret');
  });
});
