// The committed malformed-input corpus (tests/corpus/malformed, made by
// make_malformed.py): every file fails with the expected error category and
// message. And the fuzzing regression corpus: every input that once crashed
// a harness now ends in success or a normrt::Error.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fuzz/fuzz_inputs.h"
#include "model_builder.h"
#include "normrt/normrt.h"

using namespace normrt;
namespace fs = std::filesystem;

namespace {

const fs::path kCorpus = fs::path(NORMRT_SOURCE_DIR) / "tests" / "corpus";

const char* category_name(ErrorCode c) {
  switch (c) {
    case ErrorCode::InvalidModel:
      return "InvalidModel";
    case ErrorCode::UnsupportedOp:
      return "UnsupportedOp";
    case ErrorCode::InvalidArgument:
      return "InvalidArgument";
    case ErrorCode::IO:
      return "IO";
    case ErrorCode::Internal:
      return "Internal";
  }
  return "?";
}

bool is_tensor_file(const fs::path& p) { return p.extension() == ".npy" || p.extension() == ".pb"; }

std::string read_all(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("every malformed input fails with its expected error category and message") {
  std::ifstream list(kCorpus / "malformed" / "expected.tsv");
  REQUIRE(list.good());
  int count = 0;
  for (std::string line; std::getline(list, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::stringstream row(line);
    std::string file, category, message;
    std::getline(row, file, '\t');
    std::getline(row, category, '\t');
    std::getline(row, message);
    const fs::path path = kCorpus / "malformed" / file;
    CAPTURE(file);
    REQUIRE(fs::exists(path));
    bool thrown = false;
    try {
      if (is_tensor_file(path)) {
        read_tensor_file(path.string());
      } else {
        SessionOptions o;
        o.threads = 1;
        Session s(path.string(), o);
      }
    } catch (const Error& e) {
      thrown = true;
      CHECK(std::string(category_name(e.code())) == category);
      CHECK(std::string(e.what()).find(message) != std::string::npos);
      if (!is_tensor_file(path)) CHECK(std::string(e.what()).find(file) != std::string::npos);  // names the file
    }
    CHECK(thrown);
    ++count;
  }
  CHECK(count >= 50);
}

TEST_CASE("fuzzing regressions replay without a crash") {
  // Each kept input goes through what its harness does (tests/fuzz/), with the
  // harness's own input filling; the only acceptable failure is a normrt::Error.
  const fs::path folder = test::temp_dir("fuzz_replay");
  int replayed = 0;
  for (const auto& entry : fs::directory_iterator(kCorpus / "regressions")) {
    const fs::path p = entry.path();
    if (p.extension() == ".md") continue;
    CAPTURE(p.filename().string());
    const std::string bytes = read_all(p);
    const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
    SessionOptions o;
    o.threads = 1;
    try {
      if (is_tensor_file(p)) {  // fuzz_tensor: both parsers
        try {
          parse_npy(bytes, p.string());
        } catch (const Error&) {
        }
        parse_tensor_pb(bytes, p.string());
      } else if (p.extension() == ".run") {  // fuzz_run
        if (bytes.size() >= 8)
          fuzz::load_and_run(Session::from_memory(bytes.data() + 8, bytes.size() - 8, "", o), data);
      } else if (p.extension() == ".ext") {  // fuzz_external
        if (bytes.size() >= 12) {
          size_t n = size_t{data[8]} | size_t{data[9]} << 8 | size_t{data[10]} << 16 | size_t{data[11]} << 24;
          n = std::min(n, bytes.size() - 12);
          fs::create_directories(folder / "model");
          std::ofstream(folder / "model" / "weights.bin", std::ios::binary | std::ios::trunc) << bytes.substr(12, n);
          std::ofstream(folder / "model" / "model.onnx", std::ios::binary | std::ios::trunc) << bytes.substr(12 + n);
          fuzz::load_and_run(Session((folder / "model" / "model.onnx").string(), o), data);
        }
      } else {  // fuzz_model
        Session::from_memory(bytes.data(), bytes.size(), "", o);
      }
    } catch (const Error&) {
    } catch (const std::exception& e) {
      FAIL("ended in a non-normrt exception: " << e.what());
    }
    ++replayed;
  }
  CHECK(replayed >= 7);
}
