#!/usr/bin/env bash
# README command 1: install, build, and run the bundled example model:
# describe it, run it once, check it against its expected outputs, benchmark it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
./build/normrt info models/example/model.onnx
./build/normrt run models/example/model.onnx --shape x=1x128x64 --repeat 200
./build/normrt check models/example
./build/normrt bench models/example/model.onnx --shape x=1x128x64 --duration 2 --profile
