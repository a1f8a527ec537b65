// Row hoisting (passes/hoist_gathered_rows.cpp): an unrolled loop's per-step
// MatMul → LayerNormalization → Tanh on Gather(x, t, axis=1) becomes one of
// each over all of x, followed by the Gathers; outputs equal the unoptimized
// graph's. It does not fire where the rewrite would change the result or add
// work: too few steps, the gathered axis being the last, an unknown length.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "model_builder.h"
#include "normrt/normrt.h"

using namespace normrt;
using test::ModelBuilder;

namespace {

int count(const ModelSummary& s, const std::string& op) {
  for (auto& [k, n] : s.op_counts)
    if (k == op) return n;
  return 0;
}

// x [1, T, 8] (T < 0: symbolic); steps t in `steps` each compute
// tanh(LayerNorm(x[:, t] · W)) as output y<t>; Gather along `axis`.
ModelBuilder unrolled(int64_t T, const std::vector<int64_t>& steps, int64_t axis = 1, bool vector_index = false) {
  ModelBuilder m(17);
  m.input("x", {1, T, 8});
  std::vector<float> w(8 * 12), sc(12), bi(12);
  for (size_t i = 0; i < w.size(); ++i) w[i] = std::sin(0.37f * static_cast<float>(i));
  for (size_t i = 0; i < sc.size(); ++i)
    sc[i] = 1.f + 0.1f * static_cast<float>(i), bi[i] = 0.05f * static_cast<float>(i);
  m.init_f("W", {8, 12}, w);
  m.init_f("scale", {12}, sc);
  m.init_f("bias", {12}, bi);
  for (int64_t t : steps) {
    const std::string s = std::to_string(t);
    auto* idx = m.init_i64("i" + s, {t});
    if (!vector_index) idx->clear_dims();
    ModelBuilder::attr_i(m.node("Gather", {"x", "i" + s}, {"g" + s}), "axis", axis);
    m.node("MatMul", {"g" + s, "W"}, {"m" + s});
    m.node("LayerNormalization", {"m" + s, "scale", "bias"}, {"n" + s});
    m.node("Tanh", {"n" + s}, {"y" + s});
    m.output("y" + s);
  }
  return m;
}

struct Outcome {
  ModelSummary optimized;
  double max_diff = 0;
};

Outcome run_both(ModelBuilder& m, int64_t T, const std::string& tag) {
  auto dir = test::temp_dir("hoist_" + tag);
  const std::string path = m.save(dir / "m.onnx");
  SessionOptions none, all;
  none.optimization = OptimizationLevel::None;
  all.optimization = OptimizationLevel::All;
  const NamedTensors in = {{"x", test::random_tensor({1, T, 8}, 7, 0.f)}};
  const NamedTensors a = Session(path, none).run(in), b = Session(path, all).run(in);
  Outcome o;
  o.optimized = summarize_model(path, true);
  REQUIRE(a.size() == b.size());
  for (size_t k = 0; k < a.size(); ++k) {
    REQUIRE(a[k].second.shape() == b[k].second.shape());
    for (int64_t i = 0; i < a[k].second.numel(); ++i)
      o.max_diff = std::max(o.max_diff, std::fabs(double(a[k].second.data<float>()[i]) - b[k].second.data<float>()[i]));
  }
  return o;
}

}  // namespace

TEST_CASE("row hoisting: every step's MatMul, LayerNorm and Tanh run once over all steps") {
  for (bool vector_index : {false, true}) {
    auto m = unrolled(5, {0, 1, 2, 3, 4}, 1, vector_index);
    const Outcome o = run_both(m, 5, vector_index ? "vec" : "all");
    INFO("vector index " << vector_index);
    CHECK(count(o.optimized, "MatMul") == 1);
    CHECK(count(o.optimized, "LayerNormalization") == 1);
    CHECK(count(o.optimized, "Tanh") == 1);
    CHECK(count(o.optimized, "Gather") == 5);
    CHECK(o.max_diff < 1e-5);
  }
  // Half the steps (3 of 6, one twice) is enough; negative indices count as the rows they pick.
  auto m = unrolled(6, {0, 2, -1});
  const Outcome o = run_both(m, 6, "half");
  CHECK(count(o.optimized, "MatMul") == 1);
  CHECK(o.max_diff < 1e-5);
}

TEST_CASE("row hoisting does not fire with too few steps, on the last axis, or an unknown length") {
  {
    auto m = unrolled(7, {0, 3, 5});  // 3 of 7 rows: the whole product would do more than twice the work
    const Outcome o = run_both(m, 7, "few");
    CHECK(count(o.optimized, "MatMul") == 3);
    CHECK(o.max_diff < 1e-5);
  }
  {
    auto m = unrolled(-1, {0, 1});  // the number of steps is symbolic
    auto dir = test::temp_dir("hoist_sym");
    CHECK(count(summarize_model(m.save(dir / "m.onnx"), true), "MatMul") == 2);
  }
  {
    // Gather along x's last axis picks the columns a MatMul over all of x would contract: no rewrite.
    ModelBuilder m(17);
    m.input("x", {1, 8, 8});
    m.init_f("W", {8, 12}, std::vector<float>(8 * 12, 0.5f));
    for (int64_t t : {0, 1, 2, 3, 4, 5, 6, 7}) {
      const std::string s = std::to_string(t);
      m.init_i64("i" + s, {t})->clear_dims();
      ModelBuilder::attr_i(m.node("Gather", {"x", "i" + s}, {"g" + s}), "axis", 2);
      m.node("MatMul", {"g" + s, "W"}, {"y" + s});
      m.output("y" + s);
    }
    const Outcome o = run_both(m, 8, "lastaxis");
    CHECK(count(o.optimized, "MatMul") == 8);
    CHECK(o.max_diff < 1e-6);
  }
}
