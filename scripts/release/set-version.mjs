// semantic-release prepare: writes the version into package.json and
// package-lock.json and rebuilds the CLI and action bundles, which embed it;
// @semantic-release/git commits them with the changelog.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const [version] = process.argv.slice(2);
if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version ?? '')) {
  console.error(`set-version: "${version}" is not a semantic version`);
  process.exit(2);
}
for (const file of ['package.json', 'package-lock.json'].filter((f) => existsSync(f))) {
  const json = JSON.parse(readFileSync(file, 'utf8'));
  json.version = version;
  if (json.packages?.['']) json.packages[''].version = version;
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
}
if (process.env.PI_IMAGE_RELEASE_SKIP_BUILD !== '1') execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
