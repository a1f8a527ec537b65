#!/usr/bin/env bash
# Installs normrt into a temporary prefix and builds the example consumers
# against it: through find_package(normrt) and through pkg-config, C and C++,
# none setting a C++ standard; checks the shared library's soname and exports.
#   install_consumer.sh BUILD_DIR SOURCE_DIR WORK_DIR
set -euo pipefail
build=$1 src=$2 work=$3
source "$src/tests/consumer_lib.sh"
rm -rf "$work"
mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"
test -f "$work/prefix/include/normrt/normrt.h"
test -f "$work/prefix/include/normrt/normrt_c.h"
lib=$(dirname "$(ls "$work"/prefix/lib*/libnormrt.so.0)")
test -f "$lib/libnormrt.a"
/usr/bin/python3 "$src/tests/check_exports.py" "$lib/libnormrt.so.0" "$work/prefix/include/normrt" 0
build_with_cmake "$work/prefix" "$src" "$work"
build_with_pkg_config "$lib/pkgconfig" "$lib" "$src" "$work"
check_python "$(ls -d "$work"/prefix/lib/python3*/dist-packages | head -1)" "$src"
"$work/prefix/bin/normrt" --version
echo "install_consumer: all steps passed"
