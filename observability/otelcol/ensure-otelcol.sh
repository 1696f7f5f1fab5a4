#!/usr/bin/env bash
# Prints the path of OpsConductor's slim OpenTelemetry Collector (main.go beside this script: the OTLP
# receiver and the file exporter, every module at one collector release, pinned by go.mod and go.sum),
# building it with the Go module proxy when missing. The trace test (tests/integration/tracing.test.ts)
# runs it as its OTLP receiver; docs/tracing.md tells how to run it by hand. Go 1.26 or newer is needed.
# The binary lives outside the work tree, one folder per collector release, shared by every clone:
#   ${XDG_CACHE_HOME:-~/.cache}/opsconductor/otelcol/<version>/otelcol
# A stamp of the sources (main.go, go.mod, go.sum) beside it: changed sources are built again.
# Progress goes to stderr; stdout carries only the path.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
version=$(sed -n 's/^const version = "\(.*\)"$/\1/p' "$here/main.go")
[ -n "$version" ] || { echo "otelcol: no version constant in $here/main.go" >&2; exit 1; }
cache="${XDG_CACHE_HOME:-$HOME/.cache}/opsconductor/otelcol/$version"
stamp=$(cat "$here/main.go" "$here/go.mod" "$here/go.sum" | sha256sum | cut -d' ' -f1)

built() { [ -x "$cache/otelcol" ] && [ "$(cat "$cache/source.sha256" 2>/dev/null)" = "$stamp" ]; }
if built; then echo "$cache/otelcol"; exit 0; fi
if [ "${1:-}" = "--cached" ]; then exit 1; fi
if ! command -v go >/dev/null 2>&1; then
  echo "otelcol: go (1.26 or newer) is required to build the collector $version" >&2; exit 1
fi

mkdir -p "$cache"
# One build at a time per machine: a second caller waits for the first and then finds the binary.
exec 9>"$cache/.build.lock"
# A build that hangs does not hold every later caller forever.
if ! flock -w 900 9; then echo "otelcol: another build of $version has held the lock for 15 minutes" >&2; exit 1; fi
if built; then echo "$cache/otelcol"; exit 0; fi
# What a build killed before it could clean up left behind (under the lock: no build runs now).
rm -rf "$cache"/.build.??????
echo "otelcol: building the collector $version (a few minutes the first time)" >&2
work=$(mktemp -d "$cache/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
started=$(date +%s)
# No CGO: a static binary; -mod=readonly: go.sum pins every module, nothing is resolved anew.
(cd "$here" && CGO_ENABLED=0 go build -mod=readonly -trimpath -ldflags='-s -w' -o "$work/otelcol" .) >&2
echo "$stamp" > "$work/source.sha256"
# The binary and its stamp appear whole or not at all: a half-finished build never looks installed.
mv "$work/otelcol" "$cache/otelcol.new"
mv "$cache/otelcol.new" "$cache/otelcol"
mv "$work/source.sha256" "$cache/source.sha256"
echo "otelcol: built in $(($(date +%s) - started)) s" >&2
echo "$cache/otelcol"
