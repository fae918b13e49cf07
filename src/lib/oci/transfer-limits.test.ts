import { describe, expect, it } from 'vitest';
import { DEFAULT_TRANSFER_LIMITS, parseTransferLimits } from './transfer-limits';

const parse = (given: Record<string, string>) =>
  parseTransferLimits(
    (name) => given[name],
    (name) => `--${name}`,
  );

describe('transfer limits', () => {
  it('keep the defaults for what is unset or blank', () => {
    expect(parse({})).toEqual(DEFAULT_TRANSFER_LIMITS);
    expect(parse({ 'response-timeout': '  ', 'max-time': '' })).toEqual(DEFAULT_TRANSFER_LIMITS);
  });

  it('read each limit by its option name', () => {
    expect(parse({ 'response-timeout': '5', 'speed-limit': '0', 'speed-time': ' 60 ', 'max-time': '3600' })).toEqual({
      responseSeconds: 5,
      speedLimit: 0,
      speedTimeSeconds: 60,
      maxTimeSeconds: 3600,
    });
  });

  it.each([
    [{ 'response-timeout': '0' }, '--response-timeout "0" must be a whole number of at least 1'],
    [{ 'speed-time': '-1' }, '--speed-time "-1" must be a whole number of at least 1'],
    [{ 'speed-limit': '1.5' }, '--speed-limit "1.5" must be a whole number'],
    [{ 'max-time': '1e9' }, '--max-time "1e9" must be a whole number'],
    [{ 'max-time': '9999999999' }, '--max-time "9999999999" must be a whole number'],
  ])('refuse %o, naming the option', (given, message) => {
    expect(() => parse(given)).toThrow(expect.objectContaining({ code: 'INPUT_INVALID', message }));
  });
});
