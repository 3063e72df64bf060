#!/usr/bin/env bash
# What a ModelMonitor costs serving: OIP v2 REST requests/s (wrk, 16 connections, one iris row per request) against
# a real Capstan server serving the iris ONNX model, without and with a ModelMonitor on it (window of the last 1000
# rows, tested every second against examples/iris/iris.csv, predictions too), alternating ROUNDS times so that the
# machine's load drifts alike on both sides. Prints each run, the medians and the overhead in per cent.
# Usage: [ROUNDS=5] bench/monitor-bench.sh [SECONDS]   (default 10 per run after 15 s of warm-up; .ci/run's quick mode:
# ROUNDS=1, 2 s; QUICK=1 warms up for 3 s).
# Needs /usr/bin/wrk, curl and bc.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
warmup=15; [ "${QUICK:-0}" = 1 ] && warmup=3
rounds=${ROUNDS:-5}
port=${PORT:-18380}
java=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
work=$(mktemp -d)
./mvnw -q ${MVN_OFFLINE:-} -pl capstan-server -am test-compile dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile="$work/cp.txt" -Dcapstan.fuzz.skip=true >/dev/null
cp="capstan-serving/target/classes/META-INF/versions/22:capstan-server/target/classes:capstan-server/target/test-classes:$(cat "$work/cp.txt")"
"$java" -Xss2m --enable-native-access=ALL-UNNAMED -cp "$cp" io.capstan.server.MonitorBenchServer "$port" "$work/home" >"$work/server.log" 2>&1 &
server=$!
trap 'rc=$?; [ $rc -ne 0 ] && tail -n 40 "$work/server.log" >&2; kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
until grep -q READY "$work/server.log" 2>/dev/null; do sleep 0.2; kill -0 $server || { cat "$work/server.log"; exit 1; }; done
token=$(sed -n 's/^TOKEN //p' "$work/server.log")
base="http://127.0.0.1:$port"
cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[5.1,3.5,1.4,0.2]}]}'
LUA
monitor="apiVersion: monitoring.capstan.io/v1alpha1
kind: ModelMonitor
metadata: {name: iris-bench}
spec:
  inferenceService: iris
  reference: {uri: \"file://$PWD/examples/iris/iris.csv\", features: [sepal_length, sepal_width, petal_length, petal_width]}
  window: {rows: 1000}
  interval: 1s"
api() { curl -sS --fail-with-body -H "Authorization: Bearer $token" "$@"; }
ticks() { awk '{ print $14 + $15 }' "/proc/$server/stat"; }
hz=$(getconf CLK_TCK)
# One wrk run: "REQ_PER_S CPU_US_PER_REQUEST", the second from the server's CPU time (all its threads, the
# monitor's included), which a busy machine disturbs less than requests/s.
measure() {
  local before after out requests
  before=$(ticks)
  out=$(wrk -t2 -c16 -d"${secs}s" -s "$work/post.lua" "$base/v2/models/iris/infer")
  after=$(ticks)
  requests=$(echo "$out" | awk '/requests in/ {print $1}')
  echo "$(echo "$out" | awk '/Requests\/sec/ {print $2}') $(echo "scale=1; ($after - $before) * 1000000 / $hz / $requests" | bc -l)"
}
monitor_on() { api -X POST -H 'Content-Type: application/yaml' --data-binary "$monitor" "$base/apis/capstan/v1/apply" >/dev/null; }
monitor_off() { api -X DELETE "$base/apis/capstan/v1/namespaces/default/modelmonitors/iris-bench" >/dev/null; }
wrk -t2 -c16 -d${warmup}s -s "$work/post.lua" "$base/v2/models/iris/infer" >/dev/null   # warm-up (JIT)
off=(); on=(); offcpu=(); oncpu=()
for r in $(seq 1 "$rounds"); do
  # alternate the order, so that a trend in the machine's load falls on both sides alike
  status_now() { api "$base/apis/capstan/v1/namespaces/default/modelmonitors/iris-bench"; }
  if [ $((r % 2)) -eq 1 ]; then
    a=$(measure); monitor_on; b=$(measure); status=$(status_now); monitor_off
  else
    monitor_on; b=$(measure); status=$(status_now); monitor_off; a=$(measure)
  fi
  phase=$(echo "$status" | sed -n 's/.*"phase":"\([A-Za-z]*\)".*/\1/p')
  samples=$(echo "$status" | sed -n 's/.*"samples":\([0-9]*\).*/\1/p')
  off+=("${a% *}"); offcpu+=("${a#* }"); on+=("${b% *}"); oncpu+=("${b#* }")
  echo "round $r: without monitor ${a% *} req/s, ${a#* } us CPU/req; with monitor ${b% *} req/s, ${b#* } us CPU/req (monitor $phase, window $samples rows)"
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
moff=$(median "${off[@]}"); mon=$(median "${on[@]}"); coff=$(median "${offcpu[@]}"); con=$(median "${oncpu[@]}")
echo "median without monitor: $moff req/s, $coff us CPU/req; with monitor: $mon req/s, $con us CPU/req"
printf 'overhead: requests/s %.1f%%, CPU per request %.1f%%\n' "$(echo "(1 - $mon / $moff) * 100" | bc -l)" "$(echo "($con / $coff - 1) * 100" | bc -l)"
