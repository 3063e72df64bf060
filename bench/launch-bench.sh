#!/usr/bin/env bash
# Per-launch cost of LocalBackend: N `sh -c true` workloads on a fresh backend (after a 100-workload warm-up), ROUNDS
# times. Prints wall time, JVM CPU and children CPU (reaped children + the launch supervisor).
# Usage: bench/launch-bench.sh [N] [ROUNDS]   (default: 500 3)
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -q -o -pl capstan-backend test -Dtest=LaunchBench -Dsurefire.failIfNoSpecifiedTests=false \
  -Dcapstan.bench=true -Dcapstan.skipSecondTestRun=true -Dcapstan.bench.n="${1:-500}" -Dcapstan.bench.rounds="${2:-3}" 2>&1 | grep '^BENCH' || true
