import { describe, expect, it } from 'vitest';
import { PiImageError } from './errors';
import { checkSafeName, isPlainFileName, isSafeName, SAFE_NAME_MAX } from './safe-name';

describe('isSafeName', () => {
  it.each(['appliance', 'ourbox-mini', '1.2.3', '1.2.3+build.7', 'v1_0', 'A', '9', 'a'.repeat(SAFE_NAME_MAX)])('accepts %j', (value) => {
    expect(isSafeName(value)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['starting with a dot', '.hidden'],
    ['starting with a dash', '-rf'],
    ['starting with an underscore', '_x'],
    ['holding ".."', 'a..b'],
    ['a slash', 'a/b'],
    ['a backslash', 'a\\b'],
    ['a space', 'a b'],
    ['a colon', 'a:b'],
    ['a trailing newline', 'a\n'],
    ['a NUL', 'a\0'],
    ['non-ASCII letters', 'ré'],
    ['one character too many', 'a'.repeat(SAFE_NAME_MAX + 1)],
  ])('refuses a name %s', (_label, value) => {
    expect(isSafeName(value)).toBe(false);
  });
});

describe('isPlainFileName', () => {
  it.each(['appliance.img.xz', 'manifest.json', '_config', 'a+b-c_d.e', 'a'.repeat(255)])('accepts %j', (value) => {
    expect(isPlainFileName(value)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['hidden', '.bashrc'],
    ['"."', '.'],
    ['".."', '..'],
    ['holding ".."', 'a..b'],
    ['in a directory', 'sub/x'],
    ['absolute', '/etc/passwd'],
    ['starting with a dash', '-x'],
    ['with a space', 'a b'],
    ['longer than 255', 'a'.repeat(256)],
  ])('refuses a name %s', (_label, value) => {
    expect(isPlainFileName(value)).toBe(false);
  });
});

describe('checkSafeName', () => {
  it('returns a safe name unchanged', () => {
    expect(checkSafeName('ourbox-mini', '--name')).toBe('ourbox-mini');
  });

  it('refuses an unsafe name with INPUT_INVALID, naming the input and the value', () => {
    let error: unknown;
    try {
      checkSafeName('../etc', '--name');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PiImageError);
    expect(error).toMatchObject({
      code: 'INPUT_INVALID',
      message: `--name "../etc" cannot be used in file names: use letters, digits, '.', '_', '+' and '-' (at most 128, starting with a letter or digit)`,
    });
  });
});
