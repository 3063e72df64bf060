#!/usr/bin/env bash
# Lineage-subgraph latency of capstan-metadata on a 100k-node MLMD graph: H2 (file) always, PostgreSQL when a JDBC
# URL is given. Usage: bench/lineage-bench.sh ['jdbc:postgresql://127.0.0.1:55432/capstan?user=capstan&password=capstan']
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
MVN_FLAGS="${MVN_FLAGS:--o}"
./mvnw -q $MVN_FLAGS -pl capstan-metadata test-compile
cp_file="$(mktemp)"
trap 'rm -f "$cp_file"' EXIT
./mvnw -q $MVN_FLAGS -pl capstan-metadata dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file"
exec "$JAVA_HOME/bin/java" -Xss2m -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "capstan-metadata/target/test-classes:capstan-metadata/target/classes:$(cat "$cp_file")" \
    io.capstan.metadata.bench.LineageBench "$@"
