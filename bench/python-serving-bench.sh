#!/usr/bin/env bash
# scikit-learn through Capstan's Python model-server process, against the same iris as ONNX in-process and against
# the Python process called directly (no Capstan in front): single-row requests, 16 connections (wrk), V1 and OIP v2.
# Prints req/s and p50/p99 for each, the sklearn/ONNX ratio, and the proxy hop (Capstan -> Python vs Python direct).
# KServe's own sklearn server measured on this machine earlier: 2.7k req/s, p99 11 ms at 16 connections.
# Usage: [QUICK=1] bench/python-serving-bench.sh [SECONDS]   (default 10; QUICK=1: 1 s runs, 1 s warm-up).
# Needs /usr/bin/wrk and Debian's python3-sklearn. Builds capstan-serving and its test classes first.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-${QUICK:+1}}
secs=${secs:-10}
warm=${QUICK:+1}
warm=${warm:-10}
port=${PORT:-18380}
java=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
work=$(mktemp -d)
./mvnw -q ${MVN_OFFLINE:-} -pl capstan-serving -am test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$work/cp.txt" >/dev/null
cp="capstan-serving/target/classes/META-INF/versions/22:capstan-serving/target/classes:capstan-serving/target/test-classes:$(cat "$work/cp.txt")"
"$java" -Xss2m --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -cp "$cp" io.capstan.serving.bench.PythonBenchServer serve "$port" >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
until grep -q READY "$work/server.log" 2>/dev/null; do sleep 0.2; kill -0 $server 2>/dev/null || { cat "$work/server.log"; exit 1; }; done
direct=$(sed -n 's/^DIRECT //p' "$work/server.log")
base="http://127.0.0.1:$port"
lua() { # file body
  printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = %s\n' "'$2'" >"$1"
}
lua "$work/v1.lua" '{"instances":[[6.8,2.8,4.8,1.4]]}'
lua "$work/v2-sk.lua" '{"inputs":[{"name":"input-0","shape":[1,4],"datatype":"FP32","data":[6.8,2.8,4.8,1.4]}]}'
lua "$work/v2-onnx.lua" '{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[6.8,2.8,4.8,1.4]}]}'
check() { # url lua
  local body; body=$(sed -n "s/^wrk.body = '\(.*\)'$/\1/p" "$2")
  curl -sf -X POST -H 'Content-Type: application/json' --data "$body" "$1" >/dev/null || { echo "request to $1 failed"; exit 1; }
}
declare -A rps p50 p99
run() { # key url lua
  check "$2" "$3"
  wrk -t2 -c16 -d${warm}s -s "$3" "$2" >/dev/null
  wrk -t2 -c16 -d${secs}s --latency -s "$3" "$2" >"$work/$1.txt"
  rps[$1]=$(grep 'Requests/sec' "$work/$1.txt" | awk '{print $2}')
  p50[$1]=$(grep -E '^\s+50%' "$work/$1.txt" | awk '{print $2}')
  p99[$1]=$(grep -E '^\s+99%' "$work/$1.txt" | awk '{print $2}')
  local errors; errors=$(grep -E 'Non-2xx|Socket errors' "$work/$1.txt" | tr -s ' ' || true)
  printf '%-44s %10s req/s  p50 %8s  p99 %8s  %s\n' "$4" "${rps[$1]}" "${p50[$1]}" "${p99[$1]}" "$errors"
}
echo "== single-row requests, 16 connections, ${secs}s each after ${warm}s of warm-up"
run sk-v1 "$base/v1/models/iris-sklearn:predict" "$work/v1.lua" "sklearn via Capstan -> Python, V1"
run sk-v2 "$base/v2/models/iris-sklearn/infer" "$work/v2-sk.lua" "sklearn via Capstan -> Python, OIP v2"
run direct-v1 "http://127.0.0.1:$direct/v1/models/iris-sklearn:predict" "$work/v1.lua" "sklearn, Python process direct, V1"
run direct-v2 "http://127.0.0.1:$direct/v2/models/iris-sklearn/infer" "$work/v2-sk.lua" "sklearn, Python process direct, OIP v2"
run onnx-v2 "$base/v2/models/iris-onnx/infer" "$work/v2-onnx.lua" "iris ONNX in-process, OIP v2"
ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) printf "%.3f", v / 1000; else if (v ~ /ms$/) printf "%.3f", v + 0; else printf "%.3f", v * 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", 100 * a / b }'; }
echo "== ratios"
echo "sklearn (Capstan, v2) / ONNX in-process:         $(ratio "${rps[sk-v2]}" "${rps[onnx-v2]}")% of the throughput"
echo "proxy hop, V1: Capstan -> Python / Python direct: $(ratio "${rps[sk-v1]}" "${rps[direct-v1]}")% of the throughput, p50 +$(awk -v a="$(ms "${p50[sk-v1]}")" -v b="$(ms "${p50[direct-v1]}")" 'BEGIN { printf "%.2f", a - b }') ms"
echo "proxy hop, v2: Capstan -> Python / Python direct: $(ratio "${rps[sk-v2]}" "${rps[direct-v2]}")% of the throughput, p50 +$(awk -v a="$(ms "${p50[sk-v2]}")" -v b="$(ms "${p50[direct-v2]}")" 'BEGIN { printf "%.2f", a - b }') ms"
echo "KServe's sklearn server, measured here earlier at 16 connections: 2.7k req/s, p99 11 ms"
