#!/usr/bin/env bash
# Time from `capstan server` process start to /readyz answering 200, the CPU time the server used until then (steadier
# than wall time on a busy machine), and the idle RSS 5 s later; then the min and median of each over the runs. Usage: bench/server-startup.sh [RUNS]   (default 5; QUICK=1: 2, a smoke run for CI, RSS 1 s after ready)
# Builds the CLI jar first through the launcher if needed. PORT (default 18080) and the next port (gRPC) must be free.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${QUICK:-0}" = 1 ]; then runs=${1:-2}; idle=1; else runs=${1:-5}; idle=5; fi
./capstan version >/dev/null
port=${PORT:-18080}
# The launcher execs the JVM, so $! is the server's own pid. Odd runs start on an empty home (migrations run),
# even runs restart on the previous run's home (the usual case).
printf 'run home ready_ms cpu_ms idle_rss_mb\n'
home=""
pid=""
trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi; if [ -n "$home" ]; then rm -rf "$home"; fi' EXIT
ready=()
cpu=()
rss=()
for i in $(seq 1 "$runs"); do
  if [ $((i % 2)) -eq 1 ]; then [ -n "$home" ] && rm -rf "$home"; home=$(mktemp -d); kind=empty; else kind=existing; fi
  start=$(date +%s%N)
  ./capstan server --home "$home" --port "$port" --grpc-port $((port + 1)) >"$home/server.log" 2>&1 &
  pid=$!
  until curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || { echo "server died:" >&2; cat "$home/server.log" >&2; exit 1; }
    sleep 0.01
  done
  ready_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  cpu_ms=$(awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$pid/stat")
  sleep "$idle"
  rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  printf '%d %s %d %d %d\n' "$i" "$kind" "$ready_ms" "$cpu_ms" $(( rss_kb / 1024 ))
  ready+=("$ready_ms")
  cpu+=("$cpu_ms")
  rss+=($(( rss_kb / 1024 )))
  kill "$pid"; wait "$pid" 2>/dev/null || true
  pid=""
done
stats() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { printf "min %d median %d", v[1], (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "ready_ms: $(stats "${ready[@]}") (goal < 1500); cpu_ms: $(stats "${cpu[@]}"); idle_rss_mb: $(stats "${rss[@]}") (goal < 250)"
