// Every action's README is generated from its action.yml; a hand edit or a
// stale README fails here (and in scripts/check-dist.sh).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript module shared with scripts/build.mjs
import { renderActionReadme } from './action-readme.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const actions = readdirSync(join(root, 'actions')).filter((n) => existsSync(join(root, 'actions', n, 'action.yml')));

describe('action READMEs', () => {
  it('there is at least one action', () => expect(actions.length).toBeGreaterThan(0));
  it.each(actions)('actions/%s/README.md matches its action.yml', (name) => {
    const read = (p: string, fallback = ''): string => (existsSync(join(root, p)) ? readFileSync(join(root, p), 'utf8') : fallback);
    const expected = renderActionReadme(
      name,
      read(`actions/${name}/action.yml`),
      read(`docs/actions/${name}.usage.yml`, `- uses: OWNER/pi-image-release/actions/${name}@v1\n`),
      read(`docs/actions/${name}.md`),
    );
    expect(read(`actions/${name}/README.md`)).toBe(expected);
  });
});
