#!/bin/bash
# The project's test command (npm test): type-check, lint, shellcheck, committed
# bundles against the source, then every test (unit and integration) on Node 24,
# the actions' runtime. Ends with one line: "N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."

major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 24 ]; then
	echo "npm test runs on Node 24, the actions' runtime (see .node-version); this is $(node --version)." >&2
	echo "Install it with: npm install --prefix ~/.cache/pi-image-release/node24 node@24 and put its node_modules/.bin first on PATH." >&2
	exit 2
fi

echo "== type-check"
npx --no-install tsc -p tsconfig.json --noEmit

echo "== lint (eslint, prettier)"
npx --no-install eslint .
npx --no-install prettier --check --log-level warn "**/*.{ts,mjs,cjs,json}"
echo "lint: clean"

echo "== shellcheck"
if command -v shellcheck >/dev/null; then
	# *.sh, and the shell scripts a product stage installs without the suffix (pigen/stages/*/files/).
	mapfile -t scripts < <(
		git ls-files -- '*.sh' '.ci/run'
		git ls-files -- 'pigen/stages/*/files/*' | while read -r f; do
			case "$f" in *.sh) ;; *) head -n 1 "$f" | grep -qE '^#!/bin/(ba)?sh' && echo "$f" ;; esac
		done
	)
	shellcheck "${scripts[@]}"
	echo "shellcheck: ${#scripts[@]} scripts clean"
else
	echo "SKIPPED shellcheck: not installed (apt-get install shellcheck)"
fi

echo "== committed bundles and action READMEs"
node scripts/build.mjs --check

echo "== tests (vitest, Node $(node --version))"
mkdir -p .cache
status=0
npx --no-install vitest run --reporter=default --reporter=json --outputFile.json=.cache/vitest-results.json "$@" || status=$?
node scripts/test-summary.mjs .cache/vitest-results.json || true
exit "$status"
