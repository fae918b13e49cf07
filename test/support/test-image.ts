/**
 * The real test image: Debian arm64 packages (mmdebstrap + qemu-user-static)
 * laid out as pi-gen's export-image lays one out. Built once by
 * scripts/test-image/build-test-image.sh and cached outside the repository,
 * keyed on the script's content, so CI pays for it once per machine.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isRoot, missingTools } from './tools';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = join(REPO_ROOT, 'scripts/test-image/build-test-image.sh');

export interface TestImage {
  dir: string;
  img: string;
  info: string;
}

/** Everything the image is made from: the builder and the product's stage scripts. */
function inputs(): string[] {
  const stage = join(REPO_ROOT, 'pigen/stages/stage-ourbox-mini');
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true })
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
  return [SCRIPT, ...walk(stage)];
}

export function testImageDir(): string {
  const hash = createHash('sha256');
  for (const file of inputs()) hash.update(file.slice(REPO_ROOT.length)).update(readFileSync(file));
  return join(process.env.PI_IMAGE_TEST_CACHE ?? join(homedir(), '.cache', 'pi-image-release'), `test-image-${hash.digest('hex').slice(0, 12)}`);
}

function found(dir: string): TestImage | undefined {
  if (!existsSync(dir)) return undefined;
  const names = readdirSync(dir);
  const img = names.find((n) => n.endsWith('.img'));
  const info = names.find((n) => n.endsWith('.info'));
  return img && info ? { dir, img: join(dir, img), info: join(dir, info) } : undefined;
}

/** Why the real image cannot be had here, or undefined when it can. */
export function testImageUnavailable(): string | undefined {
  if (found(testImageDir())) return undefined;
  if (!isRoot()) return 'building the arm64 test image needs root (mmdebstrap, chroot)';
  const missing = missingTools(['mmdebstrap', 'mkfs.vfat', 'mcopy', 'mkfs.ext4', 'sfdisk', 'update-binfmts']);
  if (missing.length > 0) return `building the arm64 test image needs: ${missing.join(', ')}`;
  if (!existsSync('/usr/bin/qemu-aarch64-static') && process.arch !== 'arm64') return 'building the arm64 test image needs qemu-user-static';
  return undefined;
}

/** The cached image, built first when missing (a few minutes). */
export function ensureTestImage(): TestImage {
  const dir = testImageDir();
  const have = found(dir);
  if (have) return have;
  console.log(`building the arm64 test image into ${dir} (once per machine, a few minutes)`);
  execFileSync('bash', [SCRIPT, dir], { stdio: 'inherit' });
  const built = found(dir);
  if (!built) throw new Error(`${SCRIPT} finished but ${dir} holds no image`);
  return built;
}

/** The cached image when present, without building it. */
export function cachedTestImage(): TestImage | undefined {
  return found(testImageDir());
}
