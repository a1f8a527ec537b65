#!/usr/bin/env bash
# README command 2: install, build, and run the whole test suite.
#   scripts/test.sh          everything CI runs: sanitizer runs (ASan+UBSan over the
#                            whole suite and every ONNX node test, TSan over the
#                            concurrency tests), a 60 s fuzz smoke per harness, then
#                            the Release build's ctest (its summary is the last line)
#   scripts/test.sh --quick  only the Release build and its ctest (the everyday loop)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
if [ "${1:-}" != "--quick" ]; then
  bash scripts/sanitize.sh all
  bash scripts/fuzz.sh --smoke
fi
cd build
ctest --output-on-failure -j"$(nproc)"
