#!/usr/bin/env bash
# Model Registry list latency with 10k versions and filters on custom properties, over HTTP: H2 (file) always,
# PostgreSQL when a JDBC URL is given. Usage: bench/registry-bench.sh ['jdbc:postgresql://127.0.0.1:55432/capstan?user=capstan&password=capstan']
# QUICK=1: a smoke run on 1k versions. Builds the modules it needs first (online; MVN_FLAGS=-o to stay offline).
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
MVN_FLAGS="${MVN_FLAGS:-}"
cp_file="$(mktemp)"
trap 'rm -f "$cp_file"' EXIT
./mvnw -q $MVN_FLAGS -pl capstan-registry -am test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" >/dev/null
versions=10000; [ "${QUICK:-0}" = 1 ] && versions=1000
"$JAVA_HOME/bin/java" -Xss2m -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -Dcapstan.bench.registry.versions=$versions \
    -cp "capstan-registry/target/test-classes:capstan-registry/target/classes:$(cat "$cp_file")" io.capstan.registry.RegistryListBench "$@"
