# Shared by install_consumer.sh and deb_consumer.sh (sourced): build the
# example consumers against an installed normrt tree and check what they print.
# Every failing step fails the test (set -e in the callers; outputs are grepped).

# build_with_cmake ROOT SRC WORK — examples/consumer through find_package(normrt),
# no C++ standard set anywhere; runs both programs on the example model.
build_with_cmake() {
  local root=$1 src=$2 work=$3
  cmake -S "$src/examples/consumer" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$root" > "$work/cmake-configure.log"
  cmake --build "$work/cmake-build" > "$work/cmake-build.log"
  check_consumer_output "$work/cmake-build/consumer" "$src" "isa "
  check_consumer_output "$work/cmake-build/consumer_c" "$src" "(C API)"
}

# build_with_pkg_config PC_DIR LIB_DIR SRC WORK — one-file C and C++ programs
# compiled with $(pkg-config --cflags --libs normrt) at the compilers' default
# standards, then run.
build_with_pkg_config() {
  local pc_dir=$1 lib_dir=$2 src=$3 work=$4
  mkdir -p "$work/pc"
  local flags
  flags=$(PKG_CONFIG_PATH="$pc_dir" pkg-config --cflags --libs normrt)
  test "$(PKG_CONFIG_PATH="$pc_dir" pkg-config --modversion normrt)" = "0.1.0"
  cc "$src/examples/consumer/main.c" $flags -Wl,-rpath,"$lib_dir" -o "$work/pc/consumer_c"
  c++ "$src/examples/consumer/main.cpp" $flags -Wl,-rpath,"$lib_dir" -o "$work/pc/consumer"
  check_consumer_output "$work/pc/consumer" "$src" "isa "
  check_consumer_output "$work/pc/consumer_c" "$src" "(C API)"
}

# check_consumer_output PROGRAM SRC MARK — runs it on the example model; the
# output must name y with its shape and end with the version line and MARK.
check_consumer_output() {
  local out
  out=$("$1" "$2/models/example/model.onnx")
  echo "$out"
  grep -q "y: \[2,2,64\]" <<< "$out"
  grep -q "normrt 0\.1\.0.*$3" <<< "$out"
}

# check_python PACKAGE_DIR SRC — the installed Python package (when it was
# built) imports from PACKAGE_DIR and runs the example model.
check_python() {
  if [ ! -d "$1/normrt" ]; then
    echo "no Python package installed (NORMRT_PYTHON off): skipped"
    return
  fi
  local out
  out=$(PYTHONPATH="$1" /usr/bin/python3 -c "
import numpy as np, normrt
s = normrt.InferenceSession('$2/models/example/model.onnx')
y, z = s.run(None, {'x': np.ones((2, 2, 64), np.float32), 'img': np.ones((2, 8, 16, 16), np.float32)})
print('python', normrt.__file__, y.shape, normrt.__version__)")
  echo "$out"
  grep -q "^python $1/normrt/__init__.py (2, 2, 64) 0\.1\.0$" <<< "$out"
}
