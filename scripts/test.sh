#!/usr/bin/env bash
# README command 2: install, build, and run the whole test suite (ctest last).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
cd build
ctest --output-on-failure -j"$(nproc)"
