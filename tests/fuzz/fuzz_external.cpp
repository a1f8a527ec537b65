// libFuzzer harness: a model with external data, loaded from files in a
// temporary folder, then run — so the external-data path checks (absolute
// paths, escapes from the model's folder, folders, missing files) and the
// offset/length bounds are fuzzed on real files. Input layout (the replay test
// reads the same, tests/corpus/regressions/*.ext):
//   8 bytes   the inputs' dims (fuzz_inputs.h)
//   4 bytes   n, little-endian: the length of weights.bin (clamped to what is left)
//   n bytes   weights.bin, written beside model.onnx
//   the rest  model.onnx
// A file outside the model's folder (../outside.bin) exists, so an escape
// that the loader failed to refuse would find something to read.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "fuzz_inputs.h"

namespace {

std::filesystem::path model_folder() {
  static const std::filesystem::path folder = [] {
    char tmpl[] = "/tmp/normrt_fuzz_external_XXXXXX";
    if (!mkdtemp(tmpl)) std::abort();
    const std::filesystem::path root = tmpl;
    std::filesystem::create_directory(root / "model");
    std::ofstream(root / "outside.bin", std::ios::binary) << std::string(64, '\x7f');
    static std::filesystem::path to_remove = root;
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(to_remove, ignored);
    });
    return root / "model";
  }();
  return folder;
}

void write_file(const std::filesystem::path& p, const uint8_t* data, size_t n) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(n));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 12) return 0;
  size_t n = size_t{data[8]} | size_t{data[9]} << 8 | size_t{data[10]} << 16 | size_t{data[11]} << 24;
  if (n > size - 12) n = size - 12;
  const std::filesystem::path dir = model_folder();
  write_file(dir / "weights.bin", data + 12, n);
  write_file(dir / "model.onnx", data + 12 + n, size - 12 - n);
  try {
    normrt::SessionOptions o;
    o.threads = 1;
    normrt::fuzz::load_and_run(normrt::Session((dir / "model.onnx").string(), o), data);
  } catch (const normrt::Error&) {
  }
  return 0;
}
