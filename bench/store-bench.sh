#!/usr/bin/env bash
# Apply-then-get throughput of the ResourceStore on embedded H2 and (optionally) PostgreSQL, with the ratio PG/H2.
# Usage: bench/store-bench.sh [operations] [jdbc:postgresql://host:port/db?user=..&password=..]
#   e.g. bench/store-bench.sh 2000 "$(.ci/postgres.sh | tail -n 1)"
# QUICK=1: 200 operations, a smoke run for CI. Builds the modules it needs first (online; MVN_OFFLINE=-o to stay offline).
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
offline=${MVN_OFFLINE:-}
cpfile=$(mktemp)
trap 'rm -f "$cpfile"' EXIT
./mvnw -q $offline -pl capstan-store -am test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cpfile" >/dev/null
if [ "${QUICK:-0}" = 1 ] && [ $# -eq 0 ]; then set -- 200; fi
exec "$JAVA_HOME/bin/java" -Xss2m -cp "capstan-store/target/test-classes:capstan-store/target/classes:$(cat "$cpfile")" \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  io.capstan.store.bench.StoreBench "$@"
