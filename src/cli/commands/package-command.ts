import { packageRelease } from '../../lib/release/package';
import { checkIntegerInRange, parseSourceDateEpoch } from '../../lib/core/values';
import { checkChannel, type PackageOptions } from '../../lib/release/package-options';
import { mergeProvenance, provenanceFromEnv } from '../../lib/release/provenance';
import type { CliCommand } from '../command';
import { usageError } from '../command';

export const packageCommand: CliCommand = {
  name: 'package',
  summary: "turn pi-gen's deploy/ directory into a checked release directory",
  usage: 'pi-image package DEPLOY_DIR --out RELEASE_DIR [options]',
  help: `Finds the image pi-gen left in DEPLOY_DIR (zip, gz, xz or plain .img, by
pi-gen's own naming rules), and writes RELEASE_DIR with: NAME.img.xz,
checksums, NAME.bmap, build.log, NAME.info, an SPDX SBOM, metadata.json,
manifest.json and RELEASE_NOTES.md. The directory appears only when complete.

Options:
  --out DIR                 release directory to write (required)
  --name NAME               base of every file name (default: pi-gen's image name without its date)
  --version V               version of this release (default: dev)
  --channel C               nightly (default) or stable
  --image FILE              which image, when DEPLOY_DIR holds several
  --info FILE               pi-gen's .info (default: beside the image)
  --build-log FILE          pi-gen's build.log (default: DEPLOY_DIR/build.log)
  --compression-level N     xz preset 0-9 (default: 6); an .img.xz is never recompressed
  --threads N               xz threads (default: 0 = one per core)
  --product-release FILE    the product's KEY=VALUE file inside the image (default: /etc/ourbox/release)
  --recipe-repository URL   recorded in metadata (default: from GITHUB_* when set)
  --recipe-commit SHA       recorded in metadata (default: GITHUB_SHA)
  --recipe-ref REF          recorded in metadata (default: GITHUB_REF)
  --force                   replace RELEASE_DIR if it exists
  --json                    print the result as JSON on stdout

SOURCE_DATE_EPOCH, when set, fixes every timestamp: the same input gives
byte-identical files.`,
  options: {
    out: { type: 'string' },
    name: { type: 'string' },
    version: { type: 'string' },
    channel: { type: 'string' },
    image: { type: 'string' },
    info: { type: 'string' },
    'build-log': { type: 'string' },
    'compression-level': { type: 'string' },
    threads: { type: 'string' },
    'product-release': { type: 'string' },
    'recipe-repository': { type: 'string' },
    'recipe-commit': { type: 'string' },
    'recipe-ref': { type: 'string' },
    force: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run({ values, positionals, logger, env, stdout }) {
    if (positionals.length !== 1) throw usageError('package needs exactly one DEPLOY_DIR');
    const out = values.out as string | undefined;
    if (!out) throw usageError('package needs --out RELEASE_DIR');
    const str = (k: string): string | undefined => values[k] as string | undefined;
    const options: PackageOptions = {
      deployDir: positionals[0]!,
      outDir: out,
      name: str('name'),
      version: str('version'),
      channel: str('channel') === undefined ? undefined : checkChannel(str('channel')!),
      image: str('image'),
      info: str('info'),
      buildLog: str('build-log'),
      compressionLevel: str('compression-level') === undefined ? undefined : checkIntegerInRange(str('compression-level')!, 0, 9, 'compression-level'),
      threads: str('threads') === undefined ? undefined : checkIntegerInRange(str('threads')!, 0, 1024, 'threads'),
      productReleaseFile: str('product-release'),
      force: values.force === true,
      sourceDateEpoch: parseSourceDateEpoch(env.SOURCE_DATE_EPOCH),
      provenance: mergeProvenance(provenanceFromEnv(env), {
        recipe: { repository: str('recipe-repository'), commit: str('recipe-commit'), ref: str('recipe-ref') },
      }),
      logger,
    };
    const result = await packageRelease(options);
    if (values.json) {
      stdout(`${JSON.stringify({ releaseDir: result.releaseDir, paths: result.paths, manifest: result.manifest, warnings: result.warnings }, null, 2)}\n`);
    } else {
      stdout(`${result.releaseDir}\n`);
    }
    return 0;
  },
};
