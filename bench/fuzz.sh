#!/usr/bin/env bash
# Fuzzes every parser that takes outside input (the *FuzzTest classes, Jazzer) for longer than ./mvnw verify does,
# each in its own JVM, and prints a table: target, seconds, executions, executions per second, and whether it found
# something. The corpus each run grows is kept under <module>/target/fuzz/.cifuzz-corpus, so a later run goes on from
# it; a finding's input is written next to it (crash-*) and the run exits non-zero.
# Usage: bench/fuzz.sh [seconds per target]   (default: FUZZ_SECONDS or 300; QUICK=1: 3, a smoke run for CI)
#   FUZZ_TARGETS=ResourceParserFuzzTest,OipJsonFuzzTest picks targets (surefire's -Dtest syntax; default *FuzzTest).
#   WIDE=1 also takes coverage feedback from Jackson, SnakeYAML and protobuf (fewer executions, deeper inputs).
# Builds the modules it needs first (online; MVN_OFFLINE=-o to stay offline), so it runs on a fresh clone.
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
if [ "${QUICK:-0}" = 1 ]; then seconds=${1:-3}; else seconds=${1:-${FUZZ_SECONDS:-300}}; fi
instrument='io.capstan.**'
if [ "${WIDE:-0}" = 1 ]; then instrument="$instrument,com.fasterxml.jackson.**,org.yaml.snakeyaml.**,com.google.protobuf.**"; fi
modules=capstan-core,capstan-pipelines,capstan-serving,capstan-serving-grpc,capstan-server
log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "fuzzing each target for ${seconds} s (log: mvn output kept only on failure)" >&2
status=0
./mvnw -B -ntp ${MVN_OFFLINE:-} -fae -pl "$modules" -am test-compile surefire:test@fuzz \
  -Dcapstan.fuzz.duration="${seconds}s" -Dcapstan.fuzz.test="${FUZZ_TARGETS:-*FuzzTest}" \
  -Dcapstan.fuzz.instrument="$instrument" >"$log" 2>&1 || status=$?

# Surefire announces each class; libFuzzer ends each run with "Done N runs in S second(s)".
report=$(awk '
  /Running io\.capstan\..*FuzzTest/ { target = $NF; sub(/.*\./, "", target) }
  /^Done [0-9]+ runs in [0-9]+ second/ { runs[target] = $2; secs[target] = $5; order[++n] = target }
  /Tests run:.*FAILURE!.* in io\.capstan\..*FuzzTest/ { t = $NF; sub(/.*\./, "", t); failed[t] = 1 }
  /ERROR: libFuzzer: (timeout|out-of-memory)/ { failed[target] = 1 }
  END {
    printf "%-30s %8s %12s %10s  %s\n", "target", "seconds", "executions", "exec/s", "result"
    for (i = 1; i <= n; i++) {
      t = order[i]; s = secs[t] > 0 ? secs[t] : 1
      printf "%-30s %8d %12d %10d  %s\n", t, secs[t], runs[t], runs[t] / s, failed[t] ? "FINDING (its input: crash-* or timeout-* under target/fuzz)" : "no finding"
    }
  }' "$log")
echo "$report"
if [ "$status" -ne 0 ] || [ "$(echo "$report" | wc -l)" -lt 2 ]; then
  grep -E 'FuzzTestFinding|Caused by|^\s+at io\.capstan|ERROR\]' "$log" | head -60 >&2
  echo "fuzz: a target failed or found something (mvn exit $status); the output above names it" >&2
  exit 1
fi
