#!/usr/bin/env bash
# Per-launch cost of LocalBackend: N `sh -c true` workloads on a fresh backend (after a 100-workload warm-up), ROUNDS
# times. Prints wall time, JVM CPU and children CPU (reaped children + the launch supervisor).
# Usage: bench/launch-bench.sh [N] [ROUNDS]   (default: 500 3; QUICK=1: 50 1, a smoke run for CI)
# Builds the modules it needs first (online; MVN_OFFLINE=-o to stay offline), so it runs on a fresh clone.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${QUICK:-0}" = 1 ]; then n=${1:-50}; rounds=${2:-1}; else n=${1:-500}; rounds=${2:-3}; fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
if ! ./mvnw -q ${MVN_OFFLINE:-} -pl capstan-backend -am test -Dtest=LaunchBench -Dsurefire.failIfNoSpecifiedTests=false \
  -Dcapstan.bench=true -Dcapstan.skipSecondTestRun=true -Dcapstan.bench.n="$n" -Dcapstan.bench.rounds="$rounds" >"$out" 2>&1; then
  cat "$out" >&2; echo "launch-bench: the benchmark failed (output above)" >&2; exit 1
fi
grep '^BENCH' "$out" || { cat "$out" >&2; echo "launch-bench: no BENCH lines; did LaunchBench run?" >&2; exit 1; }
