#!/bin/bash
# npm run bench:package: see run.mjs.
set -euo pipefail
exec node "$(dirname "$0")/run.mjs" "$@"
