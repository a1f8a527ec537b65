#!/usr/bin/env bash
# Installs normrt into a temporary prefix, builds examples/consumer against it
# with find_package(normrt), and runs it on the bundled example model.
#   install_consumer.sh BUILD_DIR SOURCE_DIR WORK_DIR
set -euo pipefail
build=$1 src=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"
test -f "$work/prefix/include/normrt/normrt.h"
test -f "$work/prefix/include/normrt/normrt_c.h"
ls "$work"/prefix/lib*/libnormrt.so.0 "$work"/prefix/lib*/libnormrt.a > /dev/null
cmake -S "$src/examples/consumer" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" > "$work/configure.log"
cmake --build "$work/build" > "$work/build.log"
"$work/build/consumer" "$src/models/example/model.onnx"
"$work/prefix/bin/normrt" --version
