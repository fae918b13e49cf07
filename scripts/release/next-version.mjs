// Prints `version=X.Y.Z` for $GITHUB_OUTPUT: the version semantic-release would
// release now (dry run, nothing pushed). --channel stable: empty when there is
// nothing to release. --channel nightly: always a version, a prerelease of the
// next one: X.Y.Z-nightly.YYYYMMDD.BUILD (the next patch when nothing is due).
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import semanticRelease from 'semantic-release';

const { values } = parseArgs({
  options: { channel: { type: 'string', default: 'stable' }, build: { type: 'string', default: '0' }, date: { type: 'string' } },
});
if (!['stable', 'nightly'].includes(values.channel)) {
  console.error(`next-version: --channel "${values.channel}": use stable or nightly`);
  process.exit(2);
}
if (!/^\d+$/.test(values.build)) {
  console.error(`next-version: --build "${values.build}" is not a number`);
  process.exit(2);
}
// semantic-release's own log goes nowhere (stdout is for GITHUB_OUTPUT); errors still reach stderr.
const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });
const result = await semanticRelease(
  { dryRun: true, ci: false },
  { cwd: process.cwd(), env: { ...process.env, PI_IMAGE_RELEASE_NO_GITHUB: process.env.GITHUB_TOKEN ? '' : '1' }, stdout: quiet, stderr: process.stderr },
);
let version = result ? result.nextRelease.version : '';
if (values.channel === 'nightly') {
  const base = version || bumpPatch(result ? result.lastRelease.version : await lastVersion());
  const date = values.date ?? new Date().toISOString().slice(0, 10).replaceAll('-', '');
  version = `${base}-nightly.${date}.${values.build}`;
}
console.log(`version=${version}`);

function bumpPatch(v) {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(v || '0.0.0');
  return `${m[1]}.${m[2]}.${Number(m[3]) + 1}`;
}
async function lastVersion() {
  const { execFileSync } = await import('node:child_process');
  try {
    // The highest vX.Y.Z reachable from HEAD (not the moving major tag vN).
    const tags = execFileSync('git', ['tag', '--merged', 'HEAD', '--list', 'v*.*.*', '--sort=-v:refname'], { encoding: 'utf8' }).split('\n');
    return (tags.find((t) => /^v\d+\.\d+\.\d+$/.test(t.trim())) ?? 'v0.0.0').trim().slice(1);
  } catch {
    return '0.0.0';
  }
}
