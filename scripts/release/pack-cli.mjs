// Lays out the npm package of the pi-image CLI in OUT_DIR: the single bundled
// file (no runtime dependencies), a package.json made from this repository's
// (name, version, licence, engines; a `pi-image` bin), the licence and a short
// README. `npm publish OUT_DIR` (the release workflow, with provenance) or
// `npm pack OUT_DIR` then ships it; `npx pi-image-release@1 flash …` runs it.
//
//   node scripts/release/pack-cli.mjs OUT_DIR
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [out] = process.argv.slice(2);
if (!out) {
  console.error('usage: node scripts/release/pack-cli.mjs OUT_DIR');
  process.exit(2);
}
const bundle = 'dist/cli/pi-image.cjs';
if (!existsSync(bundle)) {
  console.error(`pack-cli: ${bundle} is missing: run npm run build first`);
  process.exit(1);
}
const root = JSON.parse(readFileSync('package.json', 'utf8'));
const manifest = {
  name: root.name,
  version: root.version,
  description: 'pi-image: package, sign, publish, pull, verify and flash Raspberry Pi OS images (one file, no dependencies).',
  license: root.license,
  keywords: ['raspberry-pi', 'pi-gen', 'flash', 'sigstore', 'oci'],
  bin: { 'pi-image': 'pi-image.cjs' },
  files: ['pi-image.cjs', 'README.md', 'LICENSE'],
  engines: root.engines,
  ...(root.repository ? { repository: root.repository } : {}),
};
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
copyFileSync(bundle, join(out, 'pi-image.cjs'));
chmodSync(join(out, 'pi-image.cjs'), 0o755);
copyFileSync('LICENSE', join(out, 'LICENSE'));
writeFileSync(join(out, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
writeFileSync(
  join(out, 'README.md'),
  `# pi-image

The command-line tool of [pi-image-release](https://github.com/${process.env.GITHUB_REPOSITORY ?? 'OWNER/pi-image-release'}):
package pi-gen's output into a checked release, sign it with Sigstore, publish it to an OCI
registry, pull and verify it anywhere, and flash it onto a device's SYSTEM disk (never a
protected DATA disk), all from one file with no dependencies. Node ${root.engines.node}.

\`\`\`sh
npx pi-image-release@${root.version.split('.')[0]} --help
sudo npx pi-image-release@${root.version.split('.')[0]} flash ghcr.io/OWNER/NAME:stable /dev/nvme0n1 --repository OWNER/NAME
\`\`\`

Or \`npm install -g pi-image-release\`, or download \`pi-image.cjs\` from a GitHub release and run
it with \`node pi-image.cjs\`.
`,
);
console.log(`pack-cli: ${manifest.name}@${manifest.version} laid out in ${out}`);
