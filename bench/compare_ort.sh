#!/usr/bin/env bash
# Median latency of every model test (models/tests/) in normrt and in ONNX
# Runtime 1.30 (Node binding), at 1 and 2 threads, in one run; prints a
# Markdown table with the ratio normrt / ORT. ORT is measurement-only:
#   (cd /tmp/ort && npm install --ignore-scripts onnxruntime-node@1.30.0)
#   ORT_NODE=/tmp/ort/node_modules/onnxruntime-node bash bench/compare_ort.sh [build/normrt]
# The ORT figure includes ~15-20 µs of binding overhead per call (not subtracted).
set -euo pipefail
cd "$(dirname "$0")/.."
NORMRT=${1:-build/normrt}
tmp=$(mktemp -d)
echo "| model | threads | normrt median ms | ORT median ms | normrt / ORT |"
echo "|---|---|---|---|---|"
for dir in models/tests/*/; do
  name=$(basename "$dir")
  mkdir -p "$tmp/$name"
  cp "$dir/model.onnx" "$tmp/$name/"
  /usr/bin/python3 bench/pb_to_raw.py "$dir" "$tmp/$name"
  for t in 1 2; do
    n=$("$NORMRT" bench "$dir/model.onnx" --data-dir "$dir/test_data_set_0" --threads "$t" --warmup-ms 1000 \
        --duration 3 --quiet --json "$tmp/n.json" > /dev/null && /usr/bin/python3 -c \
        "import json; print(json.load(open('$tmp/n.json'))[0]['latency_ms']['median'])")
    o=$(node bench/ort_latency.js "$tmp/$name" "$t" 200 | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['median_ms'])")
    /usr/bin/python3 -c "print('| $name | $t | %.3f | %.3f | %.2f |' % ($n, $o, $n / $o))"
  done
done
rm -rf "$tmp"
