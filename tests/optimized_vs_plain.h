// Runs a saved model twice, with the optimizer off and fully on, for tests of
// a graph pass: what the optimized graph holds (op type → count) and the
// largest difference between the two runs' float32 outputs (outputs matched
// by position; names, shapes and element counts required equal).
#pragma once
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "normrt/normrt.h"

namespace normrt::test {

struct OptimizedVsPlain {
  std::map<std::string, int> ops;  // in the optimized graph
  double max_diff = 0;             // over the float32 outputs
};

inline OptimizedVsPlain run_optimized_vs_plain(const std::string& path, const NamedTensors& in) {
  SessionOptions none, all;
  none.optimization = OptimizationLevel::None;
  all.optimization = OptimizationLevel::All;
  const NamedTensors a = Session(path, none).run(in), b = Session(path, all).run(in);
  OptimizedVsPlain r;
  for (auto& [op, n] : summarize_model(path, true).op_counts) r.ops[op] = n;
  REQUIRE(a.size() == b.size());
  for (size_t k = 0; k < a.size(); ++k) {
    REQUIRE(a[k].first == b[k].first);
    REQUIRE(a[k].second.shape() == b[k].second.shape());
    if (a[k].second.dtype() != DType::Float32) continue;
    for (int64_t i = 0; i < a[k].second.numel(); ++i)
      r.max_diff = std::max(r.max_diff, std::fabs(double(a[k].second.data<float>()[i]) - b[k].second.data<float>()[i]));
  }
  return r;
}

// How many nodes of `op` the optimized graph holds.
inline int op_count(const OptimizedVsPlain& r, const std::string& op) {
  auto it = r.ops.find(op);
  return it == r.ops.end() ? 0 : it->second;
}

}  // namespace normrt::test
