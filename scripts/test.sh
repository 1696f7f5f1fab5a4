#!/usr/bin/env bash
# The whole suite: set-up, typecheck (tsc -b), lint, unit + static + integration tests against a
# real Temporal dev server, a real PostgreSQL and real worker processes. `.ci/run` runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
printf '[test] lint and format\n' >&2
npx eslint --max-warnings 0 .
# One formatter (Prettier, 120 columns); `npm run format` fixes what this names.
npx prettier --check --log-level warn .
printf '[test] vitest\n' >&2
mkdir -p test-results
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=test-results/vitest.json "$@" || status=$?
# A plain closing line that any CI reader understands.
node -e '
  const r = JSON.parse(require("fs").readFileSync("test-results/vitest.json", "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
' || true
exit "$status"
