import { describe, expect, it } from 'vitest';
import { PiImageError } from './errors';
import { checkIntegerInRange, isoSeconds, MAX_SOURCE_DATE_EPOCH, parseBoolean, parseKeyValueList, parseSourceDateEpoch } from './values';

/** The PiImageError `f` throws (fails the test when it throws nothing or something else). */
function thrown(f: () => unknown): PiImageError {
  try {
    f();
  } catch (e) {
    if (e instanceof PiImageError) return e;
    throw e;
  }
  throw new Error('expected a PiImageError, nothing was thrown');
}

describe('parseBoolean', () => {
  it.each<[string, boolean]>([
    ['true', true],
    ['TRUE', true],
    [' Yes ', true],
    ['1', true],
    ['false', false],
    ['No', false],
    ['0', false],
    ['', false],
    ['   ', false],
  ])('reads %j as %s', (value, expected) => {
    expect(parseBoolean(value, 'push')).toBe(expected);
  });

  it.each(['on', 'off', 'y', 'n', '2', 'truee', 'true false'])('refuses %j, naming the input and the value', (value) => {
    const e = thrown(() => parseBoolean(value, 'push'));
    expect(e.code).toBe('INPUT_INVALID');
    expect(e.message).toBe(`push "${value}" must be true or false (or 1 or 0)`);
  });

  it('shows at most 40 characters of a long value', () => {
    const e = thrown(() => parseBoolean(`${'x'.repeat(40)}SECRET`, 'push'));
    expect(e.message).toBe(`push "${'x'.repeat(40)}" must be true or false (or 1 or 0)`);
  });
});

describe('checkIntegerInRange', () => {
  it.each<[string | number, number]>([
    ['0', 0],
    ['9', 9],
    [' 5 ', 5],
    ['-3', -3],
    ['007', 7],
    [4, 4],
  ])('accepts %j in -5..9 as %d', (value, expected) => {
    expect(checkIntegerInRange(value, -5, 9, 'level')).toBe(expected);
  });

  it.each<[string | number]>([['10'], ['-6'], ['1.5'], ['1e1'], ['+1'], ['0x5'], [''], ['five'], [1.5], [Number.NaN], [Infinity], ['1234567890123456']])(
    'refuses %j, naming the input and the range',
    (value) => {
      const e = thrown(() => checkIntegerInRange(value, -5, 9, 'compression-level'));
      expect(e.code).toBe('INPUT_INVALID');
      expect(e.message).toBe(`compression-level "${String(value)}" must be a whole number from -5 to 9`);
    },
  );

  it('accepts the bounds themselves', () => {
    expect(checkIntegerInRange('0', 0, 1024, 'threads')).toBe(0);
    expect(checkIntegerInRange('1024', 0, 1024, 'threads')).toBe(1024);
  });
});

describe('parseSourceDateEpoch', () => {
  it('is undefined when unset or blank', () => {
    expect(parseSourceDateEpoch(undefined)).toBeUndefined();
    expect(parseSourceDateEpoch('')).toBeUndefined();
    expect(parseSourceDateEpoch('  ')).toBeUndefined();
  });

  it.each<[string, number]>([
    ['0', 0],
    ['1768780800', 1768780800],
    [' 1768780800\n', 1768780800],
    [String(MAX_SOURCE_DATE_EPOCH), 253402300799],
  ])('reads %j as %d', (value, expected) => {
    expect(parseSourceDateEpoch(value)).toBe(expected);
  });

  it('stops at the last second of the year 9999', () => {
    expect(isoSeconds(new Date(MAX_SOURCE_DATE_EPOCH * 1000))).toBe('9999-12-31T23:59:59Z');
  });

  it.each(['-1', '1.5', '1e9', 'now', '253402300800', '999999999999999'])('refuses %j, naming SOURCE_DATE_EPOCH and the value', (value) => {
    const e = thrown(() => parseSourceDateEpoch(value));
    expect(e.code).toBe('INPUT_INVALID');
    expect(e.message).toBe(`SOURCE_DATE_EPOCH "${value}" must be a whole number of seconds since 1970-01-01, at most 253402300799 (the year 9999)`);
  });
});

describe('isoSeconds', () => {
  it('drops the milliseconds and keeps UTC', () => {
    expect(isoSeconds(new Date(Date.UTC(2026, 0, 19, 16, 23, 2, 999)))).toBe('2026-01-19T16:23:02Z');
    expect(isoSeconds(new Date(0))).toBe('1970-01-01T00:00:00Z');
  });
});

describe('parseKeyValueList', () => {
  it('splits at the first "=", skips blank items and keeps empty values', () => {
    expect(parseKeyValueList(['A=1', '', '  ', ' B=x=y ', 'C='], 'annotations')).toEqual({ A: '1', B: 'x=y', C: '' });
  });

  it('refuses a key given twice, a key with spaces, and __proto__ (once silently dropped)', () => {
    expect(() => parseKeyValueList(['A=1', 'A=2'], 'annotations')).toThrow('annotations: key "A" is given twice');
    expect(() => parseKeyValueList(['A = b'], 'annotations')).toThrow('annotations: key "A " is not letters, digits');
    expect(() => parseKeyValueList(['__proto__=x'], 'annotations')).toThrow('annotations: key "__proto__" is not letters, digits');
  });

  it('is empty for no items', () => {
    expect(parseKeyValueList([], 'annotations')).toEqual({});
  });

  it.each(['novalue', '=value'])('refuses %j, naming the input and the item', (item) => {
    const e = thrown(() => parseKeyValueList(['A=1', item], 'annotations'));
    expect(e.code).toBe('INPUT_INVALID');
    expect(e.message).toBe(`annotations: "${item}" is not KEY=VALUE`);
  });
});
