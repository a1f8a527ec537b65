// float16 and bfloat16: the conversions at their edges (NaN, ±inf, overflow,
// subnormals, ties to even), and models whose ops compute in float32 and store
// the narrow type (ops/narrow_floats.cpp) against a float32 reference rounded
// after every op, at --optimize none and all; ops whose outputs keep another
// type (indices, float32 statistics, a float32 base of Pow); data movement
// keeping the bits; bfloat16 files; `normrt info`'s list of refused
// (op, opset, dtype).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "model_builder.h"
#include "normrt/normrt.h"

using namespace normrt;
using test::ModelBuilder;

namespace {

constexpr int kF32 = 1, kF16 = 10, kBF16 = 16, kI64 = 7, kBool = 9;

float bits_float(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}
uint32_t float_bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

uint16_t to_narrow(float v, DType t) { return t == DType::Float16 ? float_to_half(v) : float_to_bfloat16(v); }
float from_narrow(uint16_t v, DType t) { return t == DType::Float16 ? half_to_float(v) : bfloat16_to_float(v); }
float round_to(float v, DType t) { return from_narrow(to_narrow(v, t), t); }
int onnx_type(DType t) { return t == DType::Float16 ? kF16 : kBF16; }

// A narrow tensor of N(offset, scale) values rounded to `t`.
Tensor narrow_random(DType t, const Shape& shape, uint64_t seed, float scale = 1.f, float offset = 0.f) {
  Tensor f = test::random_tensor(shape, seed);
  Tensor r(t, shape);
  for (int64_t i = 0; i < r.numel(); ++i) r.data<uint16_t>()[i] = to_narrow(offset + scale * f.data<float>()[i], t);
  return r;
}

std::vector<float> values(const Tensor& t) {
  std::vector<float> v(static_cast<size_t>(t.numel()));
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = t.dtype() == DType::Float32 ? t.data<float>()[i] : from_narrow(t.data<uint16_t>()[i], t.dtype());
  return v;
}

void init_narrow(ModelBuilder& m, const std::string& name, const Tensor& t) {
  auto* p = m.g->add_initializer();
  p->set_name(name);
  p->set_data_type(onnx_type(t.dtype()));
  for (int64_t d : t.shape()) p->add_dims(d);
  p->set_raw_data(t.raw(), t.nbytes());
}

NamedTensors run(const ModelBuilder& m, const NamedTensors& in, OptimizationLevel level,
                 const std::string& tag = "narrow") {
  auto dir = test::temp_dir(tag);
  SessionOptions o;
  o.optimization = level;
  Session s(m.save(dir / "m.onnx"), o);
  return s.run(in);
}

// |got - want| within `ulps` units in the last place of the narrow type at want.
void check_close(const std::vector<float>& got, const std::vector<float>& want, DType t, int ulps) {
  REQUIRE(got.size() == want.size());
  const int mant = t == DType::Float16 ? 10 : 7;
  for (size_t i = 0; i < got.size(); ++i) {
    const float a = std::fabs(want[i]);
    const float ulp =
        std::ldexp(1.f, std::max(std::ilogb(a > 0 ? a : 1e-30f), t == DType::Float16 ? -14 : -126) - mant);
    INFO("element " << i << ": got " << got[i] << ", want " << want[i]);
    CHECK(std::fabs(got[i] - want[i]) <= ulps * ulp);
  }
}

}  // namespace

TEST_CASE("float16 conversions at the edges") {
  CHECK(std::isnan(half_to_float(float_to_half(std::numeric_limits<float>::quiet_NaN()))));
  CHECK(std::isnan(half_to_float(float_to_half(bits_float(0x7f800001u)))));  // a NaN with only low bits stays NaN
  CHECK(float_to_half(INFINITY) == 0x7c00);
  CHECK(float_to_half(-INFINITY) == 0xfc00);
  CHECK(float_to_half(65504.f) == 0x7bff);
  CHECK(float_to_half(65519.f) == 0x7bff);                             // below the midpoint to 65536: largest finite
  CHECK(float_to_half(65520.f) == 0x7c00);                             // the midpoint rounds to even: inf
  CHECK(float_to_half(std::ldexp(1.f, -24)) == 0x0001);                // smallest subnormal
  CHECK(float_to_half(std::ldexp(1.f, -25)) == 0x0000);                // half of it: a tie, to even (zero)
  CHECK(float_to_half(std::ldexp(3.f, -25)) == 0x0002);                // 1.5 subnormal ulps: tie to even (2)
  CHECK(float_to_half(-std::ldexp(1.f, -26)) == 0x8000);               // -0
  CHECK(float_to_half(1.f + std::ldexp(1.f, -11)) == 0x3c00);          // tie: stays on the even 1.0
  CHECK(float_to_half(1.f + std::ldexp(3.f, -11)) == 0x3c02);          // tie: up to the even neighbour
  CHECK(float_to_half(1.f + std::ldexp(1.f, -11) + 1e-7f) == 0x3c01);  // just above the tie
  for (uint32_t h = 0; h < 0x10000u; ++h) {                            // every half value round-trips
    const float f = half_to_float(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    REQUIRE(float_to_half(f) == h);
  }
}

TEST_CASE("bfloat16 conversions at the edges") {
  CHECK(std::isnan(bfloat16_to_float(float_to_bfloat16(std::numeric_limits<float>::quiet_NaN()))));
  CHECK(std::isnan(bfloat16_to_float(float_to_bfloat16(bits_float(0x7f800001u)))));  // truncating would give inf
  CHECK(std::isnan(bfloat16_to_float(float_to_bfloat16(bits_float(0xff80ffffu)))));
  CHECK(std::signbit(bfloat16_to_float(float_to_bfloat16(bits_float(0xff80ffffu)))));
  CHECK(float_to_bfloat16(INFINITY) == 0x7f80);
  CHECK(float_to_bfloat16(-INFINITY) == 0xff80);
  CHECK(float_to_bfloat16(std::numeric_limits<float>::max()) == 0x7f80);  // past the largest bfloat16: inf
  CHECK(float_to_bfloat16(bits_float(0x7f7f7fffu)) == 0x7f7f);            // below the midpoint: largest finite
  CHECK(float_to_bfloat16(1.f) == 0x3f80);
  CHECK(float_to_bfloat16(bits_float(0x3f808000u)) == 0x3f80);  // tie: stays on the even 1.0
  CHECK(float_to_bfloat16(bits_float(0x3f818000u)) == 0x3f82);  // tie: up to the even neighbour
  CHECK(float_to_bfloat16(bits_float(0x3f808001u)) == 0x3f81);  // just above the tie
  CHECK(float_to_bfloat16(bits_float(0x00008000u)) == 0x0000);  // subnormal tie to even (zero)
  CHECK(float_to_bfloat16(bits_float(0x00018000u)) == 0x0002);  // subnormal tie up to even
  CHECK(float_to_bfloat16(bits_float(0x80000001u)) == 0x8000);  // -0
  CHECK(bfloat16_to_float(0x0001) == bits_float(0x00010000u));
  for (uint32_t b = 0; b < 0x10000u; ++b) {  // every bfloat16 value round-trips
    const float f = bfloat16_to_float(static_cast<uint16_t>(b));
    if (std::isnan(f)) continue;
    REQUIRE(float_to_bfloat16(f) == b);
    REQUIRE(float_bits(f) == b << 16);
  }
}

TEST_CASE("a float16 and a bfloat16 op chain matches float32 rounded after every op, optimized or not") {
  for (DType t : {DType::Float16, DType::BFloat16}) {
    for (int64_t n : {1, 7, 8, 16, 17, 33}) {
      const int ty = onnx_type(t);
      // y = Relu(Sigmoid((x + c) * z) - 0.25) / Max(x, z)
      ModelBuilder m(17);
      m.input("x", {2, n}, ty).input("z", {2, n}, ty).output("y", ty).output("b", ty);
      const Tensor c = narrow_random(t, {n}, 3);
      init_narrow(m, "c", c);
      Tensor quarter(t, {});
      quarter.data<uint16_t>()[0] = to_narrow(0.25f, t);
      init_narrow(m, "quarter", quarter);
      m.node("Add", {"x", "c"}, {"a"});
      m.node("Mul", {"a", "z"}, {"b"});
      m.node("Sigmoid", {"b"}, {"s"});
      m.node("Sub", {"s", "quarter"}, {"d"});
      m.node("Relu", {"d"}, {"r"});
      m.node("Max", {"x", "z"}, {"mx"});
      m.node("Div", {"r", "mx"}, {"y"});
      const Tensor x = narrow_random(t, {2, n}, 1), z = narrow_random(t, {2, n}, 2, 1.f, 3.f);
      const std::vector<float> xv = values(x), zv = values(z), cv = values(c);
      std::vector<float> want(xv.size()), want_b(xv.size());
      for (size_t i = 0; i < xv.size(); ++i) {
        const float a = round_to(xv[i] + cv[i % static_cast<size_t>(n)], t);
        const float b = round_to(a * zv[i], t);
        want_b[i] = b;
        const float s = round_to(1.f / (1.f + std::exp(-b)), t);
        const float r = round_to(std::max(round_to(s - 0.25f, t), 0.f), t);
        want[i] = round_to(r / round_to(std::max(xv[i], zv[i]), t), t);
      }
      for (OptimizationLevel level : {OptimizationLevel::None, OptimizationLevel::All}) {
        INFO(dtype_name(t) << " n=" << n << " level " << static_cast<int>(level));
        auto out = run(m, {{"x", x}, {"z", z}}, level);
        REQUIRE(out[0].second.dtype() == t);
        REQUIRE(out[0].second.shape() == Shape{2, n});
        // Sigmoid's exp may differ from std::exp in float32's last place,
        // which can move a rounding by one narrow ulp; the rest is exact.
        check_close(values(out[0].second), want, t, 1);
        CHECK(values(out[1].second) == want_b);  // exact: rounded after the Add, and again after the Mul
      }
    }
  }
}

TEST_CASE("a float16 Conv after an input Cast, constant float16 weights, at every optimization level") {
  for (int64_t hw : {5, 9, 16}) {
    const int64_t C = 3, M = 4, K = 3;
    ModelBuilder m(17);
    m.input("x", {1, C, hw, hw}, kF32).output("y", kF32);
    ModelBuilder::attr_i(m.node("Cast", {"x"}, {"xh"}), "to", kF16);
    const Tensor W = narrow_random(DType::Float16, {M, C, K, K}, 31, 0.3f), B = narrow_random(DType::Float16, {M}, 32);
    init_narrow(m, "W", W);
    init_narrow(m, "B", B);
    auto* conv = m.node("Conv", {"xh", "W", "B"}, {"c"});
    ModelBuilder::attr_ints(conv, "pads", {1, 1, 1, 1});
    m.node("Relu", {"c"}, {"r"});
    ModelBuilder::attr_i(m.node("Cast", {"r"}, {"y"}), "to", kF32);
    const Tensor x = test::random_tensor({1, C, hw, hw}, 33);
    const auto wv = values(W), bv = values(B);
    std::vector<float> xv(static_cast<size_t>(x.numel())), want(static_cast<size_t>(M * hw * hw));
    for (size_t i = 0; i < xv.size(); ++i) xv[i] = round_to(x.data<float>()[i], DType::Float16);
    for (int64_t o = 0; o < M; ++o)
      for (int64_t i = 0; i < hw; ++i)
        for (int64_t j = 0; j < hw; ++j) {
          double acc = bv[size_t(o)];
          for (int64_t c = 0; c < C; ++c)
            for (int64_t p = 0; p < K; ++p)
              for (int64_t q = 0; q < K; ++q) {
                const int64_t r = i + p - 1, s = j + q - 1;
                if (r < 0 || r >= hw || s < 0 || s >= hw) continue;
                acc += double(wv[size_t(((o * C + c) * K + p) * K + q)]) * xv[size_t((c * hw + r) * hw + s)];
              }
          want[size_t((o * hw + i) * hw + j)] = std::max(round_to(static_cast<float>(acc), DType::Float16), 0.f);
        }
    for (OptimizationLevel level : {OptimizationLevel::None, OptimizationLevel::Basic, OptimizationLevel::All}) {
      INFO("hw=" << hw << " level " << static_cast<int>(level));
      auto out = run(m, {{"x", x}}, level);
      REQUIRE(out[0].second.dtype() == DType::Float32);
      check_close(values(out[0].second), want, DType::Float16, 1);  // float32 sums in another order than fp64
    }
  }
}

TEST_CASE("bfloat16 Gemm with constant weights and bias, and LayerNormalization") {
  const DType t = DType::BFloat16;
  for (int64_t k : {5, 16, 19}) {
    const int64_t M = 3, N = 9;
    ModelBuilder m(17);
    m.input("a", {M, k}, kBF16).output("y", kBF16).output("ln", kBF16).output("mean", kF32);
    const Tensor B = narrow_random(t, {N, k}, 11), C = narrow_random(t, {N}, 12);
    init_narrow(m, "B", B);
    init_narrow(m, "C", C);
    auto* g = m.node("Gemm", {"a", "B", "C"}, {"y"});
    ModelBuilder::attr_i(g, "transB", 1);
    ModelBuilder::attr_f(g, "alpha", 0.5f);
    const Tensor scale = narrow_random(t, {N}, 13, 0.5f, 1.f), bias = narrow_random(t, {N}, 14);
    init_narrow(m, "scale", scale);
    init_narrow(m, "bias", bias);
    m.node("LayerNormalization", {"y", "scale", "bias"}, {"ln", "mean"});
    const Tensor A = narrow_random(t, {M, k}, 10);
    const auto av = values(A), bv = values(B), cv = values(C), sv = values(scale), biv = values(bias);
    std::vector<float> want(static_cast<size_t>(M * N)), want_ln(want.size()), want_mean(static_cast<size_t>(M));
    for (int64_t i = 0; i < M; ++i) {
      double mean = 0, var = 0;
      for (int64_t j = 0; j < N; ++j) {
        double acc = 0;
        for (int64_t p = 0; p < k; ++p) acc += double(av[size_t(i * k + p)]) * bv[size_t(j * k + p)];
        want[size_t(i * N + j)] = round_to(static_cast<float>(0.5 * acc + cv[size_t(j)]), t);
        mean += want[size_t(i * N + j)];
      }
      mean /= N;
      for (int64_t j = 0; j < N; ++j) var += (want[size_t(i * N + j)] - mean) * (want[size_t(i * N + j)] - mean);
      var /= N;
      want_mean[size_t(i)] = static_cast<float>(mean);
      for (int64_t j = 0; j < N; ++j)
        want_ln[size_t(i * N + j)] =
            round_to(static_cast<float>((want[size_t(i * N + j)] - mean) / std::sqrt(var + 1e-5) * sv[size_t(j)] +
                                        biv[size_t(j)]),
                     t);
    }
    for (OptimizationLevel level : {OptimizationLevel::None, OptimizationLevel::All}) {
      INFO("k=" << k << " level " << static_cast<int>(level));
      auto out = run(m, {{"a", A}}, level);
      REQUIRE(out[0].second.dtype() == t);
      REQUIRE(out[1].second.dtype() == t);
      REQUIRE(out[2].second.dtype() == DType::Float32);  // Mean is float32 (stash_type), not the narrow type
      check_close(values(out[0].second), want, t, 1);    // float32 accumulation order vs double
      check_close(values(out[1].second), want_ln, t, 1);
      auto mv = values(out[2].second);
      for (size_t i = 0; i < mv.size(); ++i) CHECK(mv[i] == doctest::Approx(want_mean[i]).epsilon(1e-5));
    }
  }
}

TEST_CASE("outputs that keep another type: indices, a float32 base of Pow, Where's bool condition, Resize's scales") {
  ModelBuilder m(13);
  m.input("x", {2, 1, 4, 4}, kF16).input("e", {1}, kF16).input("f", {2, 1, 4, 4}, kF32).input("c", {2, 1, 4, 4}, kBool);
  m.output("am", kI64).output("tv", kF16).output("ti", kI64).output("mp", kF16).output("mi", kI64);
  m.output("pw", kF32).output("wh", kF16).output("rs", kF16);
  auto* am = m.node("ArgMax", {"x"}, {"am"});
  ModelBuilder::attr_i(am, "axis", 3);
  m.init_i64("k", {2});
  m.node("TopK", {"x", "k"}, {"tv", "ti"});
  auto* mp = m.node("MaxPool", {"x"}, {"mp", "mi"});
  ModelBuilder::attr_ints(mp, "kernel_shape", {2, 2});
  ModelBuilder::attr_ints(mp, "strides", {2, 2});
  m.node("Pow", {"f", "e"}, {"pw"});
  m.node("Where", {"c", "x", "x2"}, {"wh"});
  m.node("Neg", {"x"}, {"x2"});
  m.init_f("scales", {4}, {1, 1, 2, 2});
  m.node("Resize", {"x", "", "scales"}, {"rs"});
  // The graph input order matters to validate_and_sort only; Neg comes after its reader on purpose.
  const Tensor x = narrow_random(DType::Float16, {2, 1, 4, 4}, 21);
  Tensor e(DType::Float16, {1});
  e.data<uint16_t>()[0] = float_to_half(2.f);
  Tensor f = test::random_tensor({2, 1, 4, 4}, 22);
  Tensor c(DType::Bool, {2, 1, 4, 4});
  for (int64_t i = 0; i < c.numel(); ++i) c.data<uint8_t>()[i] = (i * 7) % 3 == 0;
  for (OptimizationLevel level : {OptimizationLevel::None, OptimizationLevel::All}) {
    auto out = run(m, {{"x", x}, {"e", e}, {"f", f}, {"c", c}}, level);
    const auto xv = values(x);
    CHECK(out[0].second.dtype() == DType::Int64);
    CHECK(out[1].second.dtype() == DType::Float16);
    CHECK(out[2].second.dtype() == DType::Int64);
    CHECK(out[3].second.dtype() == DType::Float16);
    CHECK(out[4].second.dtype() == DType::Int64);
    CHECK(out[5].second.dtype() == DType::Float32);
    CHECK(out[6].second.dtype() == DType::Float16);
    CHECK(out[7].second.dtype() == DType::Float16);
    CHECK(out[7].second.shape() == Shape{2, 1, 8, 8});
    for (int64_t r = 0; r < 8; ++r) {  // ArgMax and TopK over each row of 4
      int64_t best = 0;
      for (int64_t j = 1; j < 4; ++j)
        if (xv[size_t(r * 4 + j)] > xv[size_t(r * 4 + best)]) best = j;
      CHECK(out[0].second.data<int64_t>()[r] == best);
      CHECK(out[2].second.data<int64_t>()[r * 2] == best);
      CHECK(values(out[1].second)[size_t(r * 2)] == xv[size_t(r * 4 + best)]);
    }
    for (int64_t i = 0; i < 32; ++i) {
      CHECK(out[5].second.data<float>()[i] == doctest::Approx(f.data<float>()[i] * f.data<float>()[i]));
      CHECK(values(out[6].second)[size_t(i)] == (c.data<uint8_t>()[i] ? xv[size_t(i)] : -xv[size_t(i)]));
    }
    for (int64_t i = 0; i < 8; ++i) {  // MaxPool 2x2: the value at the index it reports
      const int64_t idx = out[4].second.data<int64_t>()[i];
      CHECK(values(out[3].second)[size_t(i)] == xv[size_t(idx)]);
    }
  }
}

TEST_CASE("Cast and CastLike between float16, bfloat16 and float32; EyeLike in bfloat16") {
  ModelBuilder m(15);
  m.input("x", {5}, kF32).output("h", kF16).output("b", kBF16).output("hb", kBF16).output("bh", kF16);
  m.output("eye", kBF16);
  ModelBuilder::attr_i(m.node("Cast", {"x"}, {"h"}), "to", kF16);
  ModelBuilder::attr_i(m.node("Cast", {"x"}, {"b"}), "to", kBF16);
  m.node("CastLike", {"h", "b"}, {"hb"});
  m.node("CastLike", {"b", "h"}, {"bh"});
  m.input("sq", {3, 4}, kF32);
  auto* eye = m.node("EyeLike", {"sq"}, {"eye"});
  ModelBuilder::attr_i(eye, "dtype", kBF16);
  ModelBuilder::attr_i(eye, "k", 1);
  Tensor x(DType::Float32, {5});
  const float xs[5] = {1.f + std::ldexp(1.f, -8), -3.1f, 65519.f, 1e-30f, NAN};
  std::memcpy(x.raw(), xs, sizeof xs);
  auto out = run(m, {{"x", x}, {"sq", Tensor(DType::Float32, {3, 4})}}, OptimizationLevel::All);
  for (int i = 0; i < 5; ++i) {
    CHECK(out[0].second.data<uint16_t>()[i] == float_to_half(xs[i]));
    CHECK(out[1].second.data<uint16_t>()[i] == float_to_bfloat16(xs[i]));
    CHECK(out[2].second.data<uint16_t>()[i] == float_to_bfloat16(half_to_float(float_to_half(xs[i]))));
    CHECK(out[3].second.data<uint16_t>()[i] == float_to_half(bfloat16_to_float(float_to_bfloat16(xs[i]))));
  }
  CHECK(out[1].second.data<uint16_t>()[0] == 0x3f80);  // a tie to even
  const auto ev = values(out[4].second);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) CHECK(ev[size_t(i * 4 + j)] == (j == i + 1 ? 1.f : 0.f));
}

TEST_CASE("info lists (op, opset, dtype) normrt cannot run, and nothing for a float16 model") {
  auto dir = test::temp_dir("narrow_info");
  {
    ModelBuilder m(17);
    m.input("x", {2, 3}, kF16).output("y", kF16);
    m.node("Relu", {"x"}, {"y"});
    CHECK(summarize_model(m.save(dir / "ok.onnx")).unsupported.empty());
  }
  {
    ModelBuilder m(17);  // Relu runs int8; Sigmoid has no int8 form; the Tanh after it is left out
    m.input("x", {2, 3}, 3).output("z", 3);
    m.node("Relu", {"x"}, {"y"});
    m.node("Sigmoid", {"y"}, {"s"});
    m.node("Tanh", {"s"}, {"z"});
    const auto u = summarize_model(m.save(dir / "bad.onnx")).unsupported;
    REQUIRE(u.size() == 1);
    INFO(u[0]);
    CHECK(u[0].find("Sigmoid (opset 17, inputs int8): ") == 0);
    CHECK(u[0].find("input 0 has dtype int8") != std::string::npos);
  }
}

TEST_CASE("bfloat16 tensors round-trip through .pb files; .npy refuses them") {
  auto dir = test::temp_dir("narrow_files");
  const Tensor t = narrow_random(DType::BFloat16, {3, 5}, 41);
  const std::string pb = (dir / "t.pb").string();
  write_tensor_pb(pb, t, "t");
  std::string name;
  const Tensor r = read_tensor_file(pb, &name);
  CHECK(name == "t");
  REQUIRE(r.dtype() == DType::BFloat16);
  CHECK(r.shape() == t.shape());
  CHECK(std::memcmp(r.raw(), t.raw(), t.nbytes()) == 0);
  try {
    write_npy((dir / "t.npy").string(), t);
    FAIL("write_npy accepted bfloat16");
  } catch (const Error& e) {
    CHECK(e.code() == ErrorCode::InvalidArgument);
    CHECK(std::string(e.what()).find("bfloat16") != std::string::npos);
  }
  CHECK(std::string(dtype_name(DType::BFloat16)) == "bfloat16");
  CHECK(dtype_size(DType::BFloat16) == 2);
  DType d;
  CHECK(dtype_from_onnx(16, &d));
  CHECK(d == DType::BFloat16);
  CHECK(dtype_is_float(DType::BFloat16));
}

TEST_CASE("data movement keeps float16 and bfloat16 bits as they are (Transpose, Concat, Gather, Slice, Pad, Expand)") {
  for (DType t : {DType::Float16, DType::BFloat16}) {
    const int ty = onnx_type(t);
    ModelBuilder m(13);
    m.input("x", {2, 3}, ty).output("tr", ty).output("cat", ty).output("ga", ty).output("sl", ty).output("pd", ty);
    m.output("ex", ty);
    ModelBuilder::attr_ints(m.node("Transpose", {"x"}, {"tr"}), "perm", {1, 0});
    ModelBuilder::attr_i(m.node("Concat", {"x", "x"}, {"cat"}), "axis", 1);
    m.init_i64("idx", {2, 0});
    ModelBuilder::attr_i(m.node("Gather", {"x", "idx"}, {"ga"}), "axis", 1);
    m.init_i64("st", {1});
    m.init_i64("en", {3});
    m.init_i64("ax", {1});
    m.node("Slice", {"x", "st", "en", "ax"}, {"sl"});
    m.init_i64("pads", {0, 1, 0, 0});
    m.node("Pad", {"x", "pads"}, {"pd"});
    m.init_i64("shape", {2, 2, 3});
    m.node("Expand", {"x", "shape"}, {"ex"});
    Tensor x(t, {2, 3});
    const uint16_t nan = t == DType::Float16 ? 0x7e01 : 0x7fc1;  // a NaN payload survives
    const uint16_t bits[6] = {0x3c00, 0x8001, nan, 0xfc00, 0x0001, 0x7bff};
    std::memcpy(x.raw(), bits, sizeof bits);
    auto out = run(m, {{"x", x}}, OptimizationLevel::None);
    auto at = [&](size_t k, int64_t i) { return out[k].second.data<uint16_t>()[i]; };
    for (size_t k = 0; k < out.size(); ++k) CHECK(out[k].second.dtype() == t);
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t j = 0; j < 3; ++j) {
        const uint16_t v = bits[i * 3 + j];
        CHECK(at(0, j * 2 + i) == v);
        CHECK(at(1, i * 6 + j) == v);
        CHECK(at(1, i * 6 + 3 + j) == v);
        CHECK(at(5, i * 3 + j) == v);
        CHECK(at(5, 6 + i * 3 + j) == v);
        CHECK(at(4, i * 4 + 1 + j) == v);
      }
    for (int64_t i = 0; i < 2; ++i) {
      CHECK(at(2, i * 2) == bits[i * 3 + 2]);
      CHECK(at(2, i * 2 + 1) == bits[i * 3]);
      CHECK(at(3, i * 2) == bits[i * 3 + 1]);
      CHECK(at(3, i * 2 + 1) == bits[i * 3 + 2]);
      CHECK(at(4, i * 4) == 0);
    }
  }
}
