// Swish fusion (passes/fuse_swish.cpp): Mul(x, Sigmoid(x)) becomes one
// ai.normrt Swish and Mul(x, HardSigmoid(x; 1/6, ½)) one HardSwish, either
// operand order, with outputs as the unfused graph's (inputs past ±88 and
// ±∞ included); a gate with another reader, a gate of another tensor and a
// HardSigmoid with other constants stay as they are.
#include <doctest/doctest.h>

#include <cmath>

#include "model_builder.h"
#include "normrt/normrt.h"
#include "optimized_vs_plain.h"

using namespace normrt;
using test::ModelBuilder;

namespace {

test::OptimizedVsPlain compare(ModelBuilder& m, const std::string& tag, const NamedTensors& in) {
  const auto dir = test::temp_dir("swish_" + tag);
  return test::run_optimized_vs_plain(m.save(dir / "m.onnx"), in);
}

Tensor inputs(int64_t n) {
  Tensor x = test::random_tensor({1, n}, 17);
  float* v = x.data<float>();
  for (int64_t i = 0; i < n; ++i) v[i] *= 8.f;  // both sides of the gates' bends
  v[0] = 100.f, v[1] = -100.f, v[2] = INFINITY, v[3] = 3.f, v[4] = -3.f;
  return x;
}

}  // namespace

TEST_CASE("Swish fusion: x·Sigmoid(x) and x·HardSigmoid(x) become one op, either operand order") {
  ModelBuilder m(13);
  m.input("x", {1, 70}).input("w", {1, 70}).output("silu").output("silu_rev").output("hswish");
  m.node("Sigmoid", {"x"}, {"s1"});
  m.node("Mul", {"x", "s1"}, {"silu"});
  m.node("Sigmoid", {"w"}, {"s2"});  // (of x too, the two Sigmoids would merge into one with two readers)
  m.node("Mul", {"s2", "w"}, {"silu_rev"});
  auto* hs = m.node("HardSigmoid", {"x"}, {"h"});
  ModelBuilder::attr_f(hs, "alpha", 1.f / 6.f);
  m.node("Mul", {"h", "x"}, {"hswish"});
  const auto r = compare(m, "fuse", {{"x", inputs(70)}, {"w", test::random_tensor({1, 70}, 5)}});
  CHECK(test::op_count(r, "ai.normrt::Swish") == 2);
  CHECK(test::op_count(r, "ai.normrt::HardSwish") == 1);
  CHECK(test::op_count(r, "Sigmoid") + test::op_count(r, "HardSigmoid") + test::op_count(r, "Mul") == 0);
  CHECK(r.max_diff <= 1e-6);
}

TEST_CASE("Swish fusion does not fire where it must not") {
  ModelBuilder m(13);
  m.input("x", {1, 40}).input("z", {1, 40}).output("y1").output("s1").output("y2").output("y3");
  m.node("Sigmoid", {"x"}, {"s1"});  // the gate is a graph output too
  m.node("Mul", {"x", "s1"}, {"y1"});
  m.node("Sigmoid", {"z"}, {"s2"});  // gates another tensor (a squeeze-excite scale)
  m.node("Mul", {"x", "s2"}, {"y2"});
  auto* hs = m.node("HardSigmoid", {"x"}, {"h"});  // ONNX's default α = 0.2: not HardSwish
  ModelBuilder::attr_f(hs, "beta", 0.5f);
  m.node("Mul", {"h", "x"}, {"y3"});
  const auto r = compare(m, "nofuse", {{"x", inputs(40)}, {"z", test::random_tensor({1, 40}, 3)}});
  CHECK(test::op_count(r, "ai.normrt::Swish") == 0);
  CHECK(test::op_count(r, "ai.normrt::HardSwish") == 0);
  CHECK(test::op_count(r, "Mul") == 3);
  CHECK(r.max_diff == 0);
}
