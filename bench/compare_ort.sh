#!/usr/bin/env bash
# Median latency of every model test (models/tests/) and every full-size
# benchmark model made by scripts/make_bench_models.py (bench/models/, when
# present) in normrt and in ONNX Runtime 1.30 (Node binding), at 1 and 2
# threads; prints a Markdown table with the ratio normrt / ORT. ORT is
# measurement-only:
#   (cd /tmp/ort && npm install --ignore-scripts onnxruntime-node@1.30.0)
#   ORT_NODE=/tmp/ort/node_modules/onnxruntime-node bash bench/compare_ort.sh [build/normrt] [MODEL...]
# A MODEL is a folder name under models/tests/ or bench/models/. NORMRT_ISA
# (sse2, avx2, avx512) picks normrt's path; THREADS (default "1 2") the thread counts.
# The machine is shared and noisy, so each (model, threads) pair is measured
# in ROUNDS (default 3) alternating rounds of normrt then ORT (2 s each); the
# table gives the median of the per-round medians of each runtime, their ratio,
# the median of the per-round ratios, and the ratio of the fastest single runs
# over all rounds (a slow phase of the machine only ever adds time, so the
# minima move least between runs).
# The ORT figure includes ~15-20 µs of binding overhead per call (not subtracted).
# PIN=CPU runs both runtimes' 1-thread rounds on that CPU (taskset): the vCPUs of
# a shared host can run at different speeds for minutes (bench/README.md,
# thirteenth measurement), and an unpinned 1-thread process lands on either.
set -euo pipefail
cd "$(dirname "$0")/.."
NORMRT=${1:-build/normrt}
shift || true
MODELS=("$@")
[ ${#MODELS[@]} -eq 0 ] && for d in models/tests/*/ bench/models/*/; do [ -f "$d/model.onnx" ] && MODELS+=("$d"); done
THREADS=${THREADS:-1 2}
ROUNDS=${ROUNDS:-3}
tmp=$(mktemp -d)
echo "| model | threads | normrt median ms | ORT median ms | normrt / ORT | per-round ratio, median | normrt min ms | ORT min ms | min / min |"
echo "|---|---|---|---|---|---|---|---|---|"
for m in "${MODELS[@]}"; do
  dir=${m%/}
  [ -f "$dir/model.onnx" ] || [ ! -f "models/tests/$m/model.onnx" ] || [ ! -f "bench/models/$m/model.onnx" ] ||
    echo "'$m' names both models/tests/$m and bench/models/$m: timing the model test (give bench/models/$m for the full-size one)" >&2
  [ -f "$dir/model.onnx" ] || dir=models/tests/$m
  [ -f "$dir/model.onnx" ] || dir=bench/models/$m
  [ -f "$dir/model.onnx" ] || { echo "no model '$m' in models/tests/ or bench/models/" >&2; exit 1; }
  name=$(basename "$dir")
  mkdir -p "$tmp/$name"
  ln -s "$(realpath "$dir/model.onnx")" "$tmp/$name/model.onnx"
  /usr/bin/python3 bench/pb_to_raw.py "$dir" "$tmp/$name"
  for t in $THREADS; do
    pin=()
    [ -n "${PIN:-}" ] && [ "$t" = 1 ] && pin=(taskset -c "$PIN")
    ns=() os=() nmins=() omins=()
    for _ in $(seq "$ROUNDS"); do
      med="" mn=""
      read -r med mn < <("${pin[@]}" "$NORMRT" bench "$dir/model.onnx" --data-dir "$dir/test_data_set_0" --threads "$t" \
        --warmup-ms 500 --duration 2 --quiet --json "$tmp/n.json" > /dev/null && /usr/bin/python3 -c \
        "import json; l = json.load(open('$tmp/n.json'))[0]['latency_ms']; print(l['median'], l['min'])")
      [ -n "${mn:-}" ] || { echo "normrt bench failed on $name" >&2; exit 1; }
      ns+=("$med") nmins+=("$mn")
      med="" mn=""
      read -r med mn < <(ORT_WARMUP_MS=500 ORT_DURATION_MS=2000 "${pin[@]}" node bench/ort_latency.js "$tmp/$name" "$t" 100 |
        /usr/bin/python3 -c "import json,sys; d = json.load(sys.stdin); print(d['median_ms'], d['min_ms'])")
      [ -n "${mn:-}" ] || { echo "ORT failed on $name" >&2; exit 1; }
      os+=("$med") omins+=("$mn")
    done
    # Also the median over rounds of each round's ratio (normrt and ORT measured back to back,
    # so a slow phase of the machine that spans the round cancels out).
    /usr/bin/python3 - "$name" "$t" "${ns[*]}" "${os[*]}" "${nmins[*]}" "${omins[*]}" <<'PY'
import statistics as st, sys
name, t = sys.argv[1], sys.argv[2]
ns, os_, nm, om = ([float(v) for v in a.split()] for a in sys.argv[3:7])
n, o = st.median(ns), st.median(os_)
paired = st.median(a / b for a, b in zip(ns, os_))
print(f"| {name} | {t} | {n:.3f} | {o:.3f} | {n / o:.2f} | {paired:.2f} | {min(nm):.3f} | {min(om):.3f} | {min(nm) / min(om):.2f} |")
PY
  done
done
rm -rf "$tmp"
