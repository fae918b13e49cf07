import { defaultCacheDir } from '../../lib/core/cache-dir';
import { removeBuildContainer, runBuild } from '../../lib/build/build';
import { prepareBuild } from '../../lib/build/build-request';
import { parseRuntime, type ResolvedRuntime } from '../../lib/build/runtime';
import { checkSafeName } from '../../lib/core/safe-name';
import { checkIntegerInRange, parseSourceDateEpoch } from '../../lib/core/values';
import { DEFAULT_VERSION } from '../../lib/release/package-options';
import type { CliCommand } from '../command';
import { usageError } from '../command';

export const buildCommand: CliCommand = {
  name: 'build',
  summary: 'build an image with upstream pi-gen and your own stages',
  usage: 'pi-image build --config FILE [--version V] [--runtime R] [--set KEY=VALUE]... [options]',
  help: `Runs pi-gen at the pinned commit (vendor/pi-gen, PI_GEN_DIR, or a checkout it
makes itself) with the settings and stages of a product config file (KEY=VALUE
lines, see pigen/config/ourbox-mini.env). Every value is checked and quoted
into pi-gen's config. File names come from IMG_NAME and the version, not the
date. Output is followed live, folded by stage; a failure names the stage and
step. deploy/ (image, .info, build.log, pi-image-build.json naming the pi-gen and
recipe commits) ends up in the work directory, ready for 'pi-image package'.

EXPORT=rootless in the config (native runtime) exports with pi-image's own
stage instead of pi-gen's export-image: no loop device, no mount, layouts
pigen, ab-tryboot or custom (EXPORT_LAYOUT), byte-identical images with
SOURCE_DATE_EPOCH. See docs/building.md.

Options:
  --config FILE             product config (KEY=VALUE; STAGE_LIST, OVERRIDES and pi-gen variables)
  --set KEY=VALUE           override or add a variable (repeatable); typed ones are checked
  --version V               version being built: file names, PI_IMAGE_VERSION (default: dev)
  --runtime R               auto (default), docker, podman, nerdctl or native
  --work-dir DIR            config, work tree and deploy/ (default: build)
  --base-dir DIR            where relative stage paths start (default: the current directory)
  --pigen-dir DIR           use this pi-gen checkout (default: PI_GEN_DIR, then vendor/pi-gen)
  --pigen-repository URL    clone from here when no checkout is given (default: the pinned one)
  --pigen-ref REF           clone this ref instead of the pinned commit
  --recipe-git-hash SHA     the recipe commit recorded in the image (default: git rev-parse HEAD)
  --continue                continue the last build: its container (pi-gen CONTINUE=1), or, natively,
                            its work tree (pi-gen reuses every stage rootfs it finds there);
                            without it a build starts from an empty work tree and a new build.log
  --keep-container          leave the build container for inspection
  --min-free-gb N           preflight: free space needed in the work directory (default: 10)
  --install-emulation       apt-get install qemu-user-static when missing (x86 hosts)
  --apt-cache DIR           keep downloaded .deb files in DIR for the next build (an apt proxy
                            on this host, given to pi-gen as APT_PROXY; native and docker)
  --stage-cache DIR         keep each stage's resulting rootfs in DIR (native, as root): a build
                            whose first stages did not change restores them and runs only the
                            rest; keyed on the pi-gen commit, each stage's files, the settings it
                            sees and every earlier stage

The first user's password is read from PI_IMAGE_FIRST_USER_PASS, never from
the command line. SOURCE_DATE_EPOCH sets IMG_DATE.`,
  options: {
    config: { type: 'string' },
    set: { type: 'string', multiple: true },
    version: { type: 'string' },
    runtime: { type: 'string' },
    'work-dir': { type: 'string' },
    'base-dir': { type: 'string' },
    'pigen-dir': { type: 'string' },
    'pigen-repository': { type: 'string' },
    'pigen-ref': { type: 'string' },
    'recipe-git-hash': { type: 'string' },
    continue: { type: 'boolean' },
    'keep-container': { type: 'boolean' },
    'min-free-gb': { type: 'string' },
    'install-emulation': { type: 'boolean' },
    'apt-cache': { type: 'string' },
    'stage-cache': { type: 'string' },
  },
  async run({ values, positionals, logger, env, stdout }) {
    if (positionals.length > 0) throw usageError(`build takes no positional arguments (got ${positionals.join(' ')})`);
    const str = (k: string): string | undefined => values[k] as string | undefined;
    if (!str('config') && !((values.set as unknown as string[] | undefined) ?? []).length)
      throw usageError('build needs --config FILE (or --set for every setting)');
    const options = await prepareBuild({
      configFile: str('config'),
      settings: (values.set as unknown as string[] | undefined) ?? [],
      version: checkSafeName(str('version') ?? DEFAULT_VERSION, '--version'),
      runtime: parseRuntime(str('runtime') ?? 'auto', '--runtime'),
      workDir: str('work-dir') ?? 'build',
      baseDir: str('base-dir') ?? process.cwd(),
      pigenDir: str('pigen-dir') ?? env.PI_GEN_DIR,
      pigenRepository: str('pigen-repository'),
      pigenRef: str('pigen-ref'),
      cacheDir: defaultCacheDir(env),
      recipeGitHash: str('recipe-git-hash'),
      resume: values.continue === true,
      minFreeGiB: str('min-free-gb') === undefined ? undefined : checkIntegerInRange(str('min-free-gb')!, 0, 100000, '--min-free-gb'),
      installEmulation: values['install-emulation'] === true,
      aptCacheDir: str('apt-cache'),
      stageCacheDir: str('stage-cache'),
      firstUserPass: env.PI_IMAGE_FIRST_USER_PASS,
      sourceDateEpoch: parseSourceDateEpoch(env.SOURCE_DATE_EPOCH),
      isRoot: typeof process.getuid === 'function' && process.getuid() === 0,
      arch: process.arch,
      logger,
    });
    let runtime: ResolvedRuntime | undefined;
    try {
      const result = await runBuild({ ...options, onContainer: (r) => (runtime = r) });
      stdout(
        `${JSON.stringify({ deployDir: result.deployDir, image: result.imagePath ?? null, buildLog: result.buildLog, pigenCommit: result.pigenCommit }, null, 2)}\n`,
      );
    } finally {
      if (runtime && values['keep-container'] !== true) await removeBuildContainer(runtime, options.containerName, logger);
    }
    return 0;
  },
};
