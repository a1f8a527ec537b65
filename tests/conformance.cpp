// ONNX backend conformance: runs `normrt check` on every folder of the ONNX
// node tests whose ops normrt supports, and compares with the committed list
// of tests expected to pass. A listed test that fails is a regression (exit 1);
// a passing test not on the list is reported so the list can grow.
//   conformance NORMRT_BINARY NODE_TEST_DIR EXPECTED_PASS_FILE
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "normrt/normrt.h"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: conformance NORMRT_BINARY NODE_TEST_DIR EXPECTED_PASS_FILE\n");
    return 2;
  }
  const std::string normrt = argv[1];
  const fs::path root = argv[2];
  if (!fs::is_directory(root)) {
    std::fprintf(stderr, "conformance: %s is not a folder (install Debian's libonnx-testdata)\n", argv[2]);
    return 2;
  }
  std::set<std::string> expected;
  {
    std::ifstream f(argv[3]);
    if (!f) {
      std::fprintf(stderr, "conformance: cannot read %s\n", argv[3]);
      return 2;
    }
    for (std::string line; std::getline(f, line);)
      if (!line.empty() && line[0] != '#') expected.insert(line);
  }
  std::vector<std::string> dirs;
  for (auto& e : fs::directory_iterator(root))
    if (e.is_directory() && fs::exists(e.path() / "model.onnx")) dirs.push_back(e.path().filename().string());
  std::sort(dirs.begin(), dirs.end());

  std::set<std::string> passed, failed, skipped;
  for (auto& d : dirs) {
    try {
      normrt::ModelSummary s = normrt::summarize_model((root / d / "model.onnx").string());
      if (!s.unsupported.empty()) {
        skipped.insert(d);
        continue;
      }
    } catch (const normrt::Error&) {
      skipped.insert(d);  // e.g. sequence or string inputs normrt does not model
      continue;
    }
    std::string cmd = "'" + normrt + "' check '" + (root / d).string() + "' --threads 2 > /dev/null 2>&1";
    int status = std::system(cmd.c_str());
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    (code == 0 ? passed : failed).insert(d);
  }
  std::vector<std::string> regressions, newly, missing;
  for (auto& e : expected) {
    if (!passed.count(e)) (failed.count(e) ? regressions : missing).push_back(e);
  }
  for (auto& p : passed)
    if (!expected.count(p)) newly.push_back(p);
  std::printf("conformance: %zu node tests, %zu with only supported ops: %zu pass, %zu fail; %zu expected to pass\n",
              dirs.size(), passed.size() + failed.size(), passed.size(), failed.size(), expected.size());
  for (auto& f : failed)
    if (!expected.count(f)) std::printf("  known failure: %s\n", f.c_str());
  for (auto& n : newly) std::printf("  newly passing (add to the expected list): %s\n", n.c_str());
  for (auto& m : missing) std::printf("  REGRESSION (now skipped as unsupported): %s\n", m.c_str());
  for (auto& r : regressions) std::printf("  REGRESSION: %s\n", r.c_str());
  return regressions.empty() && missing.empty() ? 0 : 1;
}
