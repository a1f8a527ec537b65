// Derived constants shared within a plan (ops/op.h DerivedConstants): the
// store builds a value once per (source buffer, key, dtype, shape) and keeps
// the source alive; MatMul/Gemm/FusedMatMul nodes reading one weight share its
// packing only when the packing is the same — a transposed Gemm, another
// register tile (M = 1 against M = 8) or another width gets its own, so every
// product stays right.
#include <doctest/doctest.h>

#include <cmath>

#include "model_builder.h"
#include "normrt/normrt.h"
#include "ops/op.h"

using namespace normrt;
using test::ModelBuilder;

TEST_CASE("DerivedConstants builds a value once per source and key") {
  DerivedConstants store;
  Tensor a(DType::Float32, {2, 3}), b(DType::Float32, {2, 3});
  int made = 0;
  const auto make = [&] { return ++made; };
  const auto a1 = store.get<int>(a, "k", make);
  const auto a2 = store.get<int>(a, "k", make);
  CHECK(a1 == a2);  // the same object
  CHECK(made == 1);
  const auto a3 = store.get<int>(a, "other", make);  // another derivation of a
  const auto b1 = store.get<int>(b, "k", make);      // equal contents, another buffer
  CHECK(made == 3);
  CHECK(*a3 == 2);
  CHECK(*b1 == 3);
  Tensor a_view = Tensor::view(a.raw(), DType::Float32, {3, 2});  // the same buffer seen with another shape
  store.get<int>(a_view, "k", make);
  CHECK(made == 4);
}

namespace {

constexpr int64_t K = 40;

std::vector<float> ramp(int64_t n, float step) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = std::sin(step * static_cast<float>(i + 1));
  return v;
}

// y[i, j] = Σ_k x[i, k]·W(k, j), W(k, j) = w[k·K + j] or, transposed, w[j·K + k].
std::vector<float> product(const Tensor& x, const std::vector<float>& w, bool trans) {
  const int64_t M = x.dim(0);
  std::vector<float> y(static_cast<size_t>(M * K));
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < K; ++j) {
      double s = 0;
      for (int64_t k = 0; k < K; ++k)
        s += double(x.data<float>()[i * K + k]) * w[static_cast<size_t>(trans ? j * K + k : k * K + j)];
      y[static_cast<size_t>(i * K + j)] = static_cast<float>(s);
    }
  return y;
}

}  // namespace

TEST_CASE("products reading one weight share its packing only when the packing is the same") {
  // x1 [1, K] and x8 [8, K] (different register tiles), each through MatMul(W) twice, Gemm(W),
  // Gemm(W, transB = 1), and MatMul(W) + bias (FusedMatMul at --optimize all).
  ModelBuilder m(13);
  m.input("x1", {1, K}).input("x8", {8, K});
  const std::vector<float> w = ramp(K * K, 0.37f), bias(static_cast<size_t>(K), 0.f);
  m.init_f("W", {K, K}, w);
  m.init_f("bias", {K}, bias);
  std::vector<std::pair<std::string, bool>> outs;  // output, transposed
  for (const std::string x : {"x1", "x8"}) {
    m.node("MatMul", {x, "W"}, {x + "_mm_a"});
    m.node("MatMul", {x, "W"}, {x + "_mm_b"});
    m.node("Gemm", {x, "W"}, {x + "_gemm"});
    ModelBuilder::attr_i(m.node("Gemm", {x, "W"}, {x + "_gemm_t"}), "transB", 1);
    m.node("MatMul", {x, "W"}, {x + "_p"});
    m.node("Add", {x + "_p", "bias"}, {x + "_fused"});
    for (const char* o : {"_mm_a", "_mm_b", "_gemm", "_gemm_t", "_fused"}) {
      m.output(x + o);
      outs.emplace_back(x + o, std::string(o) == "_gemm_t");
    }
  }
  const auto dir = test::temp_dir("derived_constants");
  const std::string path = m.save(dir / "m.onnx");
  const NamedTensors in = {{"x1", test::random_tensor({1, K}, 1)}, {"x8", test::random_tensor({8, K}, 2)}};
  for (OptimizationLevel level : {OptimizationLevel::None, OptimizationLevel::All}) {
    SessionOptions o;
    o.optimization = level;
    const NamedTensors got = Session(path, o).run(in);
    REQUIRE(got.size() == outs.size());
    for (size_t i = 0; i < outs.size(); ++i) {
      const Tensor& x = in[outs[i].first[1] == '1' ? 0 : 1].second;
      const std::vector<float> want = product(x, w, outs[i].second);
      INFO(outs[i].first);
      REQUIRE(got[i].second.numel() == static_cast<int64_t>(want.size()));
      double worst = 0;
      for (size_t k = 0; k < want.size(); ++k)
        worst = std::max(worst, std::fabs(double(got[i].second.data<float>()[k]) - want[k]));
      CHECK(worst < 1e-4);
    }
  }
}
