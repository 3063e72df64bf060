#!/usr/bin/env bash
# Scheduling overhead: the same random DAG of `sh -c true` steps run by `make -j2` and by Capstan (a PipelineRun on a
# warm server, from submission to completion as the run's own timestamps say), with the ratio; snakemake too if
# installed (SNAKEMAKE=0 skips it). Usage: bench/dag-bench.sh [N ...]   (default: 500). The server is warmed up on a
# DAG of 500 steps first (QUICK=1: 50, a smoke run for CI).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("${@:-500}")
gen=${GEN_DAG:-../shared/bench/gen_dag.py}  # GEN_DAG=/path/to/gen_dag.py where the project is not beside shared/
[ -f "$gen" ] || { echo "needs $gen (the shared bench folder beside the project)"; exit 1; }
capstan=(${CAPSTAN_CMD:-./capstan})  # CAPSTAN_CMD="java -jar /abs/capstan.jar" skips the launcher
"${capstan[@]}" version >/dev/null 2>&1 || true
work=$(mktemp -d)
port=18180
"${capstan[@]}" server --home "$work/home" --port $port >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
until curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do sleep 0.1; done
api="http://127.0.0.1:$port/apis/capstan/v1"
# The admin token the server wrote to its home, sent from a header file so that it never shows in argv.
(umask 077; printf 'Authorization: Bearer %s\n' "$(cat "$work/home/token")" >"$work/auth")

run_pipeline() { # name file [caching] -> phase and seconds from creation to completion
  python3 - "$1" "$2" "${3:-false}" >"$work/run.json" <<'PY'
import json, sys
print(json.dumps({"apiVersion": "pipelines.capstan.io/v1", "kind": "PipelineRun", "metadata": {"name": sys.argv[1]},
                  "spec": {"pipelineSpec": open(sys.argv[2]).read(), "enableCaching": sys.argv[3] == "true"}}))
PY
  curl -fs -H @"$work/auth" -H 'Content-Type: application/json' --data-binary @"$work/run.json" "$api/apply" >/dev/null
  while :; do
    # Through a file: at a few hundred tasks the status is longer than one command-line argument may be. The phase
    # is read with grep, not a Python start per poll: that took 0.1-0.2 s of CPU each (more through a pyenv shim),
    # a fifth of this 2-core machine at two polls a second, taken from the run being timed. The resource has one
    # "phase" key (status.phase); one inside the pipeline spec would be an escaped string and cannot match.
    curl -fs -H @"$work/auth" "$api/namespaces/default/pipelineruns/$1" >"$work/body.json"
    phase=$(grep -o '"phase":"[A-Za-z]*"' "$work/body.json" | head -1 | cut -d'"' -f4 || true)
    case "$phase" in Succeeded|Failed|Cancelled) break ;; esac
    sleep 0.5  # the figure comes from the run's own timestamps; polling slower only takes less CPU from the run
  done
  python3 - "$work/body.json" <<'PY'
import json, sys
from datetime import datetime
r = json.load(open(sys.argv[1]))
t = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))
print("%s %.3f" % (r["status"]["phase"], (t(r["status"]["completionTime"]) - t(r["metadata"]["creationTimestamp"])).total_seconds()))
PY
}

# CPU the server process (with the launch supervisor and the steps, once reaped) spent on a run: it drifts less
# than wall time on a shared machine.
cpu_ticks() { awk '{print $14 + $15 + $16 + $17}' "/proc/$server/stat"; }
supervisor_ticks() { local p t=0; for p in $(pgrep -P "$server"); do t=$((t + $(awk '{print $14 + $15 + $16 + $17}' "/proc/$p/stat"))); done; echo $t; }
jit_ticks() { # CPU of the JVM's JIT compiler threads
  local t total=0
  for t in /proc/"$server"/task/*; do
    case "$(cat "$t/comm" 2>/dev/null)" in C1\ Compiler*|C2\ Compiler*) total=$((total + $(awk '{print $14 + $15}' "$t/stat" 2>/dev/null || echo 0))) ;; esac
  done
  echo $total
}
hz=$(getconf CLK_TCK)

# Warm the server: class loading, and JIT compilation of the scheduling path. A user's second or third run is what
# matters, so warm up with at most WARMUP_MAX (default 5) runs of 500 nodes, stopping sooner once the compilers
# took under a tenth of the server's CPU in a run (a share of CPU, not of wall time: on a loaded machine a run's
# wall time stretches and a share of it said "quiet" after one run); the table's jit column says what they took
# during the timed run.
warm_n=500; [ "${QUICK:-0}" = 1 ] && warm_n=50
python3 "$gen" "$warm_n" "$work/warm" >/dev/null
for i in $(seq "${WARMUP_MAX:-5}"); do
  jit_before=$(jit_ticks); server_before=$(cpu_ticks)
  read -r _ warm_s < <(run_pipeline "warm-up-$i" "$work/warm/pipeline.yaml")
  jit_share=$(echo "scale=3; ($(jit_ticks) - $jit_before) / ($(cpu_ticks) - $server_before + 1)" | bc)
  echo "warm-up run $i: ${warm_s}s, JIT compilers took ${jit_share} of the server's CPU" >&2
  [ "$(echo "$jit_share < 0.10" | bc)" = 1 ] && break
done
# Code paths new to the JIT (a bigger DAG, the cache lookups of the cached runs) get compiled during the next timed
# run; before each one, wait (up to 30 s) until the compilers have been idle for a second.
await_quiet_jit() {
  local i before
  for i in $(seq 30); do
    before=$(jit_ticks); sleep 1
    [ $(( $(jit_ticks) - before )) -le $(( hz / 20 )) ] && return
  done
}

printf 'N make_s capstan_s ratio per_step_ms server_cpu_ms_per_step supervisor_and_steps_cpu_ms_per_step jit_cpu_s snakemake_s cached_rerun_s rerun_vs_uncached\n'
for n in "${sizes[@]}"; do
  dir="$work/dag-$n"
  python3 "$gen" "$n" "$dir" >/dev/null
  rm -rf "$dir/out"; start=$(date +%s%N); make -s -j2 -C "$dir" >/dev/null; make_s=$(echo "scale=3; ($(date +%s%N) - $start) / 1000000000" | bc)
  snake_s="-"
  if [ "${SNAKEMAKE:-1}" != 0 ] && command -v snakemake >/dev/null 2>&1; then
    rm -rf "$dir/out"; start=$(date +%s%N); (cd "$dir" && snakemake -q -j2 >/dev/null 2>&1) && snake_s=$(echo "scale=3; ($(date +%s%N) - $start) / 1000000000" | bc)
  fi
  await_quiet_jit
  server_before=$(cpu_ticks); children_before=$(supervisor_ticks); jit_before=$(jit_ticks)
  read -r phase capstan_s < <(run_pipeline "dag-$n-$RANDOM" "$dir/pipeline.yaml")
  server_ms=$(echo "scale=2; ($(cpu_ticks) - $server_before) * 1000 / $hz / $n" | bc)
  jit_s=$(echo "scale=2; ($(jit_ticks) - $jit_before) / $hz" | bc)
  children_ms=$(echo "scale=2; ($(supervisor_ticks) - $children_before) * 1000 / $hz / $n" | bc)
  [ "$phase" = "Succeeded" ] || echo "warning: the Capstan run ended $phase"
  ratio=$(echo "scale=2; $capstan_s / $make_s" | bc)
  per_step=$(echo "scale=2; $capstan_s * 1000 / $n" | bc)
  # Caching: the same DAG with caching on, run twice (the first fills the cache where the uncached run has not
  # already); the second is served entirely from the cache and is compared with the uncached run.
  sed 's/enableCache: false/enableCache: true/' "$dir/pipeline.yaml" >"$dir/cached.yaml"
  run_pipeline "cached-$n-a-$RANDOM" "$dir/cached.yaml" true >/dev/null
  await_quiet_jit
  read -r _ rerun_s < <(run_pipeline "cached-$n-b-$RANDOM" "$dir/cached.yaml" true)
  fraction=$(echo "scale=3; $rerun_s / $capstan_s" | bc)
  printf '%s %s %s %s %s %s %s %s %s %s %s\n' "$n" "$make_s" "$capstan_s" "$ratio" "$per_step" "$server_ms" "$children_ms" "$jit_s" "$snake_s" "$rerun_s" "$fraction"
done
