// The library knows nothing of GitHub: only src/github/ and the action entries
// may import @actions/*. The CLI and the library must stay usable on a device.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : name.endsWith('.ts') ? [path] : [];
  });
}

describe('library boundary', () => {
  it.each(['src/lib', 'src/cli'])('%s imports no @actions/* package', (dir) => {
    const offenders = sources(join(root, dir)).filter((f) => /from ['"]@actions\//.test(readFileSync(f, 'utf8')));
    expect(offenders.map((f) => relative(root, f))).toEqual([]);
  });

  it('the library imports nothing from the front ends', () => {
    const offenders = sources(join(root, 'src/lib')).filter((f) => /from ['"](\.\.\/)+(cli|github)\//.test(readFileSync(f, 'utf8')));
    expect(offenders.map((f) => relative(root, f))).toEqual([]);
  });
});
