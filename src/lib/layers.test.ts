/**
 * The library's layers and what each may import (docs/architecture.md):
 * lower layers never reach up, the library never imports GitHub's packages,
 * and the front ends (CLI, Actions adapter, actions) only reach down. A new
 * import that crosses a line fails here, naming the file and the import.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Each library layer and the layers it may import (besides itself). */
const LAYERS: Record<string, readonly string[]> = {
  core: [],
  image: ['core'],
  oci: ['core'],
  pigen: ['core', 'image'],
  export: ['core', 'image'],
  build: ['core', 'image', 'pigen', 'export'],
  release: ['core', 'image', 'pigen'],
  signing: ['core', 'release'],
  publishing: ['core', 'oci', 'release', 'signing'],
  device: ['core', 'image', 'oci', 'release', 'signing', 'publishing'],
  boot: ['core', 'image', 'oci', 'release'],
  distribution: ['core', 'image', 'oci', 'pigen', 'release', 'signing', 'publishing', 'device', 'boot'],
};

/** Packages a layer may import besides node:*, and files of the repository it reads as data. */
const PACKAGES: Record<string, RegExp> = {
  signing: /^@sigstore\//,
  // cloud-init's user-data written by a YAML writer, so no setting becomes syntax.
  distribution: /^yaml$/,
};
const DATA: Record<string, readonly string[]> = {
  pigen: ['vendor/pi-gen.json'],
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [path] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+'([^']+)'/gm), ...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)].map((m) => m[1]!);
}

/** Where an import lands: a library layer, another part of the repository, or a package. */
function target(file: string, spec: string): string {
  if (spec.startsWith('node:')) return 'node';
  if (!spec.startsWith('.')) return `package:${spec}`;
  const path = relative(root, resolve(dirname(file), spec));
  const lib = /^src\/lib\/([^/]+)\//.exec(path);
  if (lib) return `lib/${lib[1]}`;
  if (path === 'src/lib/version' || path === 'package.json') return 'lib/version';
  if (path.endsWith('.json')) return `data:${path}`;
  return path.split('/').slice(0, 2).join('/');
}

describe('layers', () => {
  it('every library folder is a known layer', () => {
    const folders = readdirSync(join(root, 'src/lib'), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
    expect(folders).toEqual(Object.keys(LAYERS).sort());
  });

  it('each library layer imports only the layers below it and no GitHub package', () => {
    const crossings: string[] = [];
    for (const [layer, allowed] of Object.entries(LAYERS)) {
      for (const file of sources(join(root, 'src/lib', layer))) {
        for (const spec of imports(file)) {
          const t = target(file, spec);
          const ok =
            t === 'node' ||
            t === `lib/${layer}` ||
            t === 'lib/version' ||
            allowed.some((a) => t === `lib/${a}`) ||
            (DATA[layer] ?? []).some((d) => t === `data:${d}`) ||
            (t.startsWith('package:') && (PACKAGES[layer]?.test(spec) ?? false));
          if (!ok) crossings.push(`${relative(root, file)} imports ${spec}`);
        }
      }
    }
    expect(crossings).toEqual([]);
  });

  it('the front ends reach only down: the CLI not into the Actions adapter, the adapter not into the CLI, an action not into another', () => {
    const crossings: string[] = [];
    const check = (dir: string, allowed: (t: string) => boolean): void => {
      for (const file of sources(join(root, dir))) {
        for (const spec of imports(file)) if (!allowed(target(file, spec))) crossings.push(`${relative(root, file)} imports ${spec}`);
      }
    };
    check('src/cli', (t) => t === 'node' || t.startsWith('lib/') || t === 'src/cli');
    check('src/github', (t) => t === 'node' || t.startsWith('lib/') || t === 'src/github' || t.startsWith('package:@actions/'));
    for (const action of readdirSync(join(root, 'actions'))) {
      check(
        `actions/${action}/src`,
        (t) => t === 'node' || t.startsWith('lib/') || t === 'src/github' || t === `actions/${action}` || t.startsWith('package:@actions/'),
      );
    }
    expect(crossings).toEqual([]);
  });
});
