// Sibling-product merging (passes/merge_sibling_matmuls.cpp): com.microsoft
// DynamicQuantizeMatMul siblings of one X with per-tensor and per-column scales
// and zero points and a missing bias become one ai.normrt product with one
// output per member (its `split` attribute), bit for bit, batched inputs
// included; siblings with different activations or inputs, and float
// products, stay apart; a bad `split` is refused by name.
#include <doctest/doctest.h>

#include <cmath>
#include <map>

#include "model_builder.h"
#include "normrt/normrt.h"
#include "optimized_vs_plain.h"

using namespace normrt;
using test::ModelBuilder;

namespace {

constexpr int64_t M = 5, K = 24;

std::vector<float> values(int64_t n, int seed) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    v[static_cast<size_t>(i)] = std::sin(0.37f * static_cast<float>(i + 1) * static_cast<float>(seed));
  return v;
}

using Result = test::OptimizedVsPlain;

Result compare(ModelBuilder& m, const std::string& tag, const NamedTensors& in) {
  const auto dir = test::temp_dir("merge_" + tag);
  return test::run_optimized_vs_plain(m.save(dir / "m.onnx"), in);
}

// Float MatMul → Add(bias) siblings of x with widths `widths`.
ModelBuilder float_siblings(const std::vector<int64_t>& widths) {
  ModelBuilder m(17);
  m.input("x", {M, K});
  for (size_t i = 0; i < widths.size(); ++i) {
    const std::string s = std::to_string(i);
    m.output("y" + s);
    m.init_f("w" + s, {K, widths[i]}, values(K * widths[i], static_cast<int>(i) + 2));
    m.init_f("b" + s, {widths[i]}, values(widths[i], static_cast<int>(i) + 7));
    m.node("MatMul", {"x", "w" + s}, {"p" + s});
    m.node("Add", {"p" + s, "b" + s}, {"y" + s});
  }
  return m;
}

// DynamicQuantizeMatMul siblings of x with widths `widths`: sibling 1 with
// per-column scales and zero points, the others per tensor, the last without
// zero point or bias. relu_last: the last is ai.normrt's with a Relu epilogue;
// second_input: sibling 1 reads x2.
ModelBuilder dq_siblings(int64_t opset, const std::vector<int64_t>& widths, bool relu_last, bool second_input,
                         int64_t batch = 0, bool relu_all = false) {
  ModelBuilder m(opset);
  m.import("com.microsoft", 1);
  m.import("ai.normrt", 1);
  m.input("x", batch ? std::vector<int64_t>{batch, M, K} : std::vector<int64_t>{M, K});
  if (second_input) m.input("x2", {M, K});
  for (size_t i = 0; i < widths.size(); ++i) {
    const std::string s = std::to_string(i);
    const int64_t N = widths[i];
    const bool last = i + 1 == widths.size();
    m.output("y" + s);
    std::vector<int8_t> w(static_cast<size_t>(K * N));
    for (size_t k = 0; k < w.size(); ++k) w[k] = static_cast<int8_t>(static_cast<int>((k * 29 + i * 13) % 255) - 127);
    auto* wt = m.g->add_initializer();
    wt->set_name("w" + s);
    wt->set_data_type(onnx::TensorProto::INT8);
    wt->add_dims(K), wt->add_dims(N);
    wt->set_raw_data(w.data(), w.size());
    const bool per_col = i == 1;
    const int64_t np = per_col ? N : 1;
    std::vector<float> sc(static_cast<size_t>(np));
    std::vector<int8_t> zp(static_cast<size_t>(np));
    for (int64_t j = 0; j < np; ++j) {
      sc[static_cast<size_t>(j)] = 0.01f + 0.002f * static_cast<float>(j + static_cast<int64_t>(i));
      zp[static_cast<size_t>(j)] = static_cast<int8_t>(relu_all ? 0 : j % 3 - 1);  // relu_all: zero points all 0
    }
    m.init_f("s" + s, per_col ? std::vector<int64_t>{N} : std::vector<int64_t>{}, sc);
    std::vector<std::string> in{second_input && i == 1 ? "x2" : "x", "w" + s, "s" + s};
    if (!last) {
      auto* zt = m.g->add_initializer();
      zt->set_name("z" + s);
      zt->set_data_type(onnx::TensorProto::INT8);
      if (per_col) zt->add_dims(N);
      zt->set_raw_data(zp.data(), zp.size());
      m.init_f("b" + s, {N}, values(N, static_cast<int>(i) + 5));
      in.insert(in.end(), {"z" + s, "b" + s});
    }
    if ((last && relu_last) || relu_all)
      ModelBuilder::attr_s(m.node("DynamicQuantizeMatMul", in, {"y" + s}, "ai.normrt"), "activation", "Relu");
    else
      m.node("DynamicQuantizeMatMul", in, {"y" + s}, "com.microsoft");
  }
  return m;
}

// The same with a value named as the merged product's weights would be.
ModelBuilder dq_siblings_colliding() {
  ModelBuilder m = dq_siblings(17, {8, 12, 5}, false, false);
  m.node("Identity", {"x"}, {"DynamicQuantizeMatMul_1/merged_w"});
  m.output("DynamicQuantizeMatMul_1/merged_w");
  for (int i = m.g->node_size() - 1; i > 0; --i) m.g->mutable_node()->SwapElements(i, i - 1);  // the Identity first
  return m;
}

}  // namespace

TEST_CASE("sibling merging: DynamicQuantizeMatMul siblings with mixed scales, zero points and biases, bit for bit") {
  for (int64_t opset : {11, 13, 17}) {
    CAPTURE(opset);
    ModelBuilder m = dq_siblings(opset, {8, 12, 5}, false, false);
    Result r = compare(m, "dq" + std::to_string(opset), {{"x", test::random_tensor({M, K}, 5)}});
    CHECK(r.ops["com.microsoft::DynamicQuantizeMatMul"] == 0);
    CHECK(r.ops["ai.normrt::DynamicQuantizeMatMul"] == 1);
    CHECK(r.ops["Split"] == 0);
    CHECK(r.max_diff == 0);
  }
}

TEST_CASE("sibling merging: a batched X ([2, M, K]) writes every batch's rows of every output") {
  // Parts cut across the 32-column panels (the int32 block, then the row epilogue), and
  // at panel edges (avx512: the float epilogue in the register tile, stored per part).
  for (const std::vector<int64_t>& widths : {std::vector<int64_t>{40, 33, 64}, std::vector<int64_t>{32, 64, 32}}) {
    CAPTURE(widths[0]);
    ModelBuilder m = dq_siblings(17, widths, false, false, 2);
    Result r = compare(m, "batched" + std::to_string(widths[0]), {{"x", test::random_tensor({2, M, K}, 8)}});
    CHECK(r.ops["ai.normrt::DynamicQuantizeMatMul"] == 1);
    CHECK(r.max_diff == 0);
  }
}

TEST_CASE("sibling merging: products with the same activation merge, the activation applied to every output") {
  // Zero points all 0 (one value for the merged product): at panel edges (32, 64) the avx512 VNNI
  // tile's float epilogue stores each part; (40, 24) the row epilogue cuts the rows.
  for (const std::vector<int64_t>& widths : {std::vector<int64_t>{32, 64}, std::vector<int64_t>{40, 24}})
    for (int64_t batch : {0, 2}) {
      CAPTURE(widths[0]);
      CAPTURE(batch);
      ModelBuilder m = dq_siblings(17, widths, false, false, batch, true);  // every one ai.normrt's with a Relu
      const std::vector<int64_t> shape = batch ? std::vector<int64_t>{batch, M, K} : std::vector<int64_t>{M, K};
      Result r = compare(m, "relu" + std::to_string(widths[0]) + "_" + std::to_string(batch),
                         {{"x", test::random_tensor(shape, 9)}});
      CHECK(r.ops["ai.normrt::DynamicQuantizeMatMul"] == 1);
      CHECK(r.max_diff == 0);
    }
}

TEST_CASE("ai.normrt DynamicQuantizeMatMul refuses a split that does not cut N into its outputs, naming it") {
  const std::vector<std::pair<std::vector<int64_t>, int>> bad = {
      {{8, 4}, 2}, {{8, 5}, 3}, {{10, -2}, 2}, {{0, 8}, 2}, {{4, 4}, 1}};  // N = 8: sizes, outputs
  for (const auto& entry : bad) {
    const std::vector<int64_t>& sizes = entry.first;
    const int outputs = entry.second;
    CAPTURE(outputs);
    ModelBuilder m = dq_siblings(17, {8}, true, false);  // one product, ai.normrt's (Relu)
    onnx::NodeProto* n = m.g->mutable_node(0);
    ModelBuilder::attr_ints(n, "split", sizes);
    for (int o = 1; o < outputs; ++o) {
      n->add_output("extra" + std::to_string(o));
      m.output("extra" + std::to_string(o));
    }
    const auto dir = test::temp_dir("bad_split");
    const std::string path = m.save(dir / "m.onnx");
    SessionOptions o;
    o.optimization = OptimizationLevel::None;
    try {
      Session s(path, o);
      FAIL("the session was created");
    } catch (const Error& e) {
      CHECK(std::string(e.what()).find("split") != std::string::npos);
    }
  }
}

TEST_CASE("sibling merging names its values apart from the graph's") {
  ModelBuilder m = dq_siblings_colliding();
  Result r = compare(m, "collide", {{"x", test::random_tensor({M, K}, 6)}});
  CHECK(r.ops["ai.normrt::DynamicQuantizeMatMul"] == 1);
  CHECK(r.ops["Split"] == 0);
  CHECK(r.max_diff == 0);  // the Identity's output is still x
}

TEST_CASE("ai.normrt DynamicQuantizeMatMul refuses an activation it does not know, naming it") {
  ModelBuilder m = dq_siblings(17, {8}, true, false);  // one product, ai.normrt's with activation Relu
  m.g->mutable_node(0)->mutable_attribute(0)->set_s("Swish");
  const auto dir = test::temp_dir("bad_activation");
  const std::string path = m.save(dir / "m.onnx");
  try {
    Session s(path);
    FAIL("the session was created");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("activation 'Swish'") != std::string::npos);
  }
}

TEST_CASE("sibling merging leaves products with different activations or inputs apart") {
  {
    ModelBuilder m = dq_siblings(17, {16, 16}, true, false);  // the second has a Relu epilogue
    Result r = compare(m, "act", {{"x", test::random_tensor({M, K}, 2)}});
    CHECK(r.ops["com.microsoft::DynamicQuantizeMatMul"] == 1);
    CHECK(r.ops["ai.normrt::DynamicQuantizeMatMul"] == 1);
    CHECK(r.ops["Split"] == 0);
    CHECK(r.max_diff == 0);
  }
  {
    ModelBuilder m = dq_siblings(17, {16, 16, 16}, false, true);  // the second reads x2: the other two merge
    Result r = compare(m, "input", {{"x", test::random_tensor({M, K}, 3)}, {"x2", test::random_tensor({M, K}, 4)}});
    CHECK(r.ops["com.microsoft::DynamicQuantizeMatMul"] == 1);
    CHECK(r.ops["ai.normrt::DynamicQuantizeMatMul"] == 1);
    CHECK(r.ops["Split"] == 0);
    CHECK(r.max_diff == 0);
  }
}

TEST_CASE("sibling merging leaves float products apart") {
  ModelBuilder m = float_siblings({16, 7, 33});
  Result r = compare(m, "float", {{"x", test::random_tensor({M, K}, 1)}});
  CHECK(r.ops["ai.normrt::FusedMatMul"] == 3);
  CHECK(r.ops["Split"] == 0);
  CHECK(r.max_diff <= 1e-5);
}
