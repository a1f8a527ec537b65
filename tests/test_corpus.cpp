// The committed malformed-input corpus (tests/corpus/malformed, made by
// make_malformed.py): every file fails with the expected error category and
// message. And the fuzzing regression corpus: every input that once crashed
// a harness now ends in success or a normrt::Error.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

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
  for (const auto& entry : fs::directory_iterator(kCorpus / "regressions")) {
    const fs::path p = entry.path();
    if (p.extension() == ".md") continue;
    CAPTURE(p.filename().string());
    const std::string bytes = read_all(p);
    try {
      if (is_tensor_file(p)) {
        parse_npy(bytes, p.string());
      }
    } catch (const Error&) {
    }
    try {
      if (is_tensor_file(p)) parse_tensor_pb(bytes, p.string());
    } catch (const Error&) {
    }
    if (is_tensor_file(p)) continue;
    const bool run = p.extension() == ".run";
    if (run && bytes.size() < 8) continue;
    try {
      SessionOptions o;
      o.threads = 1;
      const size_t skip = run ? 8 : 0;
      Session s = Session::from_memory(bytes.data() + skip, bytes.size() - skip, "", o);
      if (run) {
        NamedTensors inputs;
        size_t k = 0;
        for (const ValueMeta& m : s.inputs()) {
          Shape shape;
          const size_t rank = m.has_shape ? m.shape.size() : static_cast<uint8_t>(bytes[k++ % 8]) % 5;
          for (size_t d = 0; d < rank; ++d)
            shape.push_back(m.has_shape && m.shape[d] >= 0 ? m.shape[d] : static_cast<uint8_t>(bytes[k++ % 8]) % 9);
          if (shape_numel(shape, m.dtype) > (1 << 16)) throw Error(ErrorCode::InvalidArgument, "too big to replay");
          inputs.emplace_back(m.name, Tensor(m.dtype, shape));
        }
        s.run(inputs);
      }
    } catch (const Error&) {
    }
  }
}
