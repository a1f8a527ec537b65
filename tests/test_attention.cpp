// Attention fusion (passes/fuse_attention.cpp) and the ai.normrt Attention
// kernel (ops/attention.cpp): the exporters' pattern fuses in each of its
// forms and gives the unfused graph's outputs at sizes around the register
// tile (1, 5, 7, 9, 16, 17, 33, 65 …), with every mask layout; it does not
// fuse where the graph means something else.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "model_builder.h"
#include "normrt/normrt.h"

using namespace normrt;
using test::ModelBuilder;
using test::random_tensor;

namespace {

struct Attn {
  int64_t B = 1, Sq = 4, Sk = 4, H = 2, d = 3, dv = 3;
  std::string mask = "none";  // none | add | where_fill_first | where_fill_second
  Shape mask_shape;           // of the mask or the condition
  std::string scale = "div";  // div | mul_first | mul_second | none
  int scale_rank = 0;         // rank of the scale constant (one value)
  float fill = -INFINITY;
  int64_t softmax_axis = -1;
  bool scores_read_elsewhere = false;  // the scores are also a graph output
  bool k_transpose_output = false;     // Transpose(K) is also a graph output (a KV cache)
  std::vector<int64_t> v_perm = {0, 2, 1, 3};
  bool reshape_inputs = false;  // Q, K, V given as [B, S, H·d] and reshaped, as exporters write them
  int elem = 1;                 // 1 float32, 11 float64
};

ModelBuilder attention_model(const Attn& a) {
  ModelBuilder m(13);
  const auto in = [&](const std::string& name, int64_t S, int64_t dh) {
    if (!a.reshape_inputs) {
      m.input(name, {a.B, S, a.H, dh}, a.elem);
      return name;
    }
    m.input(name, {a.B, S, a.H * dh}, a.elem);
    m.init_i64(name + "_shape", {a.B, S, a.H, dh});
    m.node("Reshape", {name, name + "_shape"}, {name + "4"});
    return name + "4";
  };
  const std::string q = in("q", a.Sq, a.d), k = in("k", a.Sk, a.d), v = in("v", a.Sk, a.dv);
  m.output("y", a.elem);
  ModelBuilder::attr_ints(m.node("Transpose", {q}, {"qt"}), "perm", {0, 2, 1, 3});
  ModelBuilder::attr_ints(m.node("Transpose", {k}, {"kt"}), "perm", {0, 2, 3, 1});
  ModelBuilder::attr_ints(m.node("Transpose", {v}, {"vt"}), "perm", a.v_perm);
  if (a.k_transpose_output) m.output("kt", a.elem);
  m.node("MatMul", {"qt", "kt"}, {"s"});
  std::string sv = "s";
  const auto scalar = [&](const std::string& name, double value) {
    if (a.elem == 1) {
      m.init_f(name, std::vector<int64_t>(name == "c" ? a.scale_rank : 0, 1), {static_cast<float>(value)});
    } else {
      auto* t = m.g->add_initializer();
      t->set_name(name);
      t->set_data_type(11);
      t->add_double_data(value);
    }
  };
  const double c = std::sqrt(static_cast<double>(a.d));
  if (a.scale == "div") {
    scalar("c", c);
    m.node("Div", {"s", "c"}, {"ss"});
    sv = "ss";
  } else if (a.scale != "none") {
    scalar("c", 1.0 / c);
    m.node("Mul", a.scale == "mul_first" ? std::vector<std::string>{"c", "s"} : std::vector<std::string>{"s", "c"},
           {"ss"});
    sv = "ss";
  }
  if (a.scores_read_elsewhere) m.output(sv, a.elem);
  if (a.mask == "add") {
    m.input("mask", a.mask_shape, a.elem);
    m.node("Add", {"mask", sv}, {"sm"});
    sv = "sm";
  } else if (a.mask != "none") {
    m.input("cond", a.mask_shape, 9);
    scalar("fill", a.fill);
    const bool first = a.mask == "where_fill_first";
    m.node("Where", {"cond", first ? "fill" : sv, first ? sv : "fill"}, {"sm"});
    sv = "sm";
  }
  ModelBuilder::attr_i(m.node("Softmax", {sv}, {"p"}), "axis", a.softmax_axis);
  m.node("MatMul", {"p", "vt"}, {"o"});
  ModelBuilder::attr_ints(m.node("Transpose", {"o"}, {"y"}), "perm", {0, 2, 1, 3});
  return m;
}

Tensor as_dtype(const Tensor& f, int elem) {
  if (elem == 1) return f;
  Tensor t(DType::Float64, f.shape());
  for (int64_t i = 0; i < f.numel(); ++i) t.data<double>()[i] = f.data<float>()[i];
  return t;
}

NamedTensors attention_inputs(const Attn& a, uint64_t seed) {
  const auto shaped = [&](int64_t S, int64_t dh) {
    return a.reshape_inputs ? Shape{a.B, S, a.H * dh} : Shape{a.B, S, a.H, dh};
  };
  NamedTensors in{{"q", as_dtype(random_tensor(shaped(a.Sq, a.d), seed), a.elem)},
                  {"k", as_dtype(random_tensor(shaped(a.Sk, a.d), seed + 1), a.elem)},
                  {"v", as_dtype(random_tensor(shaped(a.Sk, a.dv), seed + 2), a.elem)}};
  if (a.mask == "add") {
    Tensor mk = random_tensor(a.mask_shape, seed + 3);
    for (int64_t i = 0; i < mk.numel(); i += 3) mk.data<float>()[i] = -10000.f;  // padded positions
    in.emplace_back("mask", as_dtype(mk, a.elem));
  } else if (a.mask != "none") {
    // Masked where true (fill first) or false (fill second); the last axis's first position is never masked.
    Tensor cond(DType::Bool, a.mask_shape);
    std::mt19937 rng(static_cast<unsigned>(seed));
    const int64_t last = a.mask_shape.empty() ? 1 : a.mask_shape.back();
    const bool fill_first = a.mask == "where_fill_first";
    for (int64_t i = 0; i < cond.numel(); ++i)
      cond.data<bool>()[i] = i % last == 0 ? !fill_first : ((rng() % 3 == 0) == fill_first);
    in.emplace_back("cond", cond);
  }
  return in;
}

int count(const ModelSummary& s, const std::string& op) {
  for (auto& [k, n] : s.op_counts)
    if (k == op) return n;
  return 0;
}

struct Outcome {
  int fused = 0, softmax = 0, transposes = 0;
  double max_err = 0;  // |all − none| / max(1, |none|), over every output
};

Outcome run_both(const Attn& a, const std::string& tag, uint64_t seed = 5) {
  ModelBuilder m = attention_model(a);
  auto dir = test::temp_dir("attn_" + tag);
  const std::string path = m.save(dir / "m.onnx");
  SessionOptions none, all;
  none.optimization = OptimizationLevel::None;
  all.optimization = OptimizationLevel::All;
  const NamedTensors in = attention_inputs(a, seed);
  const NamedTensors x = Session(path, none).run(in), y = Session(path, all).run(in);
  Outcome o;
  const ModelSummary s = summarize_model(path, true);
  o.fused = count(s, "ai.normrt::Attention");
  o.softmax = count(s, "Softmax");
  o.transposes = count(s, "Transpose");
  REQUIRE(x.size() == y.size());
  for (size_t k = 0; k < x.size(); ++k) {
    REQUIRE(x[k].second.shape() == y[k].second.shape());
    for (int64_t i = 0; i < x[k].second.numel(); ++i) {
      const double u = a.elem == 1 ? x[k].second.data<float>()[i] : x[k].second.data<double>()[i];
      const double w = a.elem == 1 ? y[k].second.data<float>()[i] : y[k].second.data<double>()[i];
      const double e = std::isnan(u) || std::isnan(w) ? INFINITY : std::fabs(u - w) / std::max(1.0, std::fabs(u));
      o.max_err = std::max(o.max_err, e);
    }
  }
  return o;
}

}  // namespace

TEST_CASE("attention fuses and matches the unfused graph at sizes around the register tile") {
  struct Size {
    int64_t B, Sq, Sk, H, d, dv;
  };
  const Size sizes[] = {
      {1, 1, 1, 1, 1, 1},     {1, 7, 9, 3, 5, 4},     {2, 9, 7, 1, 16, 17},
      {1, 17, 33, 2, 8, 24},  {1, 33, 17, 4, 32, 32}, {2, 65, 65, 2, 7, 9},
      {1, 6, 300, 1, 64, 16}, {1, 40, 1100, 4, 8, 8}};  // 1100 keys: 24-row blocks (the scores' L2 cap), 24 + 16
  for (const Size& z : sizes) {
    Attn a;
    a.B = z.B, a.Sq = z.Sq, a.Sk = z.Sk, a.H = z.H, a.d = z.d, a.dv = z.dv;
    INFO("B " << z.B << " Sq " << z.Sq << " Sk " << z.Sk << " H " << z.H << " d " << z.d << " dv " << z.dv);
    // Each mask layout: none, key padding [B,1,1,Sk], a full [B,H,Sq,Sk] mask, a 2-D [Sq,Sk]
    // mask, one broadcast along the keys [B,1,Sq,1], and the causal Where in both operand orders.
    const std::vector<std::pair<std::string, Shape>> masks = {{"none", {}},
                                                              {"add", {z.B, 1, 1, z.Sk}},
                                                              {"add", {z.B, z.H, z.Sq, z.Sk}},
                                                              {"add", {z.Sq, z.Sk}},
                                                              {"add", {z.B, 1, z.Sq, 1}},
                                                              {"where_fill_first", {z.Sq, z.Sk}},
                                                              {"where_fill_second", {z.B, 1, 1, z.Sk}}};
    for (const auto& mask : masks) {  // (no structured binding: INFO captures it, which C++17 forbids)
      a.mask = mask.first;
      a.mask_shape = mask.second;
      INFO("mask " << a.mask << " " << a.mask_shape.size() << "-D");
      const Outcome o = run_both(a, "size");
      CHECK(o.fused == 1);
      CHECK(o.softmax == 0);
      CHECK(o.transposes == 0);
      CHECK(o.max_err < 1e-5);
    }
  }
}

TEST_CASE("attention fusion: every scale form, reshaped inputs, a finite fill, float64, a KV-cache output") {
  for (const std::string scale : {"div", "mul_first", "mul_second", "none"}) {
    Attn a;
    a.scale = scale;
    a.Sq = 5, a.Sk = 11, a.H = 3, a.d = 4, a.dv = 6;
    a.reshape_inputs = true;
    a.mask = "where_fill_first";
    a.mask_shape = {a.Sq, a.Sk};
    a.fill = -3.4e38f;
    INFO(scale);
    const Outcome o = run_both(a, "scale_" + scale);
    CHECK(o.fused == 1);
    CHECK(o.max_err < 1e-5);
  }
  Attn f64;
  f64.elem = 11;
  f64.Sq = 9, f64.Sk = 7, f64.H = 2, f64.d = 5, f64.dv = 3;
  f64.mask = "add";
  f64.mask_shape = {1, 1, 1, 7};
  const Outcome o64 = run_both(f64, "f64");
  CHECK(o64.fused == 1);
  CHECK(o64.max_err < 1e-7);  // the fused node's scale is a float attribute: 1/√d rounded to float
  // Transpose(K) read by a graph output too: the fusion reads K itself and the Transpose stays.
  Attn cache;
  cache.k_transpose_output = true;
  const Outcome oc = run_both(cache, "kv_cache");
  CHECK(oc.fused == 1);
  CHECK(oc.transposes == 1);
  CHECK(oc.max_err < 1e-5);
}

TEST_CASE("attention fusion does not fire where the graph means something else") {
  Attn axis;
  axis.softmax_axis = 2;  // softmax over the queries, not the keys
  Attn perm;
  perm.v_perm = {0, 2, 3, 1};  // V's head size before its sequence (and Sk = dv, so the graph is valid)
  perm.dv = perm.Sk;
  Attn extra;
  extra.scores_read_elsewhere = true;  // the scores are a graph output
  for (const auto& neg : {std::pair{axis, "axis"}, std::pair{perm, "perm"}, std::pair{extra, "extra"}}) {
    const std::string tag = neg.second;
    INFO(tag);
    const Outcome o = run_both(neg.first, "neg_" + tag);
    CHECK(o.fused == 0);
    CHECK(o.softmax == 1);
    CHECK(o.max_err < 1e-6);
  }
  // A [1,1,1,1,1] divisor makes the scores 5-D, so the last Transpose's perm no longer fits:
  // the model is invalid and stays so when optimized (not fused into a 4-D Attention).
  Attn rank5;
  rank5.scale_rank = 5;
  auto dir = test::temp_dir("attn_rank5");
  const std::string path = attention_model(rank5).save(dir / "m.onnx");
  SessionOptions all;
  all.optimization = OptimizationLevel::All;
  CHECK_THROWS_WITH_AS(Session(path, all).run(attention_inputs(rank5, 1)), doctest::Contains("perm"), Error);
}

TEST_CASE("the model tests' attention runs fused: BERT (mask Add), GPT (causal Where), ViT (no mask)") {
  const std::string dir = std::string(NORMRT_SOURCE_DIR) + "/models/tests/";
  for (const char* m : {"bert_opset13", "bert_opset17", "gpt", "vit"}) {
    INFO(m);
    const ModelSummary s = summarize_model(dir + m + "/model.onnx", true);
    CHECK(count(s, "ai.normrt::Attention") == 2);
    CHECK(count(s, "Softmax") == 0);
  }
}
