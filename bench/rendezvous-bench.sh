#!/usr/bin/env bash
# Rendezvous latency of a distributed torch job: time from submission until all 4 ranks have joined the process
# group, for a PyTorchJob run by Capstan's training controller (store, controller runtime, LocalBackend; 1 node x 4
# processes) and for `torchrun --nproc_per_node=4` on the same script, alternating in the same run, with the ratio.
# Needs a python3 with torch (Debian's /usr/bin/python3 with python3-torch). Usage: bench/rendezvous-bench.sh [ROUNDS]
# (default 3; QUICK=1: 1, a smoke run for CI). Builds the modules it needs first (online; MVN_OFFLINE=-o to stay offline).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${QUICK:-0}" = 1 ]; then rounds=${1:-1}; else rounds=${1:-3}; fi
python=""
for candidate in /usr/bin/python3 /usr/local/bin/python3 "$(command -v python3 || true)"; do
  if [ -n "$candidate" ] && "$candidate" -c 'import torch.distributed' 2>/dev/null; then python=$candidate; break; fi
done
[ -n "$python" ] || { echo "needs a python3 with torch (apt-get install python3-torch)"; exit 1; }
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
./mvnw -q ${MVN_OFFLINE:-} -pl capstan-training -am test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.classpath >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$JAVA_HOME/bin/java" -Xss2m --enable-native-access=ALL-UNNAMED \
  -cp "capstan-training/target/test-classes:capstan-training/target/classes:$(cat capstan-training/target/bench.classpath)" \
  io.capstan.training.bench.RendezvousBench "$python" "$PWD/capstan-training/src/test/resources/torch/ddp_check.py" "$work" "$rounds"
