// Builds the committed bundles: the CLI (for Node 20 and later) and one bundle
// per action (for the node24 runtime), then regenerates each action's README
// from its action.yml. Deterministic: the same source gives the same bytes, so
// scripts/check-dist.sh can fail on any drift.
import { build } from 'esbuild';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderActionReadme } from './action-readme.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  legalComments: 'none',
  logLevel: 'warning',
  sourcemap: false,
  // Keep bundles readable for people who audit what runs on their runners.
  minify: false,
  keepNames: true,
};

await build({
  ...common,
  entryPoints: [join(root, 'src/cli/main.ts')],
  outfile: join(root, 'dist/cli/pi-image.cjs'),
  target: 'node20',
});

const actionsDir = join(root, 'actions');
for (const name of readdirSync(actionsDir).sort()) {
  const entry = join(actionsDir, name, 'src/index.ts');
  if (!existsSync(entry)) continue;
  await build({ ...common, entryPoints: [entry], outfile: join(actionsDir, name, 'dist/index.cjs'), target: 'node24' });
  const yamlText = readFileSync(join(actionsDir, name, 'action.yml'), 'utf8');
  const docs = join(root, 'docs/actions', `${name}.md`);
  const usageFile = join(root, 'docs/actions', `${name}.usage.yml`);
  const usage = existsSync(usageFile) ? readFileSync(usageFile, 'utf8') : `- uses: OWNER/pi-image-release/actions/${name}@v1\n`;
  const extra = existsSync(docs) ? readFileSync(docs, 'utf8') : '';
  writeFileSync(join(actionsDir, name, 'README.md'), renderActionReadme(name, yamlText, usage, extra));
}
