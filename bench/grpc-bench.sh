#!/usr/bin/env bash
# OIP gRPC ModelInfer throughput and latency: N closed-loop callers send single-row requests (one FP32
# input of shape [1,4]) for T seconds and it prints requests/s, p50 and p99.
# Usage:
#   bench/grpc-bench.sh --self [client options]          # against capstan-serving-grpc's test models (iris), started here
#   bench/grpc-bench.sh --target host:8081 [options]      # against a running server, e.g. the iris ONNX model
# Client options: --model iris --input input --concurrency 16 --duration 10 --warmup 3 --channels 1 --raw
#   e.g. bench/grpc-bench.sh --self --concurrency 64 --duration 10
# QUICK=1: a smoke run for CI (--self is implied when no --target is given; 2 s measured after 1 s of warm-up, one 5 s JIT warm-up round).
# Builds the modules it needs first (online; MVN_OFFLINE=-o to stay offline), so it runs on a fresh clone.
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
offline=${MVN_OFFLINE:-}
cpfile=$(mktemp)
serverlog=$(mktemp)
clientlog=$(mktemp)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -f "$cpfile" "$serverlog" "$clientlog"
}
trap cleanup EXIT
./mvnw -q $offline -pl capstan-serving-grpc -am test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cpfile" >/dev/null
cp="capstan-serving-grpc/target/test-classes:capstan-serving-grpc/target/classes:$(cat "$cpfile")"

# QUICK=1: against the test models unless a --target is given; later options win, so these are defaults.
if [ "${QUICK:-0}" = 1 ]; then
  WARMUP_MAX=${WARMUP_MAX:-5}
  case " $* " in *" --target "*) ;; *) set -- --self "$@" ;; esac
  set -- --duration 2 --warmup 1 "$@"
fi
args=()
self=false
for arg in "$@"; do
  if [ "$arg" = "--self" ]; then self=true; else args+=("$arg"); fi
done

if $self; then
  "$JAVA_HOME/bin/java" -Xss2m --enable-native-access=ALL-UNNAMED -cp "$cp" io.capstan.serving.grpc.TestModelServer 0 >"$serverlog" 2>&1 &
  server_pid=$!
  port=
  for _ in $(seq 1 300); do
    port=$(sed -n 's/^listening on \([0-9]*\)$/\1/p' "$serverlog")
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$serverlog" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$port" ] || { echo "test model server did not start within 30 s" >&2; cat "$serverlog" >&2; exit 1; }
  args=(--target "127.0.0.1:$port" "${args[@]}")
fi

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
if $self; then
  # A fresh server JVM spends its first tens of seconds compiling Netty, gRPC and protobuf: after a 10 s warm-up
  # C2 still used half the machine and the measured run reported its CPU as the server's. Warm it apart from the
  # measured run, 5 s at a time, until the JIT compilers use under a tenth of those 5 s (at most WARMUP_MAX s).
  jit_ticks() { local t sum=0; for t in /proc/"$server_pid"/task/*; do
    grep -q '^C[12] CompilerThre' "$t/comm" 2>/dev/null && sum=$((sum + $(awk '{print $14 + $15}' "$t/stat"))); done; echo $sum; }
  hz=$(getconf CLK_TCK)
  for _ in $(seq 1 $(( ${WARMUP_MAX:-90} / 5 ))); do
    jit_before=$(jit_ticks)
    "$JAVA_HOME/bin/java" -Xss2m --enable-native-access=ALL-UNNAMED -cp "$cp" io.capstan.serving.grpc.GrpcLoadClient \
      "${args[@]}" --duration 5 --warmup 0 >/dev/null 2>&1
    jit=$(( $(jit_ticks) - jit_before ))
    [ "$jit" -lt $(( hz / 2 )) ] && break
  done
  echo "server warm-up: JIT compilers used $(awk -v t="$jit" -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }') s of the last 5 s" >&2
  before=$(cpu_ticks "$server_pid")
fi
# The client is a fresh JVM too: 20 s of warm-up by default (a later --warmup wins); with 3 s it measured itself
# compiling, at a sixth of the settled rate.
"$JAVA_HOME/bin/java" -Xss2m --enable-native-access=ALL-UNNAMED -cp "$cp" io.capstan.serving.grpc.GrpcLoadClient \
  --warmup 20 "${args[@]}" 2>/dev/null >"$clientlog"
cat "$clientlog"
if $self; then
  # Server CPU per call: less sensitive than req/s to other load on a shared machine.
  after=$(cpu_ticks "$server_pid")
  calls=$(sed -n 's/.*(\([0-9]*\) calls with warm-up).*/\1/p' "$clientlog")
  awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="${calls:-0}" \
    'BEGIN { if (n > 0) printf "server CPU: %.1f us per call (%d calls)\n", t / hz * 1e6 / n, n }'
fi
