// Builds the committed bundles: the CLI (for Node 20 and later) and one bundle
// per action (for the node24 runtime), and regenerates each action's README
// from its action.yml. Deterministic: the same source gives the same bytes.
//
//   node scripts/build.mjs           write the bundles and READMEs
//   node scripts/build.mjs --check   write nothing; exit 1 naming every file
//                                    that differs from what the source builds
import { build } from 'esbuild';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderActionReadme } from './action-readme.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const check = process.argv.includes('--check');
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  legalComments: 'none',
  logLevel: 'warning',
  sourcemap: false,
  // Readable bundles: people audit what runs on their runners.
  minify: false,
  keepNames: true,
  write: false,
};

/** @type {{ path: string, contents: Uint8Array }[]} */
const outputs = [];

const cli = await build({ ...common, entryPoints: [join(root, 'src/cli/main.ts')], outfile: join(root, 'dist/cli/pi-image.cjs'), target: 'node20' });
outputs.push(...cli.outputFiles);

const actionsDir = join(root, 'actions');
for (const name of readdirSync(actionsDir).sort()) {
  const entry = join(actionsDir, name, 'src/index.ts');
  if (!existsSync(entry)) continue;
  for (const step of ['index', 'post']) {
    const source = join(actionsDir, name, `src/${step}.ts`);
    if (!existsSync(source)) continue;
    const bundle = await build({ ...common, entryPoints: [source], outfile: join(actionsDir, name, `dist/${step}.cjs`), target: 'node24' });
    outputs.push(...bundle.outputFiles);
  }
  const read = (p, fallback = '') => (existsSync(join(root, p)) ? readFileSync(join(root, p), 'utf8') : fallback);
  const readme = renderActionReadme(
    name,
    read(`actions/${name}/action.yml`),
    read(`docs/actions/${name}.usage.yml`, `- uses: OWNER/pi-image-release/actions/${name}@v1\n`),
    read(`docs/actions/${name}.md`),
  );
  outputs.push({ path: join(actionsDir, name, 'README.md'), contents: Buffer.from(readme) });
}

const stale = [];
for (const { path, contents } of outputs) {
  const current = existsSync(path) ? readFileSync(path) : undefined;
  if (current && Buffer.from(contents).equals(current)) continue;
  if (check) stale.push(relative(root, path));
  else {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, contents, path.endsWith('pi-image.cjs') ? { mode: 0o755 } : {});
  }
}
if (check) {
  if (stale.length > 0) {
    console.error(`build --check: these files differ from what the source builds (run npm run build and commit):\n  ${stale.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`build --check: ${outputs.length} bundles and READMEs match the source`);
}
