#!/usr/bin/env bash
# Lineage-subgraph latency of capstan-metadata on a 100k-node MLMD graph: H2 (file) always, PostgreSQL when a JDBC
# URL is given. Usage: bench/lineage-bench.sh ['jdbc:postgresql://127.0.0.1:55432/capstan?user=capstan&password=capstan']
# QUICK=1: a smoke run for CI on a 10k-node graph. Builds the modules it needs first (online; MVN_FLAGS=-o to stay offline).
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
MVN_FLAGS="${MVN_FLAGS:-}"
cp_file="$(mktemp)"
trap 'rm -f "$cp_file"' EXIT
./mvnw -q $MVN_FLAGS -pl capstan-metadata -am test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" >/dev/null
runs=2500; [ "${QUICK:-0}" = 1 ] && runs=250
"$JAVA_HOME/bin/java" -Xss2m -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -Dcapstan.bench.lineage.runs=$runs -cp "capstan-metadata/target/test-classes:capstan-metadata/target/classes:$(cat "$cp_file")" \
    io.capstan.metadata.bench.LineageBench "$@"
