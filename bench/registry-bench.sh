#!/usr/bin/env bash
# Model Registry figures. 1. List latency with 10k versions and filters on custom properties, over HTTP: H2 (file)
# always, PostgreSQL when a JDBC URL is given. 2. The time from moving an alias to the new revision serving, on a real
# Capstan server (ALIAS=0 skips it; LIST=0 skips the first).
# Usage: bench/registry-bench.sh ['jdbc:postgresql://127.0.0.1:55432/capstan?user=capstan&password=capstan']
# QUICK=1: a smoke run on 1k versions and 2 alias moves. Builds the modules it needs first (online; MVN_FLAGS=-o to stay offline).
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
MVN_FLAGS="${MVN_FLAGS:-}"
cp_file="$(mktemp)"
server_cp="$(mktemp)"
server_log="$(mktemp)"
trap 'rm -f "$cp_file" "$server_cp" "$server_log"' EXIT
./mvnw -q $MVN_FLAGS -pl capstan-registry -am test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" >/dev/null
versions=10000; moves=10
[ "${QUICK:-0}" = 1 ] && { versions=1000; moves=2; }
if [ "${LIST:-1}" = 1 ]; then
  "$JAVA_HOME/bin/java" -Xss2m -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -Dcapstan.bench.registry.versions=$versions \
      -cp "capstan-registry/target/test-classes:capstan-registry/target/classes:$(cat "$cp_file")" io.capstan.registry.RegistryListBench "$@"
fi
if [ "${ALIAS:-1}" = 1 ]; then
  ./mvnw -q $MVN_FLAGS -pl capstan-server -am test-compile dependency:build-classpath -Dmdep.includeScope=test \
      -Dmdep.outputFile="$server_cp" -Dcapstan.fuzz.skip=true >/dev/null
  echo "== alias move to the new revision serving (real server, embedded H2, ONNX iris model)"
  "$JAVA_HOME/bin/java" -Xss2m --enable-native-access=ALL-UNNAMED -Djava.util.logging.config.file=/dev/null \
      -cp "capstan-serving/target/classes/META-INF/versions/22:capstan-server/target/classes:capstan-server/target/test-classes:$(cat "$server_cp")" \
      io.capstan.server.RegistryAliasBench "$moves" 2>"$server_log" || { tail -n 40 "$server_log" >&2; exit 1; }
fi
