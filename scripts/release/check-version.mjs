// semantic-release verifyRelease: the version about to be released must be the
// one the image was built with (EXPECTED_VERSION, from the same run), so the
// tag, the changelog, the image and its OCI tags can never disagree.
const [version] = process.argv.slice(2);
const expected = process.env.EXPECTED_VERSION;
if (expected && expected !== version) {
  console.error(`semantic-release would release ${version}, but the image was built as ${expected}: refusing (did main move?)`);
  process.exit(1);
}
console.log(`releasing ${version}${expected ? ' (the version the image was built with)' : ''}`);
