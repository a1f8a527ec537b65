#!/usr/bin/env bash
# Makes the Debian package with cpack, checks its metadata and contents,
# unpacks it (dpkg -x) into a temporary root and builds the example consumers
# against that root through find_package(normrt) and through pkg-config.
#   deb_consumer.sh BUILD_DIR SOURCE_DIR WORK_DIR
set -euo pipefail
build=$1 src=$2 work=$3
source "$src/tests/consumer_lib.sh"
rm -rf "$work"
mkdir -p "$work"
(cd "$build" && cpack -G DEB -B "$work/deb" > "$work/cpack.log")
deb=$(ls "$work"/deb/normrt_0.1.0_*.deb)
info=$(dpkg-deb -I "$deb")
echo "$info"
grep -q "^ Package: normrt$" <<< "$info"
grep -q "^ Version: 0.1.0$" <<< "$info"
grep -q "^ Architecture: amd64$" <<< "$info"
for dep in libtbb12 libprotobuf32 libonnx1 libstdc++6 libtbb-dev libprotobuf-dev libonnx-dev; do
  grep -q "^ Depends:.*\b$dep\b" <<< "$info" || { echo "Depends lacks $dep"; exit 1; }
done
contents=$(dpkg-deb -c "$deb")
for f in ./usr/include/normrt/normrt.h ./usr/include/normrt/normrt_c.h ./usr/bin/normrt ./usr/lib/libnormrt.so.0.1.0 \
         ./usr/lib/libnormrt.a ./usr/lib/cmake/normrt/normrtConfig.cmake ./usr/lib/pkgconfig/normrt.pc \
         ./usr/lib/python3.*/dist-packages/normrt/__init__.py; do
  grep -q " $f\b" <<< "$contents" || { echo "the package lacks $f"; exit 1; }
done
dpkg -x "$deb" "$work/root"
/usr/bin/python3 "$src/tests/check_exports.py" "$work/root/usr/lib/libnormrt.so.0" "$work/root/usr/include/normrt" 0
build_with_cmake "$work/root/usr" "$src" "$work"
build_with_pkg_config "$work/root/usr/lib/pkgconfig" "$work/root/usr/lib" "$src" "$work"
check_python "$(ls -d "$work"/root/usr/lib/python3*/dist-packages | head -1)" "$src"
echo "deb_consumer: all steps passed"
