// ONNX backend conformance: runs `normrt check` on every folder of the ONNX
// node tests whose ops normrt supports (at ONNX's own tolerances, rtol 1e-3 and
// atol 1e-7, also `normrt check`'s defaults), and compares with the committed list
// of tests expected to pass. A listed test that fails is a regression (exit 1);
// a passing test not on the list is reported so the list can grow.
// Every test of a supported op that fails must be listed, with its reason, in
// KNOWN_FAILURES_FILE; an unexplained failure fails the run too. A failure must
// end as `normrt check` ends a failure — exit 1 (mismatch) or 2 (error) —: a
// crash, a signal or a sanitizer's own exit code fails the run, listed or not.
// A listed known failure that now passes, or that is never run (no such
// folder, or skipped for unsupported ops), is stale and fails the run.
// With NOT_RUN_FILE, every skipped test (ops, types or values normrt cannot
// load or plan) must match one of its patterns (a name, or a prefix ending in
// '*'), which gives the reason; a skipped test it does not explain, and a
// pattern that explains no skipped test, fail the run.
//   conformance NORMRT_BINARY NODE_TEST_DIR EXPECTED_PASS_FILE [KNOWN_FAILURES_FILE [NOT_RUN_FILE]]
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "normrt/normrt.h"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc < 4 || argc > 6) {
    std::fprintf(stderr,
                 "usage: conformance NORMRT_BINARY NODE_TEST_DIR EXPECTED_PASS_FILE [KNOWN_FAILURES_FILE "
                 "[NOT_RUN_FILE]]\n");
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
  // "name  reason" lines; false when the file cannot be read or a line gives no reason.
  auto read_reasons = [](const char* file, std::map<std::string, std::string>& out) {
    std::ifstream f(file);
    if (!f) {
      std::fprintf(stderr, "conformance: cannot read %s\n", file);
      return false;
    }
    for (std::string line; std::getline(f, line);) {
      if (line.empty() || line[0] == '#') continue;
      const size_t sp = line.find_first_of(" \t");
      const size_t r = sp == std::string::npos ? sp : line.find_first_not_of(" \t", sp);
      if (r == std::string::npos) {
        std::fprintf(stderr, "conformance: %s: '%s' gives no reason\n", file, line.c_str());
        return false;
      }
      out[line.substr(0, sp)] = line.substr(r);
    }
    return true;
  };
  std::map<std::string, std::string> known;    // test -> reason
  std::map<std::string, std::string> not_run;  // pattern -> reason
  if (argc >= 5 && !read_reasons(argv[4], known)) return 2;
  if (argc == 6 && !read_reasons(argv[5], not_run)) return 2;
  auto matches = [](const std::string& pattern, const std::string& name) {
    if (!pattern.empty() && pattern.back() == '*')
      return name.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0;
    return name == pattern;
  };
  std::vector<std::string> dirs;
  for (auto& e : fs::directory_iterator(root))
    if (e.is_directory() && fs::exists(e.path() / "model.onnx")) dirs.push_back(e.path().filename().string());
  std::sort(dirs.begin(), dirs.end());

  std::set<std::string> passed, failed, skipped;
  std::map<std::string, int> exit_code;  // of each failed test
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
    std::string cmd =
        "'" + normrt + "' check '" + (root / d).string() + "' --threads 2 --rtol 1e-3 --atol 1e-7 > /dev/null 2>&1";
    int status = std::system(cmd.c_str());
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    (code == 0 ? passed : failed).insert(d);
    if (code != 0) exit_code[d] = code;
  }
  std::vector<std::string> regressions, newly, missing;
  for (auto& e : expected) {
    if (!passed.count(e)) (failed.count(e) ? regressions : missing).push_back(e);
  }
  for (auto& p : passed)
    if (!expected.count(p)) newly.push_back(p);
  std::printf("conformance: %zu node tests, %zu with only supported ops: %zu pass, %zu fail; %zu expected to pass\n",
              dirs.size(), passed.size() + failed.size(), passed.size(), failed.size(), expected.size());
  std::vector<std::string> unexplained;
  for (auto& f : failed) {
    if (expected.count(f)) continue;
    if (known.count(f))
      std::printf("  known failure: %s (%s)\n", f.c_str(), known[f].c_str());
    else if (argc >= 5)
      unexplained.push_back(f);
  }
  std::vector<std::string> crashed, stale;
  for (auto& [d, code] : exit_code)
    if (code != 1 && code != 2) crashed.push_back(d + " (exit " + std::to_string(code) + ")");
  for (auto& [k, why] : known)
    if (!failed.count(k))
      stale.push_back(k + (passed.count(k) ? " (now passes)" : " (never runs: no such folder, or unsupported ops)"));
  std::vector<std::string> unlisted_skips, stale_not_run;
  std::map<std::string, size_t> reason_count;
  if (argc == 6) {
    std::set<std::string> used;
    for (auto& d : skipped) {
      bool found = false;
      for (auto& [pattern, why] : not_run)
        if (matches(pattern, d)) {
          used.insert(pattern);
          ++reason_count[why];
          found = true;
          break;
        }
      if (!found) unlisted_skips.push_back(d);
    }
    for (auto& [pattern, why] : not_run)
      if (!used.count(pattern)) stale_not_run.push_back(pattern);
    std::printf("  %zu skipped (cannot load or plan):\n", skipped.size());
    for (auto& [why, n] : reason_count) std::printf("    %3zu  %s\n", n, why.c_str());
  }
  for (auto& u : unlisted_skips)
    std::printf("  UNEXPLAINED SKIP (support it, or list it with the reason in the not-run file): %s\n", u.c_str());
  for (auto& st : stale_not_run)
    std::printf("  STALE NOT-RUN ENTRY (it explains no skipped test: remove it): %s\n", st.c_str());
  for (auto& c : crashed)
    std::printf("  CRASH (ended other than exit 1 or 2: a crash, a signal or a sanitizer report): %s\n", c.c_str());
  for (auto& st : stale)
    std::printf("  STALE KNOWN FAILURE (remove it from the known-failures file): %s\n", st.c_str());
  for (auto& u : unexplained)
    std::printf("  UNEXPLAINED FAILURE (fix it, or list it with the reason in the known-failures file): %s\n",
                u.c_str());
  for (auto& n : newly) std::printf("  newly passing (add to the expected list): %s\n", n.c_str());
  for (auto& m : missing) std::printf("  REGRESSION (now skipped as unsupported): %s\n", m.c_str());
  for (auto& r : regressions) std::printf("  REGRESSION: %s\n", r.c_str());
  return regressions.empty() && missing.empty() && unexplained.empty() && crashed.empty() && stale.empty() &&
                 unlisted_skips.empty() && stale_not_run.empty()
             ? 0
             : 1;
}
