// The quantized ops (ops/quant/) through one-node models against plain
// fp64 / int64 references written here: QuantizeLinear's half-to-even rounding
// and saturation at both ends, per-axis parameters on every axis, blocked
// parameters, DequantizeLinear, DynamicQuantizeLinear (incl. all-zero input),
// the integer products at sizes around 8/16/32 and odd ones with per-row and
// per-column zero points and extreme values, the convolutions with pads,
// strides, dilations and groups, and the errors on hostile parameters.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "model_builder.h"
#include "normrt/normrt.h"

using namespace normrt;
using test::ModelBuilder;

namespace {

// Round half to even, written independently of the library's std::nearbyint.
double round_half_even(double v) {
  const double f = std::floor(v), d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return std::fmod(f, 2.0) == 0 ? f : f + 1;
}

int64_t lo_of(DType t) { return t == DType::UInt8 ? 0 : t == DType::Int8 ? -128 : t == DType::Int16 ? -32768 : 0; }
int64_t hi_of(DType t) { return t == DType::UInt8 ? 255 : t == DType::Int8 ? 127 : t == DType::Int16 ? 32767 : 65535; }

int64_t saturate(double v, DType t) {
  return static_cast<int64_t>(std::min<double>(hi_of(t), std::max<double>(lo_of(t), v)));
}

Tensor make(DType dt, const Shape& shape, const std::vector<double>& v) {
  Tensor t(dt, shape);
  REQUIRE(static_cast<size_t>(t.numel()) == v.size());
  for (size_t i = 0; i < v.size(); ++i) switch (dt) {
      case DType::Float32:
        t.data<float>()[i] = static_cast<float>(v[i]);
        break;
      case DType::UInt8:
        t.data<uint8_t>()[i] = static_cast<uint8_t>(v[i]);
        break;
      case DType::Int8:
        t.data<int8_t>()[i] = static_cast<int8_t>(v[i]);
        break;
      case DType::Int16:
        t.data<int16_t>()[i] = static_cast<int16_t>(v[i]);
        break;
      case DType::UInt16:
        t.data<uint16_t>()[i] = static_cast<uint16_t>(v[i]);
        break;
      case DType::Int32:
        t.data<int32_t>()[i] = static_cast<int32_t>(v[i]);
        break;
      default:
        FAIL("dtype");
    }
  return t;
}

std::vector<double> values(const Tensor& t) {
  std::vector<double> v(static_cast<size_t>(t.numel()));
  for (size_t i = 0; i < v.size(); ++i) switch (t.dtype()) {
      case DType::Float32:
        v[i] = t.data<float>()[i];
        break;
      case DType::UInt8:
        v[i] = t.data<uint8_t>()[i];
        break;
      case DType::Int8:
        v[i] = t.data<int8_t>()[i];
        break;
      case DType::Int16:
        v[i] = t.data<int16_t>()[i];
        break;
      case DType::UInt16:
        v[i] = t.data<uint16_t>()[i];
        break;
      case DType::Int32:
        v[i] = t.data<int32_t>()[i];
        break;
      default:
        FAIL("dtype");
    }
  return v;
}

// Uniform integers in [lo, hi] or floats in [lo, hi), from a fixed seed.
std::vector<double> ints(size_t n, int64_t lo, int64_t hi, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> d(lo, hi);
  std::vector<double> v(n);
  for (auto& x : v) x = static_cast<double>(d(rng));
  return v;
}
std::vector<double> floats(size_t n, double lo, double hi, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<double> v(n);
  for (auto& x : v) x = static_cast<float>(d(rng));
  return v;
}

// A constant (initializer) holding t's bytes.
void add_const(ModelBuilder& m, const std::string& name, const Tensor& t) {
  auto* p = m.g->add_initializer();
  p->set_name(name);
  p->set_data_type(static_cast<int>(t.dtype()));
  for (int64_t d : t.shape()) p->add_dims(d);
  p->set_raw_data(std::string(static_cast<const char*>(t.raw()), t.nbytes()));
}

int elem(DType t) { return static_cast<int>(t); }

NamedTensors run(ModelBuilder& m, const NamedTensors& in, const std::string& tag) {
  auto dir = test::temp_dir(tag);
  Session s(m.save(dir / "m.onnx"));
  return s.run(in);
}

// Session creation (planning) alone.
void plan(ModelBuilder& m, const std::string& tag) {
  auto dir = test::temp_dir(tag);
  Session s(m.save(dir / "m.onnx"));
}

const std::vector<DType> k8bit = {DType::UInt8, DType::Int8};

}  // namespace

TEST_CASE("QuantizeLinear rounds half to even and saturates at both ends") {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<double> x = {2.5, 3.5, -2.5, 0.5, 1.5, -0.5, -1.5, 2.4999, 1e6, -1e6, inf, -inf, nan, 0};
  for (DType yt : {DType::Int8, DType::UInt8, DType::Int16, DType::UInt16}) {
    const int64_t zp = yt == DType::Int8 ? -3 : yt == DType::UInt8 ? 100 : yt == DType::Int16 ? 7 : 300;
    ModelBuilder m(21);
    m.input("x", {14}).output("y", elem(yt));
    add_const(m, "s", make(DType::Float32, {}, {1.0}));
    add_const(m, "z", make(yt, {}, {static_cast<double>(zp)}));
    m.node("QuantizeLinear", {"x", "s", "z"}, {"y"});
    Tensor xt(DType::Float32, {14});
    for (size_t i = 0; i < x.size(); ++i) xt.data<float>()[i] = static_cast<float>(x[i]);
    auto y = values(run(m, {{"x", xt}}, "q_round")[0].second);
    const std::vector<double> rounded = {2, 4, -2, 0, 2, -0., -2, 2};
    for (size_t i = 0; i < rounded.size(); ++i) CHECK(y[i] == saturate(rounded[i] + zp, yt));
    CHECK(y[8] == hi_of(yt));
    CHECK(y[9] == lo_of(yt));
    CHECK(y[10] == hi_of(yt));
    CHECK(y[11] == lo_of(yt));
    CHECK(y[12] == zp);  // NaN → the zero point
    CHECK(y[13] == zp);
  }
}

TEST_CASE("QuantizeLinear / DequantizeLinear per tensor against the fp64 reference, sizes around 8/16/32") {
  for (int64_t n : {1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 100}) {
    for (DType yt : k8bit) {
      const double scale = 1.0 / 16;  // a power of two: x / s is exact in float and in double
      const int64_t zp = yt == DType::UInt8 ? 128 : -5;
      const std::vector<double> x = floats(static_cast<size_t>(n), -10, 10, static_cast<uint64_t>(n));
      ModelBuilder m;
      m.input("x", {n}).output("q", elem(yt)).output("d");
      add_const(m, "s", make(DType::Float32, {}, {scale}));
      add_const(m, "z", make(yt, {}, {static_cast<double>(zp)}));
      m.node("QuantizeLinear", {"x", "s", "z"}, {"q"});
      m.node("DequantizeLinear", {"q", "s", "z"}, {"d"});
      auto out = run(m, {{"x", make(DType::Float32, {n}, x)}}, "q_ref");
      auto q = values(out[0].second), d = values(out[1].second);
      for (int64_t i = 0; i < n; ++i) {
        const int64_t expect = saturate(round_half_even(x[i] / scale) + zp, yt);
        CHECK(q[i] == expect);
        CHECK(d[i] == (expect - zp) * scale);
      }
    }
  }
}

TEST_CASE("QuantizeLinear with a non-power-of-two scale divides in float32 (ONNX's reference)") {
  const int64_t n = 37;
  const std::vector<double> x = floats(n, -3, 3, 5);
  const float s = 0.0173f;
  ModelBuilder m;
  m.input("x", {n}).output("q", elem(DType::UInt8));
  add_const(m, "s", make(DType::Float32, {}, {s}));
  add_const(m, "z", make(DType::UInt8, {}, {128}));
  m.node("QuantizeLinear", {"x", "s", "z"}, {"q"});
  auto q = values(run(m, {{"x", make(DType::Float32, {n}, x)}}, "q_f32")[0].second);
  for (int64_t i = 0; i < n; ++i)
    CHECK(q[i] == saturate(round_half_even(static_cast<float>(x[i]) / s) + 128, DType::UInt8));
}

TEST_CASE("QuantizeLinear / DequantizeLinear per axis on every axis of [3, 4, 5]") {
  const Shape shape{3, 4, 5};
  const std::vector<double> x = floats(60, -20, 20, 9);
  for (int64_t axis : {0, 1, 2, -1, -3}) {
    const int64_t a = axis < 0 ? axis + 3 : axis, len = shape[static_cast<size_t>(a)];
    std::vector<double> s(static_cast<size_t>(len)), z(static_cast<size_t>(len));
    for (int64_t k = 0; k < len; ++k) s[k] = std::ldexp(1.0, static_cast<int>(k) - 2), z[k] = 10 * k - 12;
    for (bool constant : {true, false}) {
      ModelBuilder m;
      m.input("x", shape).output("q", elem(DType::Int8)).output("d");
      if (constant) {
        add_const(m, "s", make(DType::Float32, {len}, s));
        add_const(m, "z", make(DType::Int8, {len}, z));
      } else {
        m.input("s", {len}).input("z", {len}, elem(DType::Int8));
      }
      ModelBuilder::attr_i(m.node("QuantizeLinear", {"x", "s", "z"}, {"q"}), "axis", axis);
      ModelBuilder::attr_i(m.node("DequantizeLinear", {"q", "s", "z"}, {"d"}), "axis", axis);
      NamedTensors in{{"x", make(DType::Float32, shape, x)}};
      if (!constant)
        in.push_back({"s", make(DType::Float32, {len}, s)}), in.push_back({"z", make(DType::Int8, {len}, z)});
      auto out = run(m, in, "q_axis");
      auto q = values(out[0].second), d = values(out[1].second);
      for (int64_t i = 0; i < 60; ++i) {
        const int64_t idx[3] = {i / 20, (i / 5) % 4, i % 5};
        const int64_t k = idx[a];
        const int64_t expect = saturate(round_half_even(x[i] / s[k]) + z[k], DType::Int8);
        CHECK(q[i] == expect);
        CHECK(d[i] == (expect - z[k]) * s[k]);
      }
    }
  }
}

TEST_CASE("QuantizeLinear / DequantizeLinear blocked (opset 21), the last block short") {
  const Shape shape{3, 10};
  const int64_t block = 4, nb = 3;  // blocks of columns 0-3, 4-7, 8-9
  const std::vector<double> x = floats(30, -5, 5, 11);
  std::vector<double> s(9), z(9);
  for (int64_t k = 0; k < 9; ++k) s[k] = std::ldexp(1.0, static_cast<int>(k % 4) - 4), z[k] = 3 * k;
  ModelBuilder m(21);
  m.input("x", shape).output("q", elem(DType::UInt8)).output("d");
  add_const(m, "s", make(DType::Float32, {3, nb}, s));
  add_const(m, "z", make(DType::UInt8, {3, nb}, z));
  auto* qn = m.node("QuantizeLinear", {"x", "s", "z"}, {"q"});
  ModelBuilder::attr_i(qn, "axis", 1);
  ModelBuilder::attr_i(qn, "block_size", block);
  auto* dn = m.node("DequantizeLinear", {"q", "s", "z"}, {"d"});
  ModelBuilder::attr_i(dn, "axis", 1);
  ModelBuilder::attr_i(dn, "block_size", block);
  auto out = run(m, {{"x", make(DType::Float32, shape, x)}}, "q_block");
  auto q = values(out[0].second), d = values(out[1].second);
  for (int64_t i = 0; i < 30; ++i) {
    const int64_t k = (i / 10) * nb + (i % 10) / block;
    const int64_t expect = saturate(round_half_even(x[i] / s[k]) + z[k], DType::UInt8);
    CHECK(q[i] == expect);
    CHECK(d[i] == (expect - z[k]) * s[k]);
  }
}

TEST_CASE("DequantizeLinear of int32 without a zero point, and of the extreme 8-bit values") {
  ModelBuilder m;
  m.input("a", {4}, elem(DType::Int32)).input("b", {4}, elem(DType::UInt8)).output("y").output("w");
  add_const(m, "s", make(DType::Float32, {}, {0.5}));
  add_const(m, "z", make(DType::UInt8, {}, {255}));
  m.node("DequantizeLinear", {"a", "s"}, {"y"});
  m.node("DequantizeLinear", {"b", "s", "z"}, {"w"});
  auto out = run(m,
                 {{"a", make(DType::Int32, {4}, {-2147483648.0, 2147483647.0, 0, -3})},
                  {"b", make(DType::UInt8, {4}, {0, 255, 1, 254})}},
                 "dq_i32");
  CHECK(values(out[0].second) == std::vector<double>{-1073741824.0, 1073741824.0, 0, -1.5});
  CHECK(values(out[1].second) == std::vector<double>{-127.5, 0, -127, -0.5});
}

TEST_CASE("DynamicQuantizeLinear against the spec's formula, incl. all-zero, all-positive, all-negative x") {
  std::vector<std::vector<double>> cases = {floats(33, -3, 5, 1),
                                            floats(16, 0.5, 2, 2),
                                            floats(8, -4, -1, 3),
                                            std::vector<double>(9, 0.0),
                                            {-1.0, 0.0, 254.0}};
  for (const auto& x : cases) {
    const int64_t n = static_cast<int64_t>(x.size());
    ModelBuilder m;
    m.input("x", {n}).output("y", elem(DType::UInt8)).output("s").output("z", elem(DType::UInt8));
    m.node("DynamicQuantizeLinear", {"x"}, {"y", "s", "z"});
    auto out = run(m, {{"x", make(DType::Float32, {n}, x)}}, "dql");
    float lo = 0, hi = 0;
    for (double v : x) lo = std::min(lo, static_cast<float>(v)), hi = std::max(hi, static_cast<float>(v));
    const float s = hi == lo ? 1.f : (hi - lo) / 255.f;
    const double z = round_half_even(std::min(255.f, std::max(0.f, 0.f - lo / s)));
    CHECK(values(out[1].second)[0] == s);
    CHECK(values(out[2].second)[0] == z);
    auto y = values(out[0].second);
    for (int64_t i = 0; i < n; ++i)
      CHECK(y[i] == saturate(round_half_even(static_cast<float>(x[i]) / s) + z, DType::UInt8));
    if (hi == lo) CHECK(y == std::vector<double>(x.size(), 0.0));
  }
}

namespace {

// Σ_k (A[b, m, k] − za[m])·(B[b, k, n] − zb[n]) in int64, batch dims equal.
std::vector<int64_t> matmul_ref(const std::vector<double>& A, const std::vector<double>& B, int64_t batches, int64_t M,
                                int64_t K, int64_t N, const std::vector<double>& za, const std::vector<double>& zb) {
  std::vector<int64_t> y(static_cast<size_t>(batches * M * N));
  for (int64_t b = 0; b < batches; ++b)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        int64_t s = 0;
        for (int64_t k = 0; k < K; ++k)
          s += (static_cast<int64_t>(A[(b * M + m) * K + k]) - static_cast<int64_t>(za[m % za.size()])) *
               (static_cast<int64_t>(B[(b * K + k) * N + n]) - static_cast<int64_t>(zb[n % zb.size()]));
        y[(b * M + m) * N + n] = s;
      }
  return y;
}

std::vector<double> random_of(DType t, size_t n, uint64_t seed) { return ints(n, lo_of(t), hi_of(t), seed); }

}  // namespace

TEST_CASE("MatMulInteger: every 8-bit pairing, per-row / per-column zero points, sizes around 8/16/32 and odd") {
  struct Dims {
    int64_t M, K, N;
  };
  for (Dims d : {Dims{8, 16, 32}, Dims{7, 13, 5}, Dims{1, 33, 17}, Dims{16, 8, 9}, Dims{3, 1, 1}})
    for (DType ta : k8bit)
      for (DType tb : k8bit)
        for (bool per_channel : {false, true}) {
          const auto A = random_of(ta, static_cast<size_t>(d.M * d.K), 1), B = random_of(tb, d.K * d.N, 2);
          const auto za = random_of(ta, per_channel ? d.M : 1, 3), zb = random_of(tb, per_channel ? d.N : 1, 4);
          ModelBuilder m;
          m.input("a", {d.M, d.K}, elem(ta)).output("y", elem(DType::Int32));
          add_const(m, "b", make(tb, {d.K, d.N}, B));
          add_const(m, "za", make(ta, per_channel ? Shape{d.M} : Shape{}, za));
          add_const(m, "zb", make(tb, per_channel ? Shape{d.N} : Shape{}, zb));
          m.node("MatMulInteger", {"a", "b", "za", "zb"}, {"y"});
          auto y = values(run(m, {{"a", make(ta, {d.M, d.K}, A)}}, "mmi")[0].second);
          auto ref = matmul_ref(A, B, 1, d.M, d.K, d.N, za, zb);
          for (size_t i = 0; i < ref.size(); ++i) CHECK(y[i] == ref[i]);
        }
}

TEST_CASE("MatMulInteger at the extremes (|a − za| = |b − zb| = 255) and with broadcast batch dims") {
  const int64_t K = 64;
  ModelBuilder m;
  m.input("a", {2, 1, 3, K}, elem(DType::UInt8)).input("b", {4, K, 5}, elem(DType::Int8));
  m.input("za", {}, elem(DType::UInt8)).input("zb", {}, elem(DType::Int8)).output("y", elem(DType::Int32));
  m.node("MatMulInteger", {"a", "b", "za", "zb"}, {"y"});
  for (int corner = 0; corner < 4; ++corner) {
    const double av = corner & 1 ? 255 : 0, za = corner & 1 ? 0 : 255;
    const double bv = corner & 2 ? 127 : -128, zb = corner & 2 ? -128 : 127;
    auto out = run(m,
                   {{"a", make(DType::UInt8, {2, 1, 3, K}, std::vector<double>(6 * K, av))},
                    {"b", make(DType::Int8, {4, K, 5}, std::vector<double>(20 * K, bv))},
                    {"za", make(DType::UInt8, {}, {za})},
                    {"zb", make(DType::Int8, {}, {zb})}},
                   "mmi_ext");
    CHECK(out[0].second.shape() == Shape{2, 4, 3, 5});
    for (double v : values(out[0].second)) CHECK(v == K * (av - za) * (bv - zb));
  }
  // broadcast with distinct values: batch (i, j) multiplies A[i] by B[j]
  const auto A = random_of(DType::UInt8, 6 * K, 5), B = random_of(DType::Int8, 20 * K, 6);
  auto out = run(m,
                 {{"a", make(DType::UInt8, {2, 1, 3, K}, A)},
                  {"b", make(DType::Int8, {4, K, 5}, B)},
                  {"za", make(DType::UInt8, {}, {3})},
                  {"zb", make(DType::Int8, {}, {-1})}},
                 "mmi_bcast");
  auto y = values(out[0].second);
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 4; ++j) {
      std::vector<double> Ai(A.begin() + i * 3 * K, A.begin() + (i + 1) * 3 * K);
      std::vector<double> Bj(B.begin() + j * 5 * K, B.begin() + (j + 1) * 5 * K);
      auto ref = matmul_ref(Ai, Bj, 1, 3, K, 5, {3}, {-1});
      for (size_t e = 0; e < ref.size(); ++e) CHECK(y[(i * 4 + j) * 15 + e] == ref[e]);
    }
}

TEST_CASE("QLinearMatMul, MatMulIntegerToFloat and DynamicQuantizeMatMul against the reference formulas") {
  const int64_t M = 5, K = 17, N = 8;
  const auto A = random_of(DType::UInt8, M * K, 7), B = random_of(DType::Int8, K * N, 8);
  const float sa = 0.02f, sy = 0.5f;
  std::vector<double> sb(N), zb(N), bias(N);
  for (int64_t n = 0; n < N; ++n) sb[n] = 0.01 + 0.003 * n, zb[n] = n - 4, bias[n] = 0.25 * n - 1;
  ModelBuilder m;
  m.input("a", {M, K}, elem(DType::UInt8)).input("f", {M, K});
  m.output("q", elem(DType::UInt8)).output("y").output("dy");
  add_const(m, "b", make(DType::Int8, {K, N}, B));
  add_const(m, "sa", make(DType::Float32, {}, {sa}));
  add_const(m, "za", make(DType::UInt8, {}, {131}));
  add_const(m, "sb", make(DType::Float32, {N}, sb));
  add_const(m, "zb", make(DType::Int8, {N}, zb));
  add_const(m, "sy", make(DType::Float32, {}, {sy}));
  add_const(m, "zy", make(DType::UInt8, {}, {120}));
  add_const(m, "bias", make(DType::Float32, {N}, bias));
  m.import("com.microsoft", 1);
  m.node("QLinearMatMul", {"a", "sa", "za", "b", "sb", "zb", "sy", "zy"}, {"q"});
  m.node("MatMulIntegerToFloat", {"a", "b", "sa", "sb", "za", "zb", "bias"}, {"y"}, "com.microsoft");
  m.node("DynamicQuantizeMatMul", {"f", "b", "sb", "zb", "bias"}, {"dy"}, "com.microsoft");
  const auto F = floats(M * K, -2, 3, 9);
  auto out = run(m, {{"a", make(DType::UInt8, {M, K}, A)}, {"f", make(DType::Float32, {M, K}, F)}}, "qlmm");
  auto q = values(out[0].second), y = values(out[1].second), dy = values(out[2].second);
  const auto acc = matmul_ref(A, B, 1, M, K, N, {131}, zb);
  // A quantized as DynamicQuantizeLinear does.
  float lo = 0, hi = 0;
  for (double v : F) lo = std::min(lo, static_cast<float>(v)), hi = std::max(hi, static_cast<float>(v));
  const float fs = (hi - lo) / 255.f;
  const double fz = round_half_even(std::min(255.f, std::max(0.f, 0.f - lo / fs)));
  std::vector<double> Fq(F.size());
  for (size_t i = 0; i < F.size(); ++i)
    Fq[i] = saturate(round_half_even(static_cast<float>(F[i]) / fs) + fz, DType::UInt8);
  const auto dacc = matmul_ref(Fq, B, 1, M, K, N, {fz}, zb);
  for (int64_t e = 0; e < M * N; ++e) {
    const int64_t n = e % N;
    const float mult = sa * static_cast<float>(sb[n]) / sy;
    CHECK(q[e] == saturate(round_half_even(static_cast<float>(acc[e]) * mult) + 120, DType::UInt8));
    CHECK(y[e] == static_cast<float>(acc[e]) * (sa * static_cast<float>(sb[n])) + static_cast<float>(bias[n]));
    CHECK(dy[e] == static_cast<float>(dacc[e]) * (fs * static_cast<float>(sb[n])) + static_cast<float>(bias[n]));
  }
}

namespace {

struct ConvCase {
  Shape x;  // [N, C, H, W]
  int64_t M, group;
  std::vector<int64_t> k, s, d, pads;
  std::string auto_pad;
};

// acc[n, m, o] of ConvInteger in int64, positions outside x skipped (they read zx: nothing added).
std::vector<int64_t> conv_ref(const ConvCase& cc, const std::vector<double>& x, double zx, const std::vector<double>& w,
                              const std::vector<double>& zw, int64_t* oh, int64_t* ow, int64_t* pt, int64_t* pl) {
  const int64_t N = cc.x[0], C = cc.x[1], H = cc.x[2], W = cc.x[3], Cg = C / cc.group, Mg = cc.M / cc.group;
  int64_t pads[4] = {cc.pads[0], cc.pads[1], cc.pads[2], cc.pads[3]};
  const int64_t eh = (cc.k[0] - 1) * cc.d[0] + 1, ew = (cc.k[1] - 1) * cc.d[1] + 1;
  if (cc.auto_pad == "SAME_UPPER") {
    const int64_t th = std::max<int64_t>(0, ((H + cc.s[0] - 1) / cc.s[0] - 1) * cc.s[0] + eh - H);
    const int64_t tw = std::max<int64_t>(0, ((W + cc.s[1] - 1) / cc.s[1] - 1) * cc.s[1] + ew - W);
    pads[0] = th / 2, pads[2] = th - th / 2, pads[1] = tw / 2, pads[3] = tw - tw / 2;
  }
  *oh = (H + pads[0] + pads[2] - eh) / cc.s[0] + 1, *ow = (W + pads[1] + pads[3] - ew) / cc.s[1] + 1;
  *pt = pads[0], *pl = pads[1];
  std::vector<int64_t> y(static_cast<size_t>(N * cc.M * *oh * *ow));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < cc.M; ++m)
      for (int64_t i = 0; i < *oh; ++i)
        for (int64_t j = 0; j < *ow; ++j) {
          int64_t s = 0;
          const int64_t g = m / Mg;
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t a = 0; a < cc.k[0]; ++a)
              for (int64_t b = 0; b < cc.k[1]; ++b) {
                const int64_t r = i * cc.s[0] - pads[0] + a * cc.d[0], q = j * cc.s[1] - pads[1] + b * cc.d[1];
                if (r < 0 || r >= H || q < 0 || q >= W) continue;
                const double xv = x[((n * C + g * Cg + c) * H + r) * W + q];
                const double wv = w[((m * Cg + c) * cc.k[0] + a) * cc.k[1] + b];
                s += static_cast<int64_t>(xv - zx) * static_cast<int64_t>(wv - zw[m % zw.size()]);
              }
          y[((n * cc.M + m) * *oh + i) * *ow + j] = s;
        }
  return y;
}

}  // namespace

TEST_CASE("ConvInteger and QLinearConv: pads, strides, dilations, groups, SAME_UPPER, per-channel weights") {
  const std::vector<ConvCase> cases = {
      {{1, 3, 8, 8}, 4, 1, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, ""},
      {{2, 4, 7, 9}, 6, 2, {3, 2}, {2, 1}, {1, 2}, {0, 1, 2, 0}, ""},
      {{1, 8, 16, 5}, 8, 8, {3, 3}, {1, 2}, {2, 1}, {2, 0, 1, 1}, ""},
      {{1, 2, 5, 6}, 3, 1, {2, 3}, {2, 2}, {1, 1}, {0, 0, 0, 0}, "SAME_UPPER"},
  };
  int idx = 0;
  for (const ConvCase& cc : cases)
    for (DType tx : k8bit)
      for (DType tw : k8bit) {
        const int64_t Cg = cc.x[1] / cc.group;
        const Shape wshape{cc.M, Cg, cc.k[0], cc.k[1]};
        const auto x = random_of(tx, static_cast<size_t>(shape_numel(cc.x)), 20 + idx);
        const auto w = random_of(tw, static_cast<size_t>(shape_numel(wshape)), 40 + idx++);
        const auto zw = random_of(tw, static_cast<size_t>(cc.M), 3);
        const double zx = tx == DType::UInt8 ? 200 : -100;
        std::vector<double> bias = ints(static_cast<size_t>(cc.M), -3000, 3000, 4), ws(cc.M);
        for (int64_t m = 0; m < cc.M; ++m) ws[m] = 0.001 * (m + 1);
        ModelBuilder m;
        m.input("x", cc.x, elem(tx)).output("y", elem(DType::Int32)).output("q", elem(DType::Int8));
        add_const(m, "w", make(tw, wshape, w));
        add_const(m, "zx", make(tx, {}, {zx}));
        add_const(m, "zw", make(tw, {cc.M}, zw));
        add_const(m, "sx", make(DType::Float32, {}, {0.05}));
        add_const(m, "sw", make(DType::Float32, {cc.M}, ws));
        add_const(m, "sy", make(DType::Float32, {}, {0.07}));
        add_const(m, "zy", make(DType::Int8, {}, {-7}));
        add_const(m, "bias", make(DType::Int32, {cc.M}, bias));
        for (auto* n : {m.node("ConvInteger", {"x", "w", "zx", "zw"}, {"y"}),
                        m.node("QLinearConv", {"x", "sx", "zx", "w", "sw", "zw", "sy", "zy", "bias"}, {"q"})}) {
          ModelBuilder::attr_i(n, "group", cc.group);
          ModelBuilder::attr_ints(n, "strides", cc.s);
          ModelBuilder::attr_ints(n, "dilations", cc.d);
          if (cc.auto_pad.empty())
            ModelBuilder::attr_ints(n, "pads", cc.pads);
          else
            ModelBuilder::attr_s(n, "auto_pad", cc.auto_pad);
        }
        auto out = run(m, {{"x", make(tx, cc.x, x)}}, "convint");
        int64_t oh, ow, pt, pl;
        const auto ref = conv_ref(cc, x, zx, w, zw, &oh, &ow, &pt, &pl);
        REQUIRE(out[0].second.shape() == Shape{cc.x[0], cc.M, oh, ow});
        auto y = values(out[0].second), q = values(out[1].second);
        for (size_t e = 0; e < ref.size(); ++e) {
          CHECK(y[e] == ref[e]);
          const int64_t mch = static_cast<int64_t>(e / static_cast<size_t>(oh * ow)) % cc.M;
          const float mult = 0.05f * static_cast<float>(ws[mch]) / 0.07f;
          CHECK(q[e] ==
                saturate(round_half_even(static_cast<float>(ref[e] + static_cast<int64_t>(bias[mch])) * mult) - 7,
                         DType::Int8));
        }
      }
}

TEST_CASE("hostile quantization parameters are clear errors naming the node") {
  const auto quantize_model = [](const Tensor& s, const Tensor* z, int64_t axis, int64_t opset = 17) {
    ModelBuilder m(opset);
    m.input("x", {2, 3}).output("y", elem(z ? z->dtype() : DType::UInt8));
    add_const(m, "s", s);
    std::vector<std::string> in{"x", "s"};
    if (z) add_const(m, "z", *z), in.push_back("z");
    ModelBuilder::attr_i(m.node("QuantizeLinear", in, {"y"}), "axis", axis);
    return m;
  };
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (double bad :
       {0.0, -1.0, static_cast<double>(nan), static_cast<double>(std::numeric_limits<float>::infinity())}) {
    auto m = quantize_model(make(DType::Float32, {}, {bad}), nullptr, 1);
    CHECK_THROWS_WITH_AS(plan(m, "q_bad_scale"), doctest::Contains("QuantizeLinear"), Error);
  }
  {  // per-axis scale of the wrong length, axis out of range, zero point of another shape
    auto m1 = quantize_model(make(DType::Float32, {2}, {1, 1}), nullptr, 1);
    CHECK_THROWS_WITH_AS(plan(m1, "q_len"), doctest::Contains("per-axis"), Error);
    auto m2 = quantize_model(make(DType::Float32, {3}, {1, 1, 1}), nullptr, 2);
    CHECK_THROWS_WITH_AS(plan(m2, "q_axis"), doctest::Contains("out of range"), Error);
    Tensor z = make(DType::Int8, {2}, {0, 0});
    auto m3 = quantize_model(make(DType::Float32, {3}, {1, 1, 1}), &z, 1);
    CHECK_THROWS_WITH_AS(plan(m3, "q_zshape"), doctest::Contains("zero point"), Error);
    auto m4 = quantize_model(make(DType::Float32, {3}, {1, 1, 1}), nullptr, 1, 10);
    CHECK_THROWS_WITH_AS(plan(m4, "q_opset10"), doctest::Contains("scalar before opset 13"), Error);
  }
  {  // a scale known only at run time: checked by the kernel
    ModelBuilder m;
    m.input("x", {3}).input("s", {}).output("y", elem(DType::UInt8));
    m.node("QuantizeLinear", {"x", "s"}, {"y"});
    auto dir = test::temp_dir("q_run_scale");
    Session s(m.save(dir / "m.onnx"));
    CHECK_THROWS_WITH_AS(s.run({{"x", make(DType::Float32, {3}, {1, 2, 3})}, {"s", make(DType::Float32, {}, {0})}}),
                         doctest::Contains("y_scale"), Error);
    CHECK(
        values(s.run({{"x", make(DType::Float32, {3}, {1, 2, 3})}, {"s", make(DType::Float32, {}, {2})}})[0].second) ==
        std::vector<double>{0, 1, 2});  // 0.5 → 0, 1.5 → 2
  }
  {  // DequantizeLinear: zero point of another dtype; int32 with a nonzero zero point
    ModelBuilder m;
    m.input("x", {3}, elem(DType::UInt8)).output("y");
    add_const(m, "s", make(DType::Float32, {}, {1}));
    add_const(m, "z", make(DType::Int8, {}, {0}));
    m.node("DequantizeLinear", {"x", "s", "z"}, {"y"});
    CHECK_THROWS_WITH_AS(plan(m, "dq_ztype"), doctest::Contains("differs from x's"), Error);
    ModelBuilder m2;
    m2.input("x", {3}, elem(DType::Int32)).output("y");
    add_const(m2, "s", make(DType::Float32, {}, {1}));
    add_const(m2, "z", make(DType::Int32, {}, {5}));
    m2.node("DequantizeLinear", {"x", "s", "z"}, {"y"});
    CHECK_THROWS_WITH_AS(plan(m2, "dq_i32z"), doctest::Contains("int32 x takes no zero point"), Error);
  }
  {  // float8 output_dtype is refused as unsupported
    ModelBuilder m(21);
    m.input("x", {3}).output("y", 17);
    add_const(m, "s", make(DType::Float32, {}, {1}));
    ModelBuilder::attr_i(m.node("QuantizeLinear", {"x", "s"}, {"y"}), "output_dtype", 17);
    try {
      plan(m, "q_f8");
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::UnsupportedOp);
    }
  }
  {  // K beyond the exact int32 bound
    const int64_t K = 33026;
    ModelBuilder m;
    m.input("a", {1, K}, elem(DType::UInt8)).input("b", {K, 1}, elem(DType::UInt8)).output("y", elem(DType::Int32));
    m.node("MatMulInteger", {"a", "b"}, {"y"});
    try {
      plan(m, "mmi_k");
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::UnsupportedOp);
      CHECK(std::string(e.what()).find("33025") != std::string::npos);
    }
  }
  {  // MatMulInteger zero point neither per tensor nor per column
    ModelBuilder m;
    m.input("a", {2, 4}, elem(DType::UInt8)).input("b", {4, 3}, elem(DType::Int8)).output("y", elem(DType::Int32));
    add_const(m, "zb", make(DType::Int8, {4}, {0, 0, 0, 0}));
    m.node("MatMulInteger", {"a", "b", "", "zb"}, {"y"});
    CHECK_THROWS_WITH_AS(plan(m, "mmi_zb"), doctest::Contains("one per column"), Error);
  }
  {  // DynamicQuantizeLinear of NaN
    ModelBuilder m;
    m.input("x", {2}).output("y", elem(DType::UInt8)).output("s").output("z", elem(DType::UInt8));
    m.node("DynamicQuantizeLinear", {"x"}, {"y", "s", "z"});
    CHECK_THROWS_WITH_AS(run(m, {{"x", make(DType::Float32, {2}, {1, static_cast<double>(nan)})}}, "dql_nan"),
                         doctest::Contains("finite"), Error);
  }
  {  // QLinearConv with a negative y_scale and a w_zero_point of the wrong length
    ModelBuilder m;
    m.input("x", {1, 2, 4, 4}, elem(DType::UInt8)).output("y", elem(DType::UInt8));
    add_const(m, "w", make(DType::Int8, {3, 2, 1, 1}, std::vector<double>(6, 1)));
    add_const(m, "s", make(DType::Float32, {}, {1}));
    add_const(m, "neg", make(DType::Float32, {}, {-1}));
    add_const(m, "zx", make(DType::UInt8, {}, {0}));
    add_const(m, "zw", make(DType::Int8, {2}, {0, 0}));
    m.node("QLinearConv", {"x", "s", "zx", "w", "s", "zw", "neg", "zx"}, {"y"});
    CHECK_THROWS_WITH_AS(plan(m, "qlc_neg"), doctest::Contains("y_scale"), Error);
    m.g->mutable_node(0)->set_input(6, "s");
    CHECK_THROWS_WITH_AS(plan(m, "qlc_zw"), doctest::Contains("w_zero_point"), Error);
  }
}

TEST_CASE("QuantizeLinear / DequantizeLinear with float16 x and scales (opset 19)") {
  ModelBuilder m(19);
  m.input("x", {5}, elem(DType::Float16)).output("q", elem(DType::Int8)).output("d", elem(DType::Float16));
  Tensor s(DType::Float16, {});
  s.data<uint16_t>()[0] = float_to_half(0.5f);
  add_const(m, "s", s);
  add_const(m, "z", make(DType::Int8, {}, {1}));
  m.node("QuantizeLinear", {"x", "s", "z"}, {"q"});
  m.node("DequantizeLinear", {"q", "s", "z"}, {"d"});
  Tensor x(DType::Float16, {5});
  const float xv[5] = {1.f, 1.25f, -3.f, 100.f, -0.75f};  // x / s: 2, 2.5, -6, 200, -1.5
  for (int i = 0; i < 5; ++i) x.data<uint16_t>()[i] = float_to_half(xv[i]);
  auto out = run(m, {{"x", x}}, "q_f16");
  CHECK(values(out[0].second) == std::vector<double>{3, 3, -5, 127, -1});
  REQUIRE(out[1].second.dtype() == DType::Float16);
  std::vector<float> d;
  for (int i = 0; i < 5; ++i) d.push_back(half_to_float(out[1].second.data<uint16_t>()[i]));
  CHECK(d == std::vector<float>{1.f, 1.f, -3.f, 63.f, -1.f});
}
