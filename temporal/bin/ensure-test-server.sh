#!/usr/bin/env bash
# Prints the path of a launcher for Temporal's time-skipping test server (the Java
# `io.temporal:temporal-test-server` from Maven Central), installing it when missing. The workflow tests
# (tests/workflows/) hand this path to `TestWorkflowEnvironment.createTimeSkipping` so the SDK never
# downloads a binary at run time. Needs `java` (17+) to run and `mvn` once to fetch the jars.
# The jars live outside the work tree, one folder per version, shared by every clone and worktree:
#   ${XDG_CACHE_HOME:-~/.cache}/opsconductor/temporal-test-server/<version>/{lib/*.jar,temporal-test-server}
# Progress goes to stderr; stdout carries only the path.
set -euo pipefail
version=1.38.0
cache="${XDG_CACHE_HOME:-$HOME/.cache}/opsconductor/temporal-test-server/$version"
launcher="$cache/temporal-test-server"

if [ -n "${TEMPORAL_TEST_SERVER_BIN:-}" ] && [ -x "$TEMPORAL_TEST_SERVER_BIN" ]; then echo "$TEMPORAL_TEST_SERVER_BIN"; exit 0; fi
if [ -x "$launcher" ]; then echo "$launcher"; exit 0; fi

if ! command -v java >/dev/null 2>&1; then echo "temporal-test-server: java (17 or newer) is required" >&2; exit 1; fi
if ! command -v mvn >/dev/null 2>&1; then echo "temporal-test-server: mvn is required once, to fetch the jars" >&2; exit 1; fi

echo "temporal-test-server: fetching io.temporal:temporal-test-server:$version and its dependencies with Maven" >&2
mkdir -p "$(dirname "$cache")"
work=$(mktemp -d "$(dirname "$cache")/.install-$version.XXXXXX")
trap 'rm -rf "$work"' EXIT
cat > "$work/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>opsconductor</groupId>
  <artifactId>temporal-test-server-fetch</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>io.temporal</groupId>
      <artifactId>temporal-test-server</artifactId>
      <version>$version</version>
    </dependency>
    <!-- The server logs through SLF4J 1.7; without a binding it prints a warning on every start. -->
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-nop</artifactId>
      <version>1.7.36</version>
    </dependency>
  </dependencies>
</project>
EOF
mvn -q -B -Dstyle.color=never -f "$work/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
  -DoutputDirectory="$work/out/lib" >&2

# The SDK runs the launcher as `<path> <port> [extraArgs...]`, the same arguments the Java server's main
# class takes. `exec` keeps one process, so the SDK's stop signal reaches the JVM itself.
cat > "$work/out/temporal-test-server" <<'EOF'
#!/bin/sh
here=$(cd "$(dirname "$0")" && pwd)
exec java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss512k -cp "$here/lib/*" io.temporal.testserver.TestServer "$@"
EOF
chmod 755 "$work/out/temporal-test-server"
# The folder appears whole or not at all: a half-finished fetch never looks installed.
rm -rf "$cache"
mv "$work/out" "$cache"
echo "$launcher"
