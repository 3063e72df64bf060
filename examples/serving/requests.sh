#!/usr/bin/env bash
# Calls a served model with the Open Inference Protocol (v2) and with V1. Usage: examples/serving/requests.sh [BASE_URL]
set -euo pipefail
base=${1:-http://127.0.0.1:8080}
curl -fsS "$base/v2/models/iris"; echo
curl -fsS -H 'Content-Type: application/json' "$base/v2/models/iris/infer" \
  -d '{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[[6.8,2.8,4.8,1.4],[6.0,3.4,4.5,1.6]]}]}'; echo
curl -fsS -H 'Content-Type: application/json' "$base/v1/models/iris:predict" -d '{"instances":[[6.8,2.8,4.8,1.4]]}'; echo
# the same model through its namespace's route
curl -fsS -H 'Content-Type: application/json' "$base/serving/default/v2/models/iris/infer" \
  -d '{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[6.8,2.8,4.8,1.4]}],"outputs":[{"name":"label"}]}'; echo
