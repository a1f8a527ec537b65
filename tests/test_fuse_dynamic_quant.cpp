// The dynamic-quant MatMul fusion (passes/fuse_dynamic_quant_matmul.cpp): fires
// on the chain ONNX Runtime's quantize_dynamic writes, per tensor and per
// column, with and without a bias, once per chain when Q/K/V share one
// DynamicQuantizeLinear; outputs equal the unfused ops'; does not fire on
// near-misses (extra readers, a Cast to another type, a non-constant weight)
// and keeps a non-constant bias Add outside; a following Relu or Gelu joins the
// epilogue.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "model_builder.h"
#include "normrt/normrt.h"
#include "optimized_vs_plain.h"

using namespace normrt;
using test::ModelBuilder;

namespace {

constexpr int64_t K = 16, N = 12;

struct Pattern {
  int chains = 1;
  bool bias = true, bias_constant = true, per_column = false;
  bool cast_read_elsewhere = false, xq_read_elsewhere = false, cast_to_double = false, weight_is_input = false;
  std::string act;  // "", "Relu" or "Gelu" (the erf form PyTorch exports) after each chain
};

void init_raw(ModelBuilder& m, const std::string& name, int type, const std::vector<int64_t>& dims, const void* data,
              size_t bytes) {
  auto* t = m.g->add_initializer();
  t->set_name(name);
  t->set_data_type(type);
  for (int64_t d : dims) t->add_dims(d);
  t->set_raw_data(data, bytes);
}

std::vector<int8_t> weight_values(int chain) {
  std::vector<int8_t> w(static_cast<size_t>(K * N));
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<int8_t>(static_cast<int>((i * 37 + chain * 11) % 255) - 127);
  w[0] = -127, w[1] = 127;  // the extremes
  return w;
}

ModelBuilder ort_pattern(const Pattern& p) {
  ModelBuilder m(13);
  m.input("x", {4, K});
  if (!p.bias_constant) m.input("b", {N});
  if (p.weight_is_input) m.input("wq_in", {K, N}, onnx::TensorProto::INT8);
  m.node("DynamicQuantizeLinear", {"x"}, {"xq", "xs", "xzp"});
  const std::vector<int64_t> pdims = p.per_column ? std::vector<int64_t>{N} : std::vector<int64_t>{};
  const size_t np = p.per_column ? N : 1;
  for (int c = 0; c < p.chains; ++c) {
    const std::string s = std::to_string(c), y = "y" + s;
    m.output(y);
    const std::vector<int8_t> wq = weight_values(c);
    init_raw(m, "wq" + s, onnx::TensorProto::INT8, {K, N}, wq.data(), wq.size());
    std::vector<float> ws(np);
    std::vector<int8_t> wzp(np);
    for (size_t i = 0; i < np; ++i)
      ws[i] = 0.01f + 0.003f * static_cast<float>(i + c), wzp[i] = static_cast<int8_t>(i % 5) - 2;
    init_raw(m, "ws" + s, onnx::TensorProto::FLOAT, pdims, ws.data(), ws.size() * 4);
    init_raw(m, "wzp" + s, onnx::TensorProto::INT8, pdims, wzp.data(), wzp.size());
    m.node("MatMulInteger", {"xq", p.weight_is_input ? "wq_in" : "wq" + s, "xzp", "wzp" + s}, {"acc" + s});
    const std::string pre = p.act.empty() ? y : "pre" + s;  // the chain's result, before any activation
    const std::string scaled = p.bias ? "scaled" + s : pre;
    if (p.cast_to_double) {  // float64 arithmetic, then back to float
      ModelBuilder::attr_i(m.node("Cast", {"acc" + s}, {"accd" + s}), "to", onnx::TensorProto::DOUBLE);
      ModelBuilder::attr_i(m.node("Cast", {"xs"}, {"xsd" + s}), "to", onnx::TensorProto::DOUBLE);
      ModelBuilder::attr_i(m.node("Cast", {"ws" + s}, {"wsd" + s}), "to", onnx::TensorProto::DOUBLE);
      m.node("Mul", {"xsd" + s, "wsd" + s}, {"scale" + s});
      m.node("Mul", {"accd" + s, "scale" + s}, {"md" + s});
      ModelBuilder::attr_i(m.node("Cast", {"md" + s}, {scaled}), "to", onnx::TensorProto::FLOAT);
    } else {
      ModelBuilder::attr_i(m.node("Cast", {"acc" + s}, {"accf" + s}), "to", onnx::TensorProto::FLOAT);
      m.node("Mul", {"xs", "ws" + s}, {"scale" + s});
      m.node("Mul", {"accf" + s, "scale" + s}, {scaled});
    }
    if (p.bias) {
      if (p.bias_constant) {
        std::vector<float> b(N);
        for (int64_t i = 0; i < N; ++i) b[static_cast<size_t>(i)] = 0.5f - 0.1f * static_cast<float>(i);
        m.init_f("bias" + s, {N}, b);
      }
      m.node("Add", {scaled, p.bias_constant ? "bias" + s : "b"}, {pre});
    }
    if (p.act == "Relu") m.node("Relu", {pre}, {y});
    if (p.act == "Gelu") {  // ½·x·(1 + erf(x/√2))
      m.init_f("sqrt2_" + s, {}, {1.41421356f});
      m.init_f("one_" + s, {}, {1.f});
      m.init_f("half_" + s, {}, {0.5f});
      m.node("Div", {pre, "sqrt2_" + s}, {"d" + s});
      m.node("Erf", {"d" + s}, {"e" + s});
      m.node("Add", {"e" + s, "one_" + s}, {"e1" + s});
      m.node("Mul", {pre, "e1" + s}, {"xe" + s});
      m.node("Mul", {"xe" + s, "half_" + s}, {y});
    }
  }
  if (p.cast_read_elsewhere) m.output("accf0");
  if (p.xq_read_elsewhere) {
    ModelBuilder::attr_i(m.node("Cast", {"xq"}, {"xqf"}), "to", onnx::TensorProto::FLOAT);
    m.output("xqf");
  }
  return m;
}

using Fused = test::OptimizedVsPlain;  // the optimized graph's ops, the largest difference from --optimize none

Fused run(const Pattern& p, const std::string& tag) {
  ModelBuilder m = ort_pattern(p);
  const auto dir = test::temp_dir("dqmm_" + tag);
  const std::string path = m.save(dir / "m.onnx");
  NamedTensors in = {{"x", test::random_tensor({4, K}, 3, 0.2f)}};
  if (!p.bias_constant) in.emplace_back("b", test::random_tensor({N}, 4));
  if (p.weight_is_input) {
    Tensor w(DType::Int8, {K, N});
    const std::vector<int8_t> v = weight_values(0);
    std::copy(v.begin(), v.end(), w.data<int8_t>());
    in.emplace_back("wq_in", w);
  }
  return test::run_optimized_vs_plain(path, in);
}

const char* kFused = "com.microsoft::DynamicQuantizeMatMul";

}  // namespace

TEST_CASE("dynamic-quant MatMul fusion fires on ORT's chain; the fused node computes what the chain does") {
  for (bool per_column : {false, true})
    for (bool bias : {true, false}) {
      CAPTURE(per_column);
      CAPTURE(bias);
      Pattern p;
      p.per_column = per_column, p.bias = bias;
      Fused f = run(p, std::string(per_column ? "pc" : "pt") + (bias ? "_b" : ""));
      CHECK(f.ops[kFused] == 1);
      CHECK(f.ops["MatMulInteger"] == 0);
      CHECK(f.ops["DynamicQuantizeLinear"] == 0);
      CHECK(f.ops["Cast"] == 0);
      CHECK(f.ops["Mul"] == 0);
      CHECK(f.ops["Add"] == 0);
      CHECK(f.max_diff == 0);
    }
}

TEST_CASE("dynamic-quant MatMul fusion: Q, K and V sharing one DynamicQuantizeLinear fuse, then merge into one node") {
  Pattern p;
  p.chains = 3;
  Fused f = run(p, "qkv");
  CHECK(f.ops[kFused] == 0);
  CHECK(f.ops["ai.normrt::DynamicQuantizeMatMul"] == 1);  // one product over the three weights, three outputs
  CHECK(f.ops["Split"] == 0);
  CHECK(f.ops["DynamicQuantizeLinear"] == 0);
  CHECK(f.max_diff == 0);
}

TEST_CASE("dynamic-quant MatMul fusion takes a following Relu or Gelu into the epilogue (ai.normrt node)") {
  for (const char* act : {"Relu", "Gelu"})
    for (bool bias : {true, false}) {
      CAPTURE(act);
      CAPTURE(bias);
      Pattern p;
      p.act = act, p.bias = bias, p.chains = 2;
      Fused f = run(p, std::string("act_") + act + (bias ? "_b" : ""));
      CHECK(f.ops["ai.normrt::DynamicQuantizeMatMul"] == 1);  // the two siblings merged
      CHECK(f.ops[kFused] == 0);
      CHECK(f.ops["Relu"] + f.ops["Erf"] + f.ops["ai.normrt::Gelu"] + f.ops["Add"] + f.ops["Mul"] == 0);
      CHECK(f.max_diff <= (std::string(act) == "Relu" ? 0.0 : 1e-5));
    }
}

TEST_CASE("dynamic-quant MatMul fusion: a bias that is not a constant stays a float Add after the fused node") {
  Pattern p;
  p.bias_constant = false;
  Fused f = run(p, "bias_input");
  CHECK(f.ops[kFused] == 1);
  CHECK(f.ops["Add"] == 1);
  CHECK(f.max_diff == 0);
}

TEST_CASE("dynamic-quant MatMul fusion does not fire on near-misses") {
  Pattern cast_read, xq_read, to_double, weight_input, qkv_one_read;
  cast_read.cast_read_elsewhere = true;  // the float products are also a graph output
  xq_read.xq_read_elsewhere = true;      // Xq has a reader that is not a MatMulInteger chain
  to_double.cast_to_double = true;       // Cast to float64, not float
  weight_input.weight_is_input = true;   // Wq is not a constant
  qkv_one_read.chains = 3, qkv_one_read.cast_read_elsewhere = true;  // one chain of a group spoilt: none fuse
  const std::pair<const char*, Pattern> cases[] = {{"cast_read", cast_read},
                                                   {"xq_read", xq_read},
                                                   {"to_double", to_double},
                                                   {"weight_input", weight_input},
                                                   {"qkv_one_read", qkv_one_read}};
  for (const auto& c : cases) {
    const char* tag = c.first;
    const Pattern& p = c.second;
    CAPTURE(tag);
    Fused f = run(p, tag);
    CHECK(f.ops[kFused] == 0);
    CHECK(f.ops["MatMulInteger"] == p.chains);
    CHECK(f.ops["DynamicQuantizeLinear"] == 1);
    CHECK(f.max_diff == 0);
  }
}
