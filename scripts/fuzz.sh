#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang (AddressSanitizer + UBSan) in
# build-asan/ (scripts/configure-asan.sh) and runs each for SECONDS (default 60) on a seed corpus made from
# the repo's models, malformed corpus and tensor files. A crashing input is
# copied into tests/corpus/regressions/ (replayed by the unit tests) and the
# script fails.
#   scripts/fuzz.sh [SECONDS]  each harness for SECONDS (default 60), corpus kept in build-fuzz/
#   scripts/fuzz.sh --smoke    CI: each harness for a fixed number of runs (about a minute
#                              each here) from the seeds with a fixed seed, so the smoke is
#                              reproducible: what passes here passes in CI
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-60}
mkdir -p build-fuzz  # corpora, artifacts and logs; the harnesses are built in build-asan/
bash scripts/configure-asan.sh  # the sanitized build the ASan test run uses (its library is reused)
cmake --build build-asan -j"$(nproc)" --target fuzz_model fuzz_tensor fuzz_run fuzz_external > build-fuzz/build.log 2>&1 ||
  { tail -30 build-fuzz/build.log; exit 1; }

seeds=build-fuzz/seeds
rm -rf "$seeds"
mkdir -p "$seeds/model" "$seeds/tensor" "$seeds/run" "$seeds/external"
cp models/example/model.onnx "$seeds/model/example.onnx"
cp tests/corpus/malformed/*.onnx "$seeds/model/"
node=/usr/share/libonnx-testdata/data/node
for d in "$node"/test_layer_normalization_* "$node"/test_batchnorm_* "$node"/test_instancenorm_* "$node"/test_mvn*; do
  [ -f "$d/model.onnx" ] && cp "$d/model.onnx" "$seeds/model/$(basename "$d").onnx"
  [ -f "$d/test_data_set_0/input_0.pb" ] && cp "$d/test_data_set_0/input_0.pb" "$seeds/tensor/$(basename "$d").pb"
done
cp tests/corpus/malformed/*.npy tests/corpus/malformed/*.pb models/example/test_data_set_0/*.pb "$seeds/tensor/"
for m in "$seeds"/model/*.onnx; do
  { printf '\x02\x03\x04\x01\x05\x02\x07\x03'; cat "$m"; } > "$seeds/run/$(basename "$m").run"
done
# fuzz_external: dims, weights.bin's length (4 bytes, little-endian), weights.bin, model (tests/fuzz/fuzz_external.cpp);
# the malformed corpus's external-data models with its weights.bin.
w=tests/corpus/malformed/weights.bin
for m in tests/corpus/malformed/ext_*.onnx; do
  { printf '\x02\x03\x04\x01\x05\x02\x07\x03'; printf "\\x$(printf %02x $(stat -c %s $w))\\x00\\x00\\x00"; cat "$w" "$m"; } \
    > "$seeds/external/$(basename "$m").ext"
done
cp tests/corpus/regressions/*.ext "$seeds/external/"

export ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1
export NORMRT_MAX_TENSOR_BYTES=$((1 << 26))  # hostile shapes stay below the fuzzer's memory limit, and each run well inside -timeout (instrumented, an op costs up to ~0.15 µs per output element: a 64 MB output about 2.5 s)
export UBSAN_OPTIONS=print_stacktrace=1
status=0
declare -A smoke_runs=([model]=300000 [tensor]=1000000 [run]=200000 [external]=30000)
for h in model tensor run external; do
  work=build-fuzz/corpus_$h
  if [ "$mode" = --smoke ]; then
    rm -rf "$work"
    limit="-runs=${smoke_runs[$h]} -seed=1"
    echo "fuzz_$h: ${smoke_runs[$h]} runs, seed 1"
  else
    limit="-max_total_time=$mode"
    echo "fuzz_$h: ${mode}s"
  fi
  mkdir -p "$work" build-fuzz/artifacts_$h
  if ! ./build-asan/fuzz_$h "$work" "$seeds/$h" $limit -timeout=20 -rss_limit_mb=4096 \
      -max_len=200000 -artifact_prefix=build-fuzz/artifacts_$h/ -print_final_stats=1 > build-fuzz/fuzz_$h.log 2>&1; then
    status=1
    ext=onnx
    [ $h = tensor ] && ext=pb
    [ $h = run ] && ext=run
    [ $h = external ] && ext=ext
    for a in build-fuzz/artifacts_$h/*; do
      [ -f "$a" ] && cp "$a" "tests/corpus/regressions/$(basename "$a").$ext" && echo "  crash input kept: $(basename "$a").$ext"
    done
    grep -E "ERROR|SUMMARY|runtime error" build-fuzz/fuzz_$h.log | head -5
  fi
  grep -E "stat::number_of_executed_units|stat::new_units_added" build-fuzz/fuzz_$h.log | sed 's/^/  /'
done
exit $status
