#!/usr/bin/env bash
# Time from `capstan server` process start to /readyz answering 200, and the idle RSS 5 s later.
# Usage: bench/server-startup.sh [RUNS]   (builds the CLI jar first through the launcher if needed)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
./capstan version >/dev/null 2>&1 || true
port=18080
# The launcher execs the JVM, so $! is the server's own pid. Odd runs start on an empty home (migrations run),
# even runs restart on the previous run's home (the usual case).
printf 'run home ready_ms idle_rss_mb\n'
home=""
for i in $(seq 1 "$runs"); do
  if [ $((i % 2)) -eq 1 ]; then [ -n "$home" ] && rm -rf "$home"; home=$(mktemp -d); kind=empty; else kind=existing; fi
  start=$(date +%s%N)
  ./capstan server --home "$home" --port $port >"$home/server.log" 2>&1 &
  pid=$!
  until curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do
    kill -0 $pid 2>/dev/null || { echo "server died:"; cat "$home/server.log"; exit 1; }
    sleep 0.01
  done
  ready_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  sleep 5
  rss_kb=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
  printf '%d %s %d %d\n' "$i" "$kind" "$ready_ms" $(( rss_kb / 1024 ))
  kill $pid; wait $pid 2>/dev/null || true
done
rm -rf "$home"
