#!/usr/bin/env bash
# The web UI's page times: 10k runs and a 2000-node run in an embedded (H2 file) store, pages over HTTP on loopback.
# Prints a table of median and p95 against the budget (list < 100 ms, run detail with cached layout < 300 ms,
# uncached layout < 2 s). Usage: bench/ui-bench.sh   QUICK=1: 1000 runs and a 400-node run, for a smoke run.
# Builds the modules it needs first (online; MVN_FLAGS=-o to stay offline).
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
MVN_FLAGS="${MVN_FLAGS:-}"
cp_file="$(mktemp)"
trap 'rm -f "$cp_file"' EXIT
./mvnw -q $MVN_FLAGS -pl capstan-ui -am test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" >/dev/null
runs=10000; nodes=2000; [ "${QUICK:-0}" = 1 ] && { runs=1000; nodes=400; }
"$JAVA_HOME/bin/java" -Xss2m -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -Dcapstan.bench.ui.runs=$runs -Dcapstan.bench.ui.nodes=$nodes -cp "capstan-ui/target/test-classes:capstan-ui/target/classes:$(cat "$cp_file")" \
    io.capstan.ui.UiBench "$@"
