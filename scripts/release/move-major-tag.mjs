// semantic-release success: moves the major tag (v1) to the release just made,
// so consumers pinning @v1 get it. Pushes with GITHUB_TOKEN in Actions (the
// checkout keeps no credentials), else to PI_IMAGE_RELEASE_REMOTE or origin.
import { execFileSync } from 'node:child_process';

const [version] = process.argv.slice(2);
const m = /^(\d+)\.\d+\.\d+$/.exec(version ?? '');
if (!m) {
  console.log(`move-major-tag: ${version} is a prerelease or not a version; no major tag moved`);
  process.exit(0);
}
const major = `v${m[1]}`;
const git = (...args) => execFileSync('git', args, { stdio: ['ignore', 'inherit', 'inherit'] });
git('tag', '--force', major, `v${version}^{}`);
const { GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_SERVER_URL, PI_IMAGE_RELEASE_REMOTE } = process.env;
let remote = PI_IMAGE_RELEASE_REMOTE ?? 'origin';
if (!PI_IMAGE_RELEASE_REMOTE && GITHUB_TOKEN && GITHUB_REPOSITORY) {
  const server = new URL(GITHUB_SERVER_URL ?? 'https://github.com');
  remote = `${server.protocol}//x-access-token:${GITHUB_TOKEN}@${server.host}/${GITHUB_REPOSITORY}.git`;
}
try {
  execFileSync('git', ['push', '--force', remote, `refs/tags/${major}`], { stdio: ['ignore', 'inherit', 'pipe'] });
} catch (e) {
  // Never print the remote: it may hold the token.
  console.error(`move-major-tag: pushing ${major} failed: ${String(e.stderr ?? '').replaceAll(GITHUB_TOKEN ?? '\u0000', '***')}`);
  process.exit(1);
}
console.log(`${major} now points at v${version}`);
