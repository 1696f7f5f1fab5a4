#!/usr/bin/env bash
# Prints the folder holding the real Temporal server (`temporal-server`, from go.temporal.io/server/cmd/server)
# and its SQL schema tool (`temporal-sql-tool`, from cmd/tools/sql), building both with `go install` from the
# Go module proxy when missing. The cluster test suite (tests/cluster/, docs/temporal-cluster.md) runs them.
# The version is the one docker-compose.yml runs (a static test compares the two). Go 1.25 or newer is needed.
# The binaries live outside the work tree, one folder per version, shared by every clone and worktree:
#   ${XDG_CACHE_HOME:-~/.cache}/opsconductor/temporal-server/<version>/bin/{temporal-server,temporal-sql-tool}
# Progress goes to stderr; stdout carries only the folder.
set -euo pipefail
server_version=v1.29.1
cache="${XDG_CACHE_HOME:-$HOME/.cache}/opsconductor/temporal-server/$server_version"
bin="$cache/bin"

if [ -x "$bin/temporal-server" ] && [ -x "$bin/temporal-sql-tool" ]; then echo "$bin"; exit 0; fi
if ! command -v go >/dev/null 2>&1; then
  echo "temporal-server: go (1.25 or newer) is required to build the Temporal server $server_version" >&2; exit 1
fi

mkdir -p "$cache"
# One build at a time per machine: a second caller waits for the first and then finds the binaries.
exec 9>"$cache/.build.lock"
# A build that hangs does not hold every later caller forever.
if ! flock -w 1800 9; then echo "temporal-server: another build of $server_version has held the lock for 30 minutes" >&2; exit 1; fi
if [ -x "$bin/temporal-server" ] && [ -x "$bin/temporal-sql-tool" ]; then echo "$bin"; exit 0; fi
# What a build killed before it could clean up left behind (under the lock: no build runs now).
rm -rf "$cache"/.build.??????
echo "temporal-server: building go.temporal.io/server $server_version (server and temporal-sql-tool; several minutes the first time)" >&2
work=$(mktemp -d "$cache/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
started=$(date +%s)
# No CGO: the server's SQL plugins are pure Go, and static binaries do not depend on the machine's libc.
GOBIN="$work/bin" CGO_ENABLED=0 go install \
  "go.temporal.io/server/cmd/server@$server_version" \
  "go.temporal.io/server/cmd/tools/sql@$server_version" >&2
mv "$work/bin/server" "$work/bin/temporal-server"
mv "$work/bin/sql" "$work/bin/temporal-sql-tool"
# The folder appears whole or not at all: a half-finished build never looks installed.
rm -rf "$bin"
mv "$work/bin" "$bin"
echo "temporal-server: built in $(($(date +%s) - started)) s" >&2
echo "$bin"
