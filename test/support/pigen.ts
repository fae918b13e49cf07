/**
 * Upstream pi-gen at the pinned commit, for the tests that drive it: the one
 * given in PI_GEN_DIR, else the vendor/pi-gen submodule when it is checked
 * out, else a clone of the shared git bundle of the pinned commit (the way CI
 * gets it: CI cannot reach GitHub), made once into the cache directory.
 * pi-gen's files are never copied into the project.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './test-image';

const PIN = JSON.parse(readFileSync(join(REPO_ROOT, 'vendor/pi-gen.json'), 'utf8')) as { commit: string };

/** The shared bundle of the pinned commit: PI_GEN_BUNDLE, or `pi-gen-<commit prefix>.bundle` in ../shared/vendor. */
function bundlePath(): string | undefined {
  if (process.env.PI_GEN_BUNDLE) return process.env.PI_GEN_BUNDLE;
  const dir = join(REPO_ROOT, '..', 'shared', 'vendor');
  if (!existsSync(dir)) return undefined;
  const found = readdirSync(dir).find((n) => n.startsWith(`pi-gen-${PIN.commit.slice(0, 8)}`) && n.endsWith('.bundle'));
  return found ? join(dir, found) : undefined;
}

/** The pinned pi-gen's directory, or why there is none. */
export function testPiGen(): { dir: string; source: string } | { why: string } {
  const given = [process.env.PI_GEN_DIR, join(REPO_ROOT, 'vendor/pi-gen')].find((d) => d && existsSync(join(d, 'build.sh')));
  if (given) return { dir: given, source: given === process.env.PI_GEN_DIR ? 'PI_GEN_DIR' : 'the vendor/pi-gen submodule' };
  const bundle = bundlePath();
  if (!bundle)
    return { why: 'pi-gen is not present: set PI_GEN_DIR, check out vendor/pi-gen, or put the pinned git bundle in ../shared/vendor (or PI_GEN_BUNDLE)' };
  const dir = join(process.env.PI_IMAGE_CACHE ?? join(homedir(), '.cache', 'pi-image-release'), `pi-gen-${PIN.commit}`);
  if (!existsSync(join(dir, 'build.sh'))) {
    const temp = `${dir}.partial-${process.pid}`;
    rmSync(temp, { recursive: true, force: true });
    execFileSync('git', ['clone', '--quiet', '--no-checkout', bundle, temp], { stdio: 'ignore' });
    execFileSync('git', ['-C', temp, 'checkout', '--quiet', PIN.commit], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
    renameSync(temp, dir);
  }
  const head = execFileSync('git', ['-C', dir, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  if (head !== PIN.commit) return { why: `${dir} is at ${head}, not the pinned ${PIN.commit}` };
  return { dir, source: `a clone of ${bundle}` };
}
