// semantic-release: releases from main, tags vX.Y.Z, conventional commits.
// The version it decides is the one the release workflow built into the
// image (checked: EXPECTED_VERSION), written into package.json (so the CLI
// and the committed action bundles report it) and the changelog; the GitHub
// release carries the release directories' files and the single-file CLI as
// assets (the release workflow then publishes the CLI to npm); the major tag vN
// is moved so consumers can pin @v1. See docs/releasing.md.
const assets = process.env.PI_IMAGE_RELEASE_ASSETS;

module.exports = {
  branches: ['main'],
  tagFormat: 'v${version}',
  plugins: [
    ['@semantic-release/commit-analyzer', { preset: 'conventionalcommits' }],
    ['@semantic-release/release-notes-generator', { preset: 'conventionalcommits' }],
    ['@semantic-release/changelog', { changelogFile: 'CHANGELOG.md', changelogTitle: '# Changelog' }],
    [
      '@semantic-release/exec',
      {
        verifyReleaseCmd: 'node scripts/release/check-version.mjs "${nextRelease.version}"',
        prepareCmd: 'node scripts/release/set-version.mjs "${nextRelease.version}"',
        successCmd: 'node scripts/release/move-major-tag.mjs "${nextRelease.version}"',
      },
    ],
    [
      '@semantic-release/git',
      {
        assets: ['CHANGELOG.md', 'package.json', 'package-lock.json', 'dist/cli/**', 'actions/*/dist/**', 'actions/*/README.md'],
        message: 'chore(release): ${nextRelease.version} [skip ci]\n\n${nextRelease.notes}',
      },
    ],
    ...(process.env.PI_IMAGE_RELEASE_NO_GITHUB
      ? []
      : [
          [
            '@semantic-release/github',
            {
              assets: [
                ...(assets ? [{ path: `${assets}/*/*` }] : []),
                { path: 'dist/cli/pi-image.cjs', name: 'pi-image.cjs', label: 'pi-image CLI: one file, Node 20 or later (node pi-image.cjs --help)' },
              ],
              successComment: false,
              failComment: false,
            },
          ],
        ]),
  ],
};
