import { describe, expect, it } from 'vitest';
import { asObject, asString, member, parseJsonObject } from './json-value';

describe('asObject', () => {
  it('returns an object as it is', () => {
    const o = { a: 1 };
    expect(asObject(o)).toBe(o);
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['undefined', undefined],
    ['an array', [1, 2]],
    ['a string', '{}'],
    ['a number', 0],
    ['a boolean', true],
  ])('is undefined for %s', (_label, value) => {
    expect(asObject(value)).toBeUndefined();
  });
});

describe('asString', () => {
  it('returns a string, even an empty one', () => {
    expect(asString('x')).toBe('x');
    expect(asString('')).toBe('');
  });

  it.each<[unknown]>([[1], [null], [undefined], [['x']], [{ toString: () => 'x' }]])('is undefined for %j', (value) => {
    expect(asString(value)).toBeUndefined();
  });
});

describe('member', () => {
  const statement = { predicate: { buildDefinition: { externalParameters: { release: { name: 'a' } } } }, list: [{ x: 1 }] };

  it('follows a chain of objects', () => {
    expect(member(statement, 'predicate', 'buildDefinition', 'externalParameters', 'release', 'name')).toBe('a');
  });

  it('is the value itself for an empty path', () => {
    expect(member(statement)).toBe(statement);
  });

  it('is undefined when a link is missing, not an object, or an array', () => {
    expect(member(statement, 'predicate', 'missing', 'release')).toBeUndefined();
    expect(member(statement, 'predicate', 'buildDefinition', 'externalParameters', 'release', 'name', 'length')).toBeUndefined();
    expect(member(statement, 'list', '0', 'x')).toBeUndefined();
    expect(member(null, 'a')).toBeUndefined();
  });
});

describe('parseJsonObject', () => {
  it('parses a JSON object', () => {
    expect(parseJsonObject('{"a":{"b":[1,"2"]}}')).toEqual({ a: { b: [1, '2'] } });
  });

  it.each(['', 'not json', '{"a":', '[]', '[{"a":1}]', 'null', '1', '"text"', 'true'])('is undefined for %j', (text) => {
    expect(parseJsonObject(text)).toBeUndefined();
  });
});
