#!/usr/bin/env bash
# Median latency of every model test (models/tests/) in normrt and in ONNX
# Runtime 1.30 (Node binding), at 1 and 2 threads; prints a Markdown table
# with the ratio normrt / ORT. ORT is measurement-only:
#   (cd /tmp/ort && npm install --ignore-scripts onnxruntime-node@1.30.0)
#   ORT_NODE=/tmp/ort/node_modules/onnxruntime-node bash bench/compare_ort.sh [build/normrt] [MODEL...]
# The machine is shared and noisy, so each (model, threads) pair is measured
# in ROUNDS (default 3) alternating rounds of normrt then ORT (2 s each); the
# table gives the median of the per-round medians of each runtime, their ratio,
# and the median of the per-round ratios.
# The ORT figure includes ~15-20 µs of binding overhead per call (not subtracted).
set -euo pipefail
cd "$(dirname "$0")/.."
NORMRT=${1:-build/normrt}
shift || true
MODELS=("$@")
[ ${#MODELS[@]} -eq 0 ] && for d in models/tests/*/; do MODELS+=("$(basename "$d")"); done
ROUNDS=${ROUNDS:-3}
tmp=$(mktemp -d)
median() { /usr/bin/python3 -c "import statistics,sys; print(statistics.median(float(x) for x in sys.argv[1:]))" "$@"; }
echo "| model | threads | normrt median ms | ORT median ms | normrt / ORT | per-round ratio, median |"
echo "|---|---|---|---|---|---|"
for name in "${MODELS[@]}"; do
  dir=models/tests/$name
  mkdir -p "$tmp/$name"
  cp "$dir/model.onnx" "$tmp/$name/"
  /usr/bin/python3 bench/pb_to_raw.py "$dir" "$tmp/$name"
  for t in 1 2; do
    ns=() os=()
    for _ in $(seq "$ROUNDS"); do
      ns+=("$("$NORMRT" bench "$dir/model.onnx" --data-dir "$dir/test_data_set_0" --threads "$t" --warmup-ms 500 \
        --duration 2 --quiet --json "$tmp/n.json" > /dev/null && /usr/bin/python3 -c \
        "import json; print(json.load(open('$tmp/n.json'))[0]['latency_ms']['median'])")")
      os+=("$(ORT_WARMUP_MS=500 ORT_DURATION_MS=2000 node bench/ort_latency.js "$tmp/$name" "$t" 100 | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['median_ms'])")")
    done
    # Also the median over rounds of each round's ratio (normrt and ORT measured back to back,
    # so a slow phase of the machine that spans the round cancels out).
    /usr/bin/python3 - "$name" "$t" "${ns[*]}" "${os[*]}" <<'PY'
import statistics as st, sys
name, t = sys.argv[1], sys.argv[2]
ns, os_ = [float(v) for v in sys.argv[3].split()], [float(v) for v in sys.argv[4].split()]
n, o = st.median(ns), st.median(os_)
paired = st.median(a / b for a, b in zip(ns, os_))
print(f"| {name} | {t} | {n:.3f} | {o:.3f} | {n / o:.2f} | {paired:.2f} |")
PY
  done
done
rm -rf "$tmp"
