#!/usr/bin/env bash
# Inference throughput and latency: single-row OIP v2 REST requests (wrk, 16 and 64 connections) on an iris-sized
# ONNX model (4 float inputs, built in Java), against (a) raw in-process ONNX Runtime on the same model (ceiling) and
# (b) a Helidon endpoint on the same server answering a fixed response of the same size (HTTP floor); then batched
# throughput (rows/s) with the batcher vs raw batched ONNX Runtime; and the scale-to-zero cold start (first request after
# the revision unloaded, end to end over HTTP, and the model activation part of it).
# It also compares with nginx (Debian's nginx-light or nginx) answering a fixed body of the OIP response's size on
# 127.0.0.1 with keepalive_requests raised, started and stopped here with its own temporary config; and it drives the
# OIP endpoint past capacity (64, 256, 512 and 1024 connections) and reports goodput (2xx responses per second) and p99.
# Usage: [ROUNDS=5] bench/serving-bench.sh [SECONDS]   (default 10 per run). Needs /usr/bin/wrk.
# It builds capstan-serving and its test classes (where the harness lives) first.
# QUICK=1 is one round of 3 s runs after at most 24 s of warm-up, each run after 1 s of the same load instead of 3 s
# (figures are noisier; compare ratios of one run).
# SERVING_CLASSES=dir1:dir2 runs other builds of capstan-serving's classes and test classes (e.g. a saved baseline).
# PIN=1 puts the server (and nginx, one worker) on CPU 0 and wrk (one thread) on CPU 1, so capacity is one core's and
# the load generator does not take the server's CPU as connections rise: the overload section then measures the server.
# Besides req/s, each HTTP line gives the server's CPU time per request (from /proc), which a busy machine disturbs less.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${QUICK:-}" ]; then : "${ROUNDS:=1}" "${WARMUP_MAX:=24}" "${PRE_RUN:=1}"; fi
secs=${1:-${QUICK:+3}}
secs=${secs:-10}
# 1024 connections need as many descriptors in wrk and in the server
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
port=${PORT:-18280}
java=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
work=$(mktemp -d)
./mvnw -q ${MVN_OFFLINE:-} -pl capstan-serving -am test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$work/cp.txt" >/dev/null
cp="${SERVING_CLASSES:-capstan-serving/target/classes/META-INF/versions/22:capstan-serving/target/classes:capstan-serving/target/test-classes}:$(cat "$work/cp.txt")"
jvm=("$java" -Xss2m --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -cp "$cp" io.capstan.serving.bench.ServingBenchServer)
run() { "${jvm[@]}" "$@"; }
if [ -n "${PIN:-}" ]; then
  server_cpu=(taskset -c 0); load_cpu=(taskset -c 1); wrk_t=-t1; nginx_workers=1
else
  server_cpu=(); load_cpu=(); wrk_t=-t2; nginx_workers=auto
fi
wrk_bin=$(type -P wrk || echo /usr/bin/wrk)
wrk() { "${load_cpu[@]}" "$wrk_bin" "$@"; }

echo "== ceiling: raw in-process ONNX Runtime through its Java API (no HTTP); Capstan itself calls the C API (LoadedModel.predict below)"
run raw 2 "$secs" 1 2>/dev/null
run raw 2 "$secs" 64 2>/dev/null
echo "== in-process endpoint (admission, checks, metrics; then + JSON codec), no HTTP"
run endpoint 2 "$secs" 2>/dev/null | grep -v "^raw"

echo "== scale-to-zero cold start: first OIP v2 REST request after the revision unloaded (iris ONNX)"
run coldstart 7 2>/dev/null | grep "^cold"

"${server_cpu[@]}" "${jvm[@]}" serve "$port" >"$work/server.log" 2>&1 &
server=$!
nginx_pid=
trap 'kill $server ${nginx_pid:-} 2>/dev/null || true; wait $server ${nginx_pid:-} 2>/dev/null || true; rm -rf "$work"' EXIT
until grep -q READY "$work/server.log" 2>/dev/null; do sleep 0.2; kill -0 $server || { cat "$work/server.log"; exit 1; }; done
cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[5.1,3.5,1.4,0.2]}]}'
LUA
base="http://127.0.0.1:$port"
# nginx answers the body the OIP endpoint answers (same size), from its own prefix; `daemon off` keeps it this
# script's child, so the trap stops it. Without nginx the comparison is skipped.
nginx_port=$((port + 1))
if [ -x "$nginx_bin" ]; then
  mkdir -p "$work/nginx"
  body=$(curl -s -X POST -H 'Content-Type: application/json' --data "$(sed -n "s/^wrk.body = '\(.*\)'$/\1/p" "$work/post.lua")" \
    "$base/v2/models/iris/infer")
  case "$body" in *\'*|'') echo "unexpected OIP response: $body"; exit 1 ;; esac
  cat >"$work/nginx/nginx.conf" <<NGINX
worker_processes $nginx_workers;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 120s;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  server {
    listen 127.0.0.1:$nginx_port;
    location / { default_type application/json; return 200 '$body'; }
  }
}
NGINX
  "${server_cpu[@]}" "$nginx_bin" -p "$work/nginx" -e "$work/nginx/error.log" -c "$work/nginx/nginx.conf" -g 'daemon off;' &
  nginx_pid=$!
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$nginx_port/" && break; sleep 0.1; done
  nginx_bytes=$(curl -s -X POST --data x "http://127.0.0.1:$nginx_port/" | wc -c)
  echo "== nginx $("$nginx_bin" -v 2>&1 | sed 's/.*\///') on 127.0.0.1:$nginx_port answers ${nginx_bytes} bytes, as the OIP endpoint (${#body})"
else
  echo "== no nginx ($nginx_bin): apt-get install -y nginx-light for the nginx comparison"
fi
ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }
measure() { # wrk-output wrk-args...: runs wrk and notes the server's CPU ticks around it in wrk-output.cpu
  local out=$1; shift
  # The same load for a few seconds first: without it the JIT was still compiling this path during the timed run
  # (C2 took half a core), and the first 16-connection figures came out at half their settled value.
  local args=() a
  for a in "$@"; do case "$a" in -d*|--latency) ;; *) args+=("$a") ;; esac; done
  wrk "${args[@]}" -d"${PRE_RUN:-3}"s >/dev/null
  local before; before=$(cpu_ticks)
  wrk "$@" >"$out"
  echo $(( $(cpu_ticks) - before )) >"$out.cpu"
}
summary() { # label wrk-output
  local rps p50 p99 requests cpu
  rps=$(grep 'Requests/sec' "$2" | awk '{print $2}')
  p50=$(grep -E '^\s+50%' "$2" | awk '{print $2}')
  p99=$(grep -E '^\s+99%' "$2" | awk '{print $2}')
  requests=$(grep 'requests in' "$2" | awk '{print $1}')
  cpu=$(awk -v t="$(cat "$2.cpu")" -v n="$requests" -v hz="$ticks" 'BEGIN { printf "%.1f", (n > 0) ? t * 1e6 / hz / n : 0 }')
  local errors; errors=$(grep -E 'Non-2xx|Socket errors' "$2" | tr -s ' ' || true)
  printf '%-34s %10s req/s  p50 %8s  p99 %8s  server CPU %6s us/req  %s\n' "$1" "$rps" "$p50" "$p99" "$cpu" "$errors"
}
# Warm-up: every endpoint and connection count in turn, until the JIT compilers use under a tenth of a whole cycle
# (at most WARMUP_MAX seconds). With a fixed 12 s warm-up C2 was still compiling through the first rounds, taking
# up to 1.5 s of CPU out of an 8 s run: the 16-connection rounds, which come first, measured the compiler.
jit_ticks() { local t sum=0; for t in /proc/"$server"/task/*; do
  grep -q '^C[12] CompilerThre' "$t/comm" 2>/dev/null && sum=$((sum + $(awk '{print $14 + $15}' "$t/stat"))); done; echo $sum; }
warm_cycle() {
  wrk $wrk_t -c16 -d3s -s "$work/post.lua" "$base/v2/models/iris/infer" >/dev/null
  wrk $wrk_t -c64 -d3s -s "$work/post.lua" "$base/v2/models/iris/infer" >/dev/null
  wrk $wrk_t -c16 -d2s -s "$work/post.lua" "$base/fixed" >/dev/null
  wrk $wrk_t -c64 -d2s -s "$work/post.lua" "$base/fixed" >/dev/null
  wrk $wrk_t -c64 -d2s -s "$work/post.lua" "$base/v2/models/iris-batched/infer" >/dev/null
}
warmed=0
while :; do
  jit_before=$(jit_ticks)
  warm_cycle
  warmed=$((warmed + 12))
  jit=$(( $(jit_ticks) - jit_before ))
  [ "$jit" -lt $(( ticks * 12 / 10 )) ] || [ "$warmed" -ge "${WARMUP_MAX:-180}" ] && break
done
echo "== warm-up: ${warmed}s of load; the JIT compilers used $(awk -v t="$jit" -v hz="$ticks" 'BEGIN { printf "%.2f", t / hz }') s of CPU in the last 12 s"
rounds=${ROUNDS:-5}
echo "== HTTP, single-row requests, ${secs}s each; OIP and the floor alternate, $rounds rounds per connection count"
# The floor itself moves by up to a fifth between runs on a shared machine, so each ratio comes from a pair of runs
# taken back to back, and the median of the rounds is the figure.
rps_of() { grep Requests/sec "$1" | awk '{print $2}'; }
for c in 16 64; do
  ratios=()
  nginx_ratios=()
  for round in $(seq 1 "$rounds"); do
    measure "$work/oip$c.txt" $wrk_t -c$c -d${secs}s --latency -s "$work/post.lua" "$base/v2/models/iris/infer"
    summary "OIP v2 REST, $c connections" "$work/oip$c.txt"
    measure "$work/fixed$c.txt" $wrk_t -c$c -d${secs}s --latency -s "$work/post.lua" "$base/fixed"
    summary "fixed response (floor), $c conns" "$work/fixed$c.txt"
    ratio=$(awk -v a="$(rps_of "$work/oip$c.txt")" -v b="$(rps_of "$work/fixed$c.txt")" 'BEGIN { printf "%.1f", 100 * a / b }')
    ratios+=("$ratio")
    if [ -n "$nginx_pid" ]; then
      measure "$work/nginx$c.txt" $wrk_t -c$c -d${secs}s --latency -s "$work/post.lua" "http://127.0.0.1:$nginx_port/"
      summary "nginx fixed body, $c conns" "$work/nginx$c.txt"
      nginx_ratios+=("$(awk -v a="$(rps_of "$work/oip$c.txt")" -v b="$(rps_of "$work/nginx$c.txt")" 'BEGIN { printf "%.1f", 100 * a / b }')")
      echo "  round: OIP / nginx = ${nginx_ratios[-1]}%"
    fi
    awk -v a="$(rps_of "$work/oip$c.txt")" -v r="$ratio" \
      -v ca="$(cat "$work/oip$c.txt.cpu")" -v na="$(grep 'requests in' "$work/oip$c.txt" | awk '{print $1}')" \
      -v cb="$(cat "$work/fixed$c.txt.cpu")" -v nb="$(grep 'requests in' "$work/fixed$c.txt" | awk '{print $1}')" \
      'BEGIN { printf "  round: OIP / fixed = %.0f%%; vs KServe sklearn server 2.7k req/s: %.1fx; server CPU per request fixed / OIP = %.0f%%\n", r, a/2700, (ca > 0 && nb > 0) ? 100 * (cb/nb) / (ca/na) : 0 }'
  done
  printf '%s\n' "${ratios[@]}" | sort -n | awk -v c=$c '{ r[NR] = $1 } END { printf "  %d connections: OIP / fixed median %.0f%% (rounds %s%%, goal >= 60%%)\n", c, r[int((NR + 1) / 2)], r[1] (NR > 1 ? ".." r[NR] : "") }'
  if [ ${#nginx_ratios[@]} -gt 0 ]; then
    printf '%s\n' "${nginx_ratios[@]}" | sort -n | awk -v c=$c '{ r[NR] = $1 } END { printf "  %d connections: OIP / nginx median %.0f%% (rounds %s%%; issue 14 reference at -t1 -c16: Capstan 65k, nginx 138k, KServe 2.6k req/s)\n", c, r[int((NR + 1) / 2)], r[1] (NR > 1 ? ".." r[NR] : "") }'
  fi
done
echo "== batched: single-row requests merged by the batcher (maxBatchSize 64, maxLatency 2ms), 64 and 256 connections"
for c in 64 256; do
  measure "$work/batched$c.txt" $wrk_t -c$c -d${secs}s --latency -s "$work/post.lua" "$base/v2/models/iris-batched/infer"
  summary "batcher, $c conns (rows/s = req/s)" "$work/batched$c.txt"
done
echo "== overload: single-row OIP requests past capacity; goodput = 2xx responses per second, which must not fall as connections rise"
goodput() { # wrk-output: 2xx responses per second
  local n bad t
  n=$(grep 'requests in' "$1" | awk '{print $1}')
  bad=$(grep -E 'Non-2xx' "$1" | awk '{print $NF}' || true)
  t=$(grep 'requests in' "$1" | sed 's/.* in \([0-9.]*\)\(m\?s\).*/\1 \2/' | awk '{print ($2 == "ms") ? $1 / 1000 : $1}')
  awk -v n="$n" -v b="${bad:-0}" -v t="$t" 'BEGIN { printf "%.0f", (n - b) / t }'
}
first_goodput=
first_nginx=
for c in 64 256 512 1024; do
  measure "$work/load$c.txt" $wrk_t -c$c -d${secs}s --latency -s "$work/post.lua" "$base/v2/models/iris/infer"
  summary "OIP v2 REST, $c connections" "$work/load$c.txt"
  measure "$work/loadfixed$c.txt" $wrk_t -c$c -d${secs}s --latency -s "$work/post.lua" "$base/fixed"
  summary "fixed response (floor), $c conns" "$work/loadfixed$c.txt"
  g=$(goodput "$work/load$c.txt")
  first_goodput=${first_goodput:-$g}
  awk -v c=$c -v g="$g" -v f="$first_goodput" -v floor="$(goodput "$work/loadfixed$c.txt")" \
    -v p99="$(grep -E '^\s+99%' "$work/load$c.txt" | awk '{print $2}')" \
    'BEGIN { printf "  %4d connections: goodput %d/s (%.0f%% of 64 connections; %.0f%% of the floor at %d), p99 %s\n", c, g, 100 * g / f, 100 * g / floor, c, p99 }'
  # nginx on the same 2 cores, driven by the same wrk: how much of the fall is the machine's and the load generator's own.
  if [ -n "$nginx_pid" ]; then
    measure "$work/loadnginx$c.txt" $wrk_t -c$c -d${secs}s --latency -s "$work/post.lua" "http://127.0.0.1:$nginx_port/"
    summary "nginx fixed body, $c conns" "$work/loadnginx$c.txt"
    n=$(goodput "$work/loadnginx$c.txt")
    first_nginx=${first_nginx:-$n}
    awk -v c=$c -v n="$n" -v f="$first_nginx" 'BEGIN { printf "  %4d connections: nginx %d/s (%.0f%% of its 64 connections)\n", c, n, 100 * n / f }'
  fi
done
