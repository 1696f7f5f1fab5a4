#!/usr/bin/env bash
# Records workflow histories for the replay test (tests/workflows/replay.test.ts): runs the
# integration files given (by default rollout.test.ts, whose jobs are approved, rejected, timed out,
# decided, paused, rolled back, cancelled and continued as new) and saves one closed history of each
# kind (`runJob`, `notifyJob`, `notifyTest`; tests/support/record-histories.ts) in
# tests/histories/<UTC date>-<commit>/, replacing a recording of the same date and commit: give every
# file a recording needs in one run (docs/workflow-versioning.md). Earlier recordings stay until
# docs/workflow-versioning.md says they may go.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
if [ "$#" -eq 0 ]; then set -- tests/integration/rollout.test.ts; fi
stamp=$(mktemp)
trap 'rm -f "$stamp"' EXIT
OPSC_RECORD_HISTORIES=1 npx vitest run --project integration "$@"
# vitest reports a failed teardown but exits 0: the new files are the proof the recording happened.
if [ -z "$(find tests/histories -name '*.json' -newer "$stamp" 2>/dev/null)" ]; then
  echo "record-histories: no history was recorded (see the teardown's output above)" >&2; exit 1
fi
find tests/histories -name '*.json' -newer "$stamp" | sort
