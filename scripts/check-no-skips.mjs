// CI runs every test: exits 1 listing the tests that were skipped (a tool
// missing, pi-gen absent), whose reasons the run printed as "SKIPPED …".
// A developer's machine may skip; CI may not (.ci/run calls this).
//
//   node scripts/check-no-skips.mjs .cache/vitest-results.json
import { readFileSync } from 'node:fs';

const results = JSON.parse(readFileSync(process.argv[2] ?? '.cache/vitest-results.json', 'utf8'));
const skipped = results.testResults.flatMap((file) =>
  file.assertionResults
    .filter((a) => ['pending', 'todo', 'skipped'].includes(a.status))
    .map((a) => `${file.name.replace(`${process.cwd()}/`, '')}: ${a.fullName}`),
);
if (skipped.length > 0) {
  console.error(`CI runs every test, and ${skipped.length} were skipped (their reasons are printed above as SKIPPED …):\n  ${skipped.join('\n  ')}`);
  process.exit(1);
}
console.log(`every test ran: ${results.numTotalTests} tests, none skipped`);
