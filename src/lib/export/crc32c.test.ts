import { describe, expect, it } from 'vitest';
import { crc32c, crc32cUpdate } from './crc32c';

describe('crc32c', () => {
  it('gives the check value of the CRC-32C catalogue', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });
  it('continues over pieces from the raw register', () => {
    const whole = crc32cUpdate(0x12345678, Buffer.from('hello world'));
    expect(crc32cUpdate(crc32cUpdate(0x12345678, Buffer.from('hello ')), Buffer.from('world'))).toBe(whole);
  });
});
