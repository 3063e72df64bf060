#!/usr/bin/env bash
# Search quality and speed: Capstan's algorithms (random, tpe, multivariate-tpe, bayesianoptimization, cmaes) and
# Optuna 3.1's samplers (TPE, CMA-ES, random, through ../shared/bench/hpo_peers.py) on Branin and Hartmann6, in the
# same run. Prints a markdown table (median best over seeds, its gap to the optimum, seconds per run, milliseconds
# per suggestion with 100 observations) and PASS/FAIL lines for the goals.
# Usage: bench/hpo-bench.sh [--quick] [HpoBench options: --trials 50,100 --seeds 10 --functions branin,hartmann6
#        --methods a,b --peers optuna:tpe,... | none --settings name=value,...]
# --quick: 3 seeds, 50 trials, Branin only. QUICK=1: a smoke run for CI (2 seeds, 20 trials, Branin; figures not meaningful).
# Builds capstan-search and the modules it needs first (online; MVN_OFFLINE=-o to stay offline), so it runs on a fresh clone.
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
peers=../shared/bench/hpo_peers.py
[ -f "$peers" ] || { echo "needs $peers (the shared bench folder beside the project)"; exit 1; }
args=()
[ "${QUICK:-0}" = 1 ] && args+=(--seeds 2 --trials 20 --functions branin)
for a in "$@"; do
  if [ "$a" = "--quick" ]; then args+=(--seeds 3 --trials 50 --functions branin); else args+=("$a"); fi
done
./mvnw -q ${MVN_OFFLINE:-} -pl capstan-search -am test-compile dependency:build-classpath -Dmdep.outputFile=target/hpo-bench.classpath >/dev/null
cp="capstan-search/target/classes:capstan-search/target/test-classes:$(cat capstan-search/target/hpo-bench.classpath)"
# Debian's python3 has optuna 3.1; the python3 on PATH may be a pyenv shim without it.
exec "$JAVA_HOME/bin/java" -cp "$cp" io.capstan.search.bench.HpoBench --peer-script "$peers" --python /usr/bin/python3 "${args[@]}"
