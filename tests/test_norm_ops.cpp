// The normalization family through the runtime (one-node models), against
// formulas written out here in fp64: GroupNormalization 18/21, RMSNormalization,
// SimplifiedLayerNormalization, com.microsoft Skip(Simplified)LayerNormalization,
// ai.normrt LayerNormSimple/AdaNorm (both std modes), LpNormalization,
// MeanVarianceNormalization.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <random>

#include "model_builder.h"
#include "normrt/normrt.h"

using namespace normrt;
using test::ModelBuilder;

namespace {

using test::random_tensor;

NamedTensors run(ModelBuilder& m, const NamedTensors& in, const std::string& tag) {
  auto dir = test::temp_dir(tag);
  Session s(m.save(dir / "m.onnx"));
  return s.run(in);
}

void check_close(const Tensor& got, const std::vector<double>& want, double tol = 1e-5) {
  REQUIRE(got.numel() == static_cast<int64_t>(want.size()));
  double err = 0, mag = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    err = std::max(err, std::fabs(got.data<float>()[i] - want[i]));
    mag = std::max(mag, std::fabs(want[i]));
  }
  CHECK(err <= tol * std::max(1.0, mag));
}

// Per row of n: mean and population variance in fp64.
std::pair<double, double> stats(const float* x, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += x[i];
  const double mean = s / static_cast<double>(n);
  double q = 0;
  for (int64_t i = 0; i < n; ++i) q += (x[i] - mean) * (x[i] - mean);
  return {mean, q / static_cast<double>(n)};
}

}  // namespace

TEST_CASE("GroupNormalization-21 (per-channel scale) and -18 (per-group scale)") {
  const int64_t N = 2, C = 6, G = 3, H = 5;
  Tensor x = random_tensor({N, C, H}, 1, 3.f);
  std::vector<float> sc = {0.5f, 1.f, 1.5f, 2.f, -1.f, 0.25f}, bi = {0.f, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f};
  for (int64_t opset : {18, 21}) {
    CAPTURE(opset);
    const bool per_channel = opset >= 21;
    ModelBuilder m(opset);
    m.input("x", {N, C, H}).output("y");
    m.init_f("s", {per_channel ? C : G}, per_channel ? sc : std::vector<float>{sc[0], sc[2], sc[4]});
    m.init_f("b", {per_channel ? C : G}, per_channel ? bi : std::vector<float>{bi[0], bi[2], bi[4]});
    ModelBuilder::attr_i(m.node("GroupNormalization", {"x", "s", "b"}, {"y"}), "num_groups", G);
    auto out = run(m, {{"x", x}}, "gn" + std::to_string(opset));
    std::vector<double> want(static_cast<size_t>(x.numel()));
    const int64_t len = (C / G) * H;
    for (int64_t ng = 0; ng < N * G; ++ng) {
      auto [mean, var] = stats(x.data<float>() + ng * len, len);
      for (int64_t i = 0; i < len; ++i) {
        const int64_t c = (ng % G) * (C / G) + i / H;
        const int64_t sc_i = per_channel ? c : (c / (C / G)) * (C / G);  // v18: the group's value
        want[static_cast<size_t>(ng * len + i)] =
            (x.data<float>()[ng * len + i] - mean) / std::sqrt(var + 1e-5) * sc[static_cast<size_t>(sc_i)] +
            bi[static_cast<size_t>(sc_i)];
      }
    }
    check_close(out[0].second, want);
  }
  ModelBuilder bad(21);
  bad.input("x", {N, C, H}).output("y");
  bad.init_f("s", {C}, sc);
  bad.init_f("b", {C}, bi);
  ModelBuilder::attr_i(bad.node("GroupNormalization", {"x", "s", "b"}, {"y"}), "num_groups", 4);
  CHECK_THROWS_WITH_AS(run(bad, {{"x", x}}, "gnbad"), doctest::Contains("must be positive and divide the 6 channels"),
                       Error);
}

TEST_CASE("RMSNormalization-23 and SimplifiedLayerNormalization with its inv_std_var output") {
  const int64_t rows = 4, n = 33;
  Tensor x = random_tensor({rows, n}, 2);
  std::vector<float> sc(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) sc[static_cast<size_t>(i)] = 0.5f + 0.01f * static_cast<float>(i);
  std::vector<double> want(static_cast<size_t>(x.numel())), inv(rows);
  for (int64_t r = 0; r < rows; ++r) {
    double q = 0;
    for (int64_t i = 0; i < n; ++i) q += x.data<float>()[r * n + i] * x.data<float>()[r * n + i];
    inv[static_cast<size_t>(r)] = 1.0 / std::sqrt(q / n + 1e-5);
    for (int64_t i = 0; i < n; ++i)
      want[static_cast<size_t>(r * n + i)] =
          x.data<float>()[r * n + i] * inv[static_cast<size_t>(r)] * sc[static_cast<size_t>(i)];
  }
  ModelBuilder m(23);
  m.input("x", {rows, n}).output("y").output("z").output("inv");
  m.init_f("s", {n}, sc);
  m.node("RMSNormalization", {"x", "s"}, {"y"});
  m.node("SimplifiedLayerNormalization", {"x", "s"}, {"z", "inv"});
  auto out = run(m, {{"x", x}}, "rms");
  check_close(out[0].second, want);
  check_close(out[1].second, want);
  CHECK(out[2].second.shape() == Shape{rows, 1});
  check_close(out[2].second, inv);
}

TEST_CASE("com.microsoft SkipLayerNormalization with bias and the sum output / skip broadcast over the batch") {
  const int64_t B = 2, S = 3, H = 16;
  Tensor x = random_tensor({B, S, H}, 3, 50.f), skip = random_tensor({1, S, H}, 4);
  std::vector<float> gamma(H, 1.5f), beta(H, -0.5f), bias(H, 0.25f);
  for (bool simplified : {false, true}) {
    CAPTURE(simplified);
    ModelBuilder m(17);
    m.import("com.microsoft", 1);
    m.input("x", {B, S, H}).input("skip", {1, S, H}).output("y").output("sum");
    m.init_f("gamma", {H}, gamma);
    m.init_f("beta", {H}, beta);
    m.init_f("bias", {H}, bias);
    auto* node = simplified ? m.node("SkipSimplifiedLayerNormalization", {"x", "skip", "gamma", "bias"},
                                     {"y", "", "", "sum"}, "com.microsoft")
                            : m.node("SkipLayerNormalization", {"x", "skip", "gamma", "beta", "bias"},
                                     {"y", "", "", "sum"}, "com.microsoft");
    ModelBuilder::attr_f(node, "epsilon", 1e-6f);
    auto out = run(m, {{"x", x}, {"skip", skip}}, simplified ? "sln" : "skipln");
    std::vector<double> want(static_cast<size_t>(x.numel())), sum(want.size());
    for (int64_t r = 0; r < B * S; ++r) {
      std::vector<float> s(H);
      for (int64_t i = 0; i < H; ++i) {
        s[static_cast<size_t>(i)] = x.data<float>()[r * H + i] + skip.data<float>()[(r % S) * H + i] + 0.25f;
        sum[static_cast<size_t>(r * H + i)] = s[static_cast<size_t>(i)];
      }
      auto [mean, var] = stats(s.data(), H);
      double ms = 0;
      for (float v : s) ms += static_cast<double>(v) * v;
      ms /= H;
      for (int64_t i = 0; i < H; ++i)
        want[static_cast<size_t>(r * H + i)] =
            simplified ? s[static_cast<size_t>(i)] / std::sqrt(ms + 1e-6) * 1.5
                       : (s[static_cast<size_t>(i)] - mean) / std::sqrt(var + 1e-6) * 1.5 - 0.5;
    }
    check_close(out[0].second, want);
    check_close(out[1].second, sum, 0);
  }
}

TEST_CASE("ai.normrt LayerNormSimple and AdaNorm, std_mode biased_var_eps and unbiased_std_eps") {
  const int64_t rows = 3, n = 10;
  Tensor x = random_tensor({rows, n}, 5, 1000.f);
  for (const char* mode : {"biased_var_eps", "unbiased_std_eps"}) {
    CAPTURE(mode);
    const bool unbiased = std::string(mode) == "unbiased_std_eps";
    ModelBuilder m(17);
    m.import("ai.normrt", 1);
    m.input("x", {rows, n}).output("simple").output("ada");
    auto* s = m.node("LayerNormSimple", {"x"}, {"simple"}, "ai.normrt");
    ModelBuilder::attr_s(s, "std_mode", mode);
    ModelBuilder::attr_f(s, "epsilon", 1e-3f);
    auto* a = m.node("AdaNorm", {"x"}, {"ada"}, "ai.normrt");
    ModelBuilder::attr_s(a, "std_mode", mode);
    ModelBuilder::attr_f(a, "epsilon", 1e-3f);
    ModelBuilder::attr_f(a, "k", 0.1f);
    ModelBuilder::attr_f(a, "C", 2.0f);
    auto out = run(m, {{"x", x}}, std::string("xu_") + mode);
    std::vector<double> simple(static_cast<size_t>(x.numel())), ada(simple.size());
    for (int64_t r = 0; r < rows; ++r) {
      auto [mean, var] = stats(x.data<float>() + r * n, n);
      const double sigma = unbiased ? std::sqrt(var * n / (n - 1)) + 1e-3 : std::sqrt(var + 1e-3);
      for (int64_t i = 0; i < n; ++i) {
        const double y = (x.data<float>()[r * n + i] - mean) / sigma;
        simple[static_cast<size_t>(r * n + i)] = y;
        ada[static_cast<size_t>(r * n + i)] = 2.0 * (1 - 0.1 * y) * y;
      }
    }
    check_close(out[0].second, simple);
    check_close(out[1].second, ada);
  }
  ModelBuilder bad(17);
  bad.import("ai.normrt", 1);
  bad.input("x", {rows, n}).output("y");
  ModelBuilder::attr_s(bad.node("AdaNorm", {"x"}, {"y"}, "ai.normrt"), "std_mode", "sample");
  CHECK_THROWS_WITH_AS(run(bad, {{"x", x}}, "xubad"), doctest::Contains("std_mode must be"), Error);
}

TEST_CASE("LpNormalization p=1 on axis 0 and p=2 on the last axis / zero vectors give 0") {
  Tensor x = random_tensor({3, 4}, 6);
  for (int64_t i = 0; i < 4; ++i) x.data<float>()[8 + i] = 0.f;  // last row all zero
  ModelBuilder m(17);
  m.input("x", {3, 4}).output("p1").output("p2");
  auto* a = m.node("LpNormalization", {"x"}, {"p1"});
  ModelBuilder::attr_i(a, "axis", 0);
  ModelBuilder::attr_i(a, "p", 1);
  m.node("LpNormalization", {"x"}, {"p2"});
  auto out = run(m, {{"x", x}}, "lp");
  std::vector<double> p1(12), p2(12);
  for (int64_t c = 0; c < 4; ++c) {
    double s = 0;
    for (int64_t r = 0; r < 3; ++r) s += std::fabs(x.data<float>()[r * 4 + c]);
    for (int64_t r = 0; r < 3; ++r) p1[static_cast<size_t>(r * 4 + c)] = x.data<float>()[r * 4 + c] / s;
  }
  for (int64_t r = 0; r < 3; ++r) {
    double q = 0;
    for (int64_t c = 0; c < 4; ++c) q += x.data<float>()[r * 4 + c] * x.data<float>()[r * 4 + c];
    for (int64_t c = 0; c < 4; ++c)
      p2[static_cast<size_t>(r * 4 + c)] = q > 0 ? x.data<float>()[r * 4 + c] / std::sqrt(q) : 0.0;
  }
  check_close(out[0].second, p1);
  check_close(out[1].second, p2);
}

TEST_CASE("MeanVarianceNormalization over the default axes [0,2,3] and over trailing axes") {
  const int64_t N = 2, C = 3, H = 4, W = 5;
  Tensor x = random_tensor({N, C, H, W}, 7, 20.f);
  ModelBuilder m(13);
  m.input("x", {N, C, H, W}).output("d").output("t");
  m.node("MeanVarianceNormalization", {"x"}, {"d"});
  ModelBuilder::attr_ints(m.node("MeanVarianceNormalization", {"x"}, {"t"}), "axes", {2, 3});
  auto out = run(m, {{"x", x}}, "mvn");
  const float* xp = x.data<float>();
  std::vector<double> d(static_cast<size_t>(x.numel())), t(d.size());
  for (int64_t c = 0; c < C; ++c) {  // default: per channel over N, H, W
    std::vector<float> v;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < H * W; ++i) v.push_back(xp[(n * C + c) * H * W + i]);
    auto [mean, var] = stats(v.data(), static_cast<int64_t>(v.size()));
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < H * W; ++i) {
        const int64_t k = (n * C + c) * H * W + i;
        d[static_cast<size_t>(k)] = (xp[k] - mean) / (std::sqrt(var) + 1e-9);
      }
  }
  for (int64_t p = 0; p < N * C; ++p) {
    auto [mean, var] = stats(xp + p * H * W, H * W);
    for (int64_t i = 0; i < H * W; ++i)
      t[static_cast<size_t>(p * H * W + i)] = (xp[p * H * W + i] - mean) / (std::sqrt(var) + 1e-9);
  }
  check_close(out[0].second, d);
  check_close(out[1].second, t);
}
