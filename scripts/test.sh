#!/usr/bin/env bash
# The whole suite: set-up, typecheck (tsc -b), lint, unit + static + integration tests against a
# real Temporal dev server, a real PostgreSQL and real worker processes. `.ci/run` runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
printf '[test] lint\n' >&2
npx eslint --max-warnings 0 .
printf '[test] vitest\n' >&2
npx vitest run "$@"
