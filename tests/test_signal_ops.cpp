// Signal, random and text ops through the runtime (one-node models), against
// plain references written out here in fp64: DFT/STFT and the windows,
// MelWeightMatrix, the statistics of the random generators, TfIdfVectorizer;
// plus the errors hostile attributes must raise.
#include <doctest/doctest.h>

#include <cmath>
#include <complex>
#include <cstring>
#include <random>

#include "model_builder.h"
#include "normrt/normrt.h"
#include "one_node.h"
#include "ops/signal/fft.h"

using namespace normrt;
using namespace normrt::test::one_node;
using test::ModelBuilder;
using test::random_tensor;

// ---- DFT, STFT, windows, MelWeightMatrix --------------------------------------

TEST_CASE("Fft against the defining sum for lengths around the radix-2/Bluestein/direct boundaries") {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> g;
  for (int64_t n : {1, 2, 7, 8, 9, 16, 17, 31, 32, 33, 64, 100, 128, 257}) {
    CAPTURE(n);
    std::vector<cdouble> x(static_cast<size_t>(n));
    for (auto& v : x) v = {g(rng), g(rng)};
    for (bool inverse : {false, true}) {
      const std::vector<cdouble> want = dft_naive(x, inverse);
      std::vector<cdouble> got = x;
      Fft fft(n);
      fft.transform(got.data(), inverse);
      double err = 0;
      for (size_t k = 0; k < x.size(); ++k) err = std::max(err, std::abs(got[k] - want[k]));
      CHECK(err <= 1e-9 * static_cast<double>(n));
    }
    // inverse ∘ forward = n · identity
    std::vector<cdouble> y = x;
    Fft fft(n);
    fft.transform(y.data(), false);
    fft.transform(y.data(), true);
    double err = 0;
    for (size_t k = 0; k < x.size(); ++k) err = std::max(err, std::abs(y[k] / static_cast<double>(n) - x[k]));
    CHECK(err <= 1e-12 * static_cast<double>(n));
  }
}

namespace {

// DFT of x [2, len, 3, parts] along axis 1 through a model (opset 17: attribute; 20: input).
Tensor dft_model(const Tensor& x, int64_t dft_length, bool inverse, bool onesided, int64_t opset) {
  ModelBuilder m(opset);
  m.input("x", x.shape()).output("y");
  std::vector<std::string> ins{"x"};
  if (dft_length != 0 || opset >= 20) {  // 0: no dft_length input (17) or the axis length (20)
    m.init_i64("n", {dft_length != 0 ? dft_length : x.shape()[1]});
    ins.push_back("n");
  }
  if (opset >= 20) {
    m.init_i64("axis", {1});
    ins.push_back("axis");
  }
  auto* n = m.node("DFT", ins, {"y"});
  if (opset < 20) ModelBuilder::attr_i(n, "axis", 1);
  ModelBuilder::attr_i(n, "inverse", inverse);
  ModelBuilder::attr_i(n, "onesided", onesided);
  return run(m, {{"x", x}}, "dft")[0].second;
}

}  // namespace

TEST_CASE("DFT through the runtime: naive double DFT, dft_length padding/cutting, onesided, inverse∘forward") {
  for (int64_t len : {1, 7, 8, 9, 16, 17}) {
    for (int64_t parts : {1, 2}) {
      Tensor x = random_tensor({2, len, 3, parts}, static_cast<uint64_t>(len * 10 + parts));
      for (int64_t dft_length : {int64_t{0}, len + 3, std::max<int64_t>(1, len - 2)})
        for (int64_t opset : {17, 20})
          for (bool onesided : {false, true})
            for (bool inverse : {false, true}) {
              CAPTURE(len);
              CAPTURE(parts);
              CAPTURE(dft_length);
              CAPTURE(opset);
              CAPTURE(onesided);
              CAPTURE(inverse);
              const int64_t n = dft_length > 0 ? dft_length : len, kept = onesided ? n / 2 + 1 : n;
              Tensor y = dft_model(x, dft_length, inverse, onesided, opset);
              REQUIRE(y.shape() == Shape{2, kept, 3, 2});
              std::vector<double> want;
              std::vector<std::vector<cdouble>> lines;
              for (int64_t b = 0; b < 2; ++b)
                for (int64_t i = 0; i < 3; ++i) {
                  std::vector<cdouble> line(static_cast<size_t>(n));
                  for (int64_t j = 0; j < std::min(n, len); ++j) {
                    const float* v = x.data<float>() + ((b * len + j) * 3 + i) * parts;
                    line[static_cast<size_t>(j)] = {v[0], parts == 2 ? v[1] : 0.f};
                  }
                  lines.push_back(dft_naive(line, inverse));
                }
              want.resize(static_cast<size_t>(y.numel()));
              for (int64_t b = 0; b < 2; ++b)
                for (int64_t k = 0; k < kept; ++k)
                  for (int64_t i = 0; i < 3; ++i) {
                    const cdouble v = lines[static_cast<size_t>(b * 3 + i)][static_cast<size_t>(k)] /
                                      (inverse ? static_cast<double>(n) : 1.0);
                    want[static_cast<size_t>(((b * kept + k) * 3 + i) * 2)] = v.real();
                    want[static_cast<size_t>(((b * kept + k) * 3 + i) * 2 + 1)] = v.imag();
                  }
              check_close(y, want, 1e-5);
            }
    }
  }
  // inverse ∘ forward is the identity (complex input, length 9: Bluestein-free direct path; 100: Bluestein).
  for (int64_t len : {9, 100}) {
    Tensor x = random_tensor({2, len, 3, 2}, 77);
    ModelBuilder m(17);
    m.input("x", x.shape()).output("z");
    ModelBuilder::attr_i(m.node("DFT", {"x"}, {"y"}), "axis", 1);
    auto* inv = m.node("DFT", {"y"}, {"z"});
    ModelBuilder::attr_i(inv, "axis", 1);
    ModelBuilder::attr_i(inv, "inverse", 1);
    check_close(run(m, {{"x", x}}, "dftid")[0].second, std::vector<float>(x.data<float>(), x.data<float>() + x.numel()),
                1e-5);
  }
  // Errors: dft_length ≤ 0 or huge, axis out of range (the last axis holds the parts), a bad last axis.
  Tensor x = random_tensor({1, 8, 1}, 1);
  CHECK_THROWS_WITH_AS(dft_model(random_tensor({2, 8, 3, 1}, 1), -4, false, false, 17),
                       doctest::Contains("dft_length must be positive"), Error);
  ModelBuilder zero(17);
  zero.input("x", {1, 8, 1}).output("y");
  zero.init_i64("n", {0});
  zero.node("DFT", {"x", "n"}, {"y"});
  CHECK_THROWS_WITH_AS(run(zero, {{"x", x}}, "dftbad"), doctest::Contains("dft_length must be positive"), Error);
  ModelBuilder huge(17);
  huge.input("x", {1, 8, 1}).output("y");
  huge.init_i64("n", {int64_t{1} << 40});
  huge.node("DFT", {"x", "n"}, {"y"});
  CHECK_THROWS_WITH_AS(run(huge, {{"x", x}}, "dftbad"), doctest::Contains("beyond 2^20"), Error);
  for (int64_t axis : {2, -1, 5, -4}) {
    ModelBuilder b(17);
    b.input("x", {1, 8, 1}).output("y");
    ModelBuilder::attr_i(b.node("DFT", {"x"}, {"y"}), "axis", axis);
    CHECK_THROWS_WITH_AS(run(b, {{"x", x}}, "dftbad"), doctest::Contains("axis is out of range"), Error);
  }
  ModelBuilder parts(17);
  parts.input("x", {1, 8, 3}).output("y");
  parts.node("DFT", {"x"}, {"y"});
  CHECK_THROWS_WITH_AS(run(parts, {{"x", random_tensor({1, 8, 3}, 1)}}, "dftbad"), doctest::Contains("1 or 2"), Error);
}

TEST_CASE("STFT against per-frame DFTs of the windowed signal; its errors") {
  const int64_t len = 37, step = 5, frame = 9;
  Tensor x = random_tensor({2, len, 1}, 11);
  Tensor w = random_tensor({frame}, 12);
  for (bool onesided : {true, false}) {
    ModelBuilder m(17);
    m.input("x", {2, len, 1}).input("w", {frame}).output("y");
    m.init_i64("step", {step});
    m.init_i64("fl", {frame});
    ModelBuilder::attr_i(m.node("STFT", {"x", "step", "w", "fl"}, {"y"}), "onesided", onesided);
    Tensor y = run(m, {{"x", x}, {"w", w}}, "stft")[0].second;
    const int64_t frames = 1 + (len - frame) / step, bins = onesided ? frame / 2 + 1 : frame;
    REQUIRE(y.shape() == Shape{2, frames, bins, 2});
    std::vector<double> want;
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t f = 0; f < frames; ++f) {
        std::vector<cdouble> line(static_cast<size_t>(frame));
        for (int64_t j = 0; j < frame; ++j)
          line[static_cast<size_t>(j)] = x.data<float>()[b * len + f * step + j] * w.data<float>()[j];
        const std::vector<cdouble> spectrum = dft_naive(line, false);
        for (int64_t k = 0; k < bins; ++k) {
          want.push_back(spectrum[static_cast<size_t>(k)].real());
          want.push_back(spectrum[static_cast<size_t>(k)].imag());
        }
      }
    check_close(y, want, 1e-5);
  }
  struct Bad {
    int64_t step, frame;
    const char* message;
  };
  for (const Bad& b : {Bad{0, 9, "frame_step must be positive"}, Bad{-2, 9, "frame_step must be positive"},
                       Bad{5, 0, "frame_length must be positive"}, Bad{5, 38, "shorter than frame_length"}}) {
    ModelBuilder m(17);
    m.input("x", {2, len, 1}).output("y");
    m.init_i64("step", {b.step});
    m.init_i64("fl", {b.frame});
    m.node("STFT", {"x", "step", "", "fl"}, {"y"});
    CHECK_THROWS_WITH_AS(run(m, {{"x", x}}, "stftbad"), doctest::Contains(b.message), Error);
  }
}

TEST_CASE("Hann, Hamming and Blackman windows (periodic and symmetric, output_datatype) and MelWeightMatrix") {
  auto window = [](const char* op, int64_t size, int64_t periodic, int64_t dtype) {
    ModelBuilder m(17);
    m.output("w", static_cast<int>(dtype));
    m.init_i64("size", {size});
    auto* n = m.node(op, {"size"}, {"w"});
    ModelBuilder::attr_i(n, "periodic", periodic);
    ModelBuilder::attr_i(n, "output_datatype", dtype);
    return run(m, {}, "window")[0].second;
  };
  for (int64_t size : {1, 2, 8, 9, 17})
    for (int64_t periodic : {0, 1}) {
      CAPTURE(size);
      CAPTURE(periodic);
      const double N = static_cast<double>(periodic ? size : size - 1);
      std::vector<double> hann, hamming, blackman;
      for (int64_t k = 0; k < size; ++k) {
        const double t = N > 0 ? 2 * M_PI * static_cast<double>(k) / N : 0.0;
        hann.push_back(0.5 - 0.5 * std::cos(t));
        hamming.push_back(25.0 / 46 - 21.0 / 46 * std::cos(t));
        blackman.push_back(0.42 - 0.5 * std::cos(t) + 0.08 * std::cos(2 * t));
      }
      if (size == 1 && !periodic) hann = hamming = blackman = {1.0};
      check_close(window("HannWindow", size, periodic, 1), hann, 1e-6);
      check_close(window("HammingWindow", size, periodic, 11), hamming, 1e-12);
      check_close(window("BlackmanWindow", size, periodic, 1), blackman, 1e-6);
    }
  CHECK(window("HannWindow", 4, 1, 11).dtype() == DType::Float64);
  CHECK(window("HannWindow", 4, 1, 7).data<int64_t>()[2] == 1);  // 0.5 − 0.5·cos(π) = 1
  for (int64_t size : {0, -5})
    CHECK_THROWS_WITH_AS(window("HannWindow", size, 1, 1), doctest::Contains("size must be positive"), Error);

  auto mel = [](int64_t bins, int64_t dft_length, int64_t rate, float lo, float hi) {
    ModelBuilder m(17);
    m.output("m");
    m.init_i64("bins", {bins});
    m.init_i64("len", {dft_length});
    m.init_i64("rate", {rate});
    m.init_f("lo", {}, {lo});
    m.init_f("hi", {}, {hi});
    m.node("MelWeightMatrix", {"bins", "len", "rate", "lo", "hi"}, {"m"});
    return run(m, {}, "mel")[0].second;
  };
  // Triangles: each column rises to exactly 1 at its centre point and stays in [0, 1].
  Tensor mw = mel(10, 512, 16000, 20.f, 8000.f);
  REQUIRE(mw.shape() == Shape{257, 10});
  for (int64_t i = 0; i < 10; ++i) {
    float peak = 0;
    int64_t nonzero = 0;
    for (int64_t j = 0; j < 257; ++j) {
      const float v = mw.data<float>()[j * 10 + i];
      CHECK((v >= 0.f && v <= 1.f));
      peak = std::max(peak, v);
      nonzero += v > 0;
    }
    CHECK(peak == 1.f);
    CHECK(nonzero >= 1);
  }
  CHECK_THROWS_WITH_AS(mel(0, 512, 16000, 20, 8000), doctest::Contains("num_mel_bins must be positive"), Error);
  CHECK_THROWS_WITH_AS(mel(10, 0, 16000, 20, 8000), doctest::Contains("dft_length must be positive"), Error);
  CHECK_THROWS_WITH_AS(mel(10, 512, 0, 20, 8000), doctest::Contains("sample_rate must be positive"), Error);
  CHECK_THROWS_WITH_AS(mel(10, 512, 16000, 900, 100), doctest::Contains("hertz edges"), Error);
  CHECK_THROWS_WITH_AS(mel(10, 512, 16000, 20, 20000), doctest::Contains("maps past the last"), Error);
}

// ---- Random generators --------------------------------------------------------

namespace {

std::pair<double, double> mean_variance(const Tensor& t) {
  double s = 0, q = 0;
  const int64_t n = t.numel();
  for (int64_t i = 0; i < n; ++i) {
    const double v = t.dtype() == DType::Float64 ? t.data<double>()[i] : t.data<float>()[i];
    s += v;
    q += v * v;
  }
  const double mean = s / static_cast<double>(n);
  return {mean, q / static_cast<double>(n) - mean * mean};
}

// A one-node RandomUniform/RandomNormal model; seed < 0: no seed attribute.
ModelBuilder random_model(const char* op, const std::vector<int64_t>& shape, double a, double b, float seed,
                          int64_t dtype = 1) {
  ModelBuilder m(17);
  m.output("y", static_cast<int>(dtype));
  auto* n = m.node(op, {}, {"y"});
  ModelBuilder::attr_ints(n, "shape", shape);
  const bool uniform = std::string(op) == "RandomUniform";
  ModelBuilder::attr_f(n, uniform ? "low" : "mean", static_cast<float>(a));
  ModelBuilder::attr_f(n, uniform ? "high" : "scale", static_cast<float>(b));
  ModelBuilder::attr_i(n, "dtype", dtype);
  if (seed >= 0) ModelBuilder::attr_f(n, "seed", seed);
  return m;
}

bool same(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

}  // namespace

TEST_CASE("RandomUniform/RandomNormal: range, mean and variance, seeded determinism, unseeded streams") {
  const int64_t n = 40000;
  {
    ModelBuilder m = random_model("RandomUniform", {n}, -2, 3, 4.f);
    auto dir = test::temp_dir("rand_u");
    const std::string path = m.save(dir / "m.onnx");
    Session s1(path), s2(path);
    const Tensor a = s1.run({})[0].second, b = s1.run({})[0].second, c = s2.run({})[0].second;
    REQUIRE(a.shape() == Shape{n});
    CHECK(same(a, b));  // a seed gives the same values every run and in every session
    CHECK(same(a, c));
    float lo = 1e9f, hi = -1e9f;
    for (int64_t i = 0; i < n; ++i) {
      lo = std::min(lo, a.data<float>()[i]);
      hi = std::max(hi, a.data<float>()[i]);
    }
    CHECK(lo >= -2.f);
    CHECK(hi < 3.f);
    CHECK(lo < -1.99f);
    CHECK(hi > 2.99f);
    auto [mean, var] = mean_variance(a);
    CHECK(std::fabs(mean - 0.5) < 0.04);  // σ of the mean: 5/√12/200 ≈ 0.007
    CHECK(std::fabs(var - 25.0 / 12) < 0.06);
    ModelBuilder other = random_model("RandomUniform", {n}, -2, 3, 5.f);
    CHECK(!same(a, run(other, {}, "rand_u2")[0].second));
  }
  {
    ModelBuilder m = random_model("RandomNormal", {n}, 1, 2, -1, 11);
    auto dir = test::temp_dir("rand_n");
    const std::string path = m.save(dir / "m.onnx");
    Session s1(path), s2(path);
    const Tensor a = s1.run({})[0].second, b = s1.run({})[0].second, c = s2.run({})[0].second;
    REQUIRE(a.dtype() == DType::Float64);
    CHECK(!same(a, b));  // unseeded: not folded, each run draws anew
    CHECK(same(a, c));   // ... from an engine that starts the same way in every session
    for (const Tensor* t : {&a, &b}) {
      auto [mean, var] = mean_variance(*t);
      CHECK(std::fabs(mean - 1.0) < 0.05);  // σ of the mean: 2/200 = 0.01
      CHECK(std::fabs(var - 4.0) < 0.2);
    }
    int64_t beyond_3_sigma = 0;
    for (int64_t i = 0; i < n; ++i) beyond_3_sigma += std::fabs(a.data<double>()[i] - 1.0) > 6.0;
    CHECK(beyond_3_sigma < n * 0.0027 * 2);  // a normal tail, not a uniform one
    CHECK(beyond_3_sigma > 0);
  }
  // The *Like forms take the input's shape and (by default) dtype.
  {
    ModelBuilder m(17);
    m.input("x", {3, 500}, 11).output("u", 11).output("v", 1);
    auto* u = m.node("RandomUniformLike", {"x"}, {"u"});
    ModelBuilder::attr_f(u, "seed", 1.f);
    auto* v = m.node("RandomNormalLike", {"x"}, {"v"});
    ModelBuilder::attr_i(v, "dtype", 1);
    auto out = run(m, {{"x", Tensor(DType::Float64, {3, 500})}}, "rand_like");
    CHECK(out[0].second.dtype() == DType::Float64);
    CHECK(out[0].second.shape() == Shape{3, 500});
    CHECK(out[1].second.dtype() == DType::Float32);
    CHECK(std::fabs(mean_variance(out[0].second).first - 0.5) < 0.05);
    CHECK(std::fabs(mean_variance(out[1].second).second - 1.0) < 0.15);
  }
  // Errors.
  CHECK_THROWS_WITH_AS(run(random_model("RandomUniform", {4}, 3, 2, 1), {}, "randbad"),
                       doctest::Contains("low must not exceed high"), Error);
  CHECK_THROWS_WITH_AS(run(random_model("RandomNormal", {4}, 0, -1, 1), {}, "randbad"),
                       doctest::Contains("scale must not be negative"), Error);
  CHECK_THROWS_WITH_AS(run(random_model("RandomNormal", {4, -2}, 0, 1, 1), {}, "randbad"),
                       doctest::Contains("output 0"), Error);
  CHECK_THROWS_WITH_AS(run(random_model("RandomUniform", {4}, 0, 1, 1, 7), {}, "randbad"),
                       doctest::Contains("output dtype int64"), Error);
  ModelBuilder like_int(17);
  like_int.input("x", {3}, 7).output("y");
  like_int.node("RandomUniformLike", {"x"}, {"y"});
  CHECK_THROWS_WITH_AS(run(like_int, {{"x", tensor_i64({3}, {1, 2, 3})}}, "randbad"),
                       doctest::Contains("output dtype int64"), Error);
}

TEST_CASE("Bernoulli: probabilities 0 and 1 exactly, the mean of p = 0.3, output dtypes; Multinomial frequencies") {
  const int64_t n = 30000;
  Tensor p(DType::Float32, {3, n});
  for (int64_t i = 0; i < n; ++i) {
    p.data<float>()[i] = 0.f;
    p.data<float>()[n + i] = 1.f;
    p.data<float>()[2 * n + i] = 0.3f;
  }
  for (int64_t dtype : {1, 9, 7}) {
    CAPTURE(dtype);
    ModelBuilder m(15);
    m.input("p", {3, n}).output("y", static_cast<int>(dtype));
    ModelBuilder::attr_i(m.node("Bernoulli", {"p"}, {"y"}), "dtype", dtype);
    Tensor y = run(m, {{"p", p}}, "bernoulli")[0].second;
    auto at = [&](int64_t i) -> double {
      if (dtype == 1) return y.data<float>()[i];
      if (dtype == 9) return y.data<bool>()[i] ? 1.0 : 0.0;
      return static_cast<double>(y.data<int64_t>()[i]);
    };
    double zeros = 0, ones = 0, third = 0;
    int64_t not_binary = 0;
    for (int64_t i = 0; i < n; ++i) {
      zeros += at(i);
      ones += at(n + i);
      third += at(2 * n + i);
      not_binary += at(2 * n + i) != 0.0 && at(2 * n + i) != 1.0;
    }
    CHECK(not_binary == 0);
    CHECK(zeros == 0);
    CHECK(ones == n);
    CHECK(std::fabs(third / n - 0.3) < 0.015);  // σ ≈ 0.0026
  }

  // Multinomial over log-probabilities log(0.1, 0.2, 0.7) and a row with an impossible class.
  const int64_t samples = 20000;
  ModelBuilder m(7);
  m.input("x", {2, 3}).output("y", 7);
  auto* node = m.node("Multinomial", {"x"}, {"y"});
  ModelBuilder::attr_i(node, "sample_size", samples);
  ModelBuilder::attr_i(node, "dtype", 7);
  ModelBuilder::attr_f(node, "seed", 3.f);
  const float x[] = {std::log(0.1f) + 5, std::log(0.2f) + 5, std::log(0.7f) + 5, 0.f, -INFINITY, 0.f};
  Tensor y = run(m, {{"x", tensor_f({2, 3}, std::vector<float>(x, x + 6))}}, "multinomial")[0].second;
  REQUIRE(y.shape() == Shape{2, samples});
  double count[2][3] = {};
  int64_t out_of_range = 0;
  for (int64_t r = 0; r < 2; ++r)
    for (int64_t s = 0; s < samples; ++s) {
      const int64_t k = y.data<int64_t>()[r * samples + s];
      if (k < 0 || k >= 3)
        ++out_of_range;
      else
        count[r][k] += 1.0 / samples;
    }
  CHECK(out_of_range == 0);
  CHECK(std::fabs(count[0][0] - 0.1) < 0.012);
  CHECK(std::fabs(count[0][1] - 0.2) < 0.015);
  CHECK(std::fabs(count[0][2] - 0.7) < 0.015);
  CHECK(count[1][1] == 0);
  CHECK(std::fabs(count[1][0] - 0.5) < 0.02);

  ModelBuilder bad(7);
  bad.input("x", {1, 3}).output("y", 6);
  ModelBuilder::attr_i(bad.node("Multinomial", {"x"}, {"y"}), "sample_size", 0);
  CHECK_THROWS_WITH_AS(run(bad, {{"x", tensor_f({1, 3}, {0, 0, 0})}}, "multibad"),
                       doctest::Contains("sample_size must be positive"), Error);
  ModelBuilder nan_row(7);
  nan_row.input("x", {1, 3}).output("y", 6);
  nan_row.node("Multinomial", {"x"}, {"y"});
  CHECK_THROWS_WITH_AS(run(nan_row, {{"x", tensor_f({1, 3}, {0, NAN, 0})}}, "multibad"),
                       doctest::Contains("no finite log-probabilities"), Error);
  CHECK_THROWS_WITH_AS(run(nan_row, {{"x", tensor_f({1, 3}, {-INFINITY, -INFINITY, -INFINITY})}}, "multibad"),
                       doctest::Contains("no finite log-probabilities"), Error);
}

// ---- TfIdfVectorizer ------------------------------------------------------------

namespace {

struct TfIdf {
  std::string mode = "TF";
  int64_t min_n = 1, max_n = 3, max_skip = 1;
  // unigrams 1, 3; bigrams (1, 2), (1, 3); trigram (1, 2, 3) → columns 0..4
  std::vector<int64_t> counts{0, 2, 6}, pool{1, 3, 1, 2, 1, 3, 1, 2, 3}, indexes{0, 1, 2, 3, 4};
  std::vector<float> weights;
  bool strings = false;
};

Tensor tfidf(const TfIdf& k, const Tensor& x) {
  ModelBuilder m(9);
  m.input("x", x.shape(), x.dtype() == DType::Int32 ? 6 : 7).output("y");
  auto* n = m.node("TfIdfVectorizer", {"x"}, {"y"});
  ModelBuilder::attr_s(n, "mode", k.mode);
  ModelBuilder::attr_i(n, "min_gram_length", k.min_n);
  ModelBuilder::attr_i(n, "max_gram_length", k.max_n);
  ModelBuilder::attr_i(n, "max_skip_count", k.max_skip);
  ModelBuilder::attr_ints(n, "ngram_counts", k.counts);
  ModelBuilder::attr_ints(n, "ngram_indexes", k.indexes);
  ModelBuilder::attr_ints(n, "pool_int64s", k.pool);
  if (!k.weights.empty()) {
    auto* a = n->add_attribute();
    a->set_name("weights");
    a->set_type(onnx::AttributeProto::FLOATS);
    for (float w : k.weights) a->add_floats(w);
  }
  if (k.strings) {
    auto* a = n->add_attribute();
    a->set_name("pool_strings");
    a->set_type(onnx::AttributeProto::STRINGS);
    a->add_strings("a");
  }
  return run(m, {{"x", x}}, "tfidf")[0].second;
}

}  // namespace

TEST_CASE("TfIdfVectorizer: uni/bi/trigrams with skips, TF/IDF/TFIDF with weights, batches, int32 and int64") {
  // x = 1 2 3 1 2. Distance 1: unigram 1 twice, 3 once; (1, 2) twice; (1, 2, 3) once.
  // Distance 2 (max_skip_count 1): (x0, x2) = (1, 3) once; no trigram; unigrams are not counted again.
  const Tensor x = tensor_i64({5}, {1, 2, 3, 1, 2});
  check_close(tfidf(TfIdf{}, x), std::vector<float>{2, 1, 2, 1, 1}, 0);
  TfIdf no_skip;
  no_skip.max_skip = 0;
  check_close(tfidf(no_skip, x), std::vector<float>{2, 1, 2, 0, 1}, 0);
  TfIdf only_bigrams;
  only_bigrams.min_n = only_bigrams.max_n = 2;
  check_close(tfidf(only_bigrams, x), std::vector<float>{0, 0, 2, 1, 0}, 0);
  TfIdf idf;
  idf.mode = "IDF";
  idf.max_skip = 0;
  idf.weights = {0.5f, 2, 3, 4, 5};
  check_close(tfidf(idf, x), std::vector<float>{0.5f, 2, 3, 0, 5}, 0);
  idf.weights.clear();
  check_close(tfidf(idf, x), std::vector<float>{1, 1, 1, 0, 1}, 0);
  TfIdf tf_idf;
  tf_idf.mode = "TFIDF";
  tf_idf.weights = {0.5f, 2, 3, 4, 5};
  check_close(tfidf(tf_idf, x), std::vector<float>{1, 2, 6, 4, 5}, 0);
  // A batch of two int32 rows; a huge max_skip_count costs no more than the row length
  // (distance 4 adds (x0, x4) = (1, 2)).
  Tensor batch(DType::Int32, {2, 5});
  const int32_t rows[] = {1, 2, 3, 1, 2, 3, 3, 3, 0, 0};
  std::copy(rows, rows + 10, batch.data<int32_t>());
  TfIdf far;
  far.max_skip = INT64_MAX;
  Tensor y = tfidf(far, batch);
  REQUIRE(y.shape() == Shape{2, 5});
  check_close(y, std::vector<float>{2, 1, 3, 1, 1, 0, 3, 0, 0, 0}, 0);
  // Output columns may repeat or skip: two n-grams into one column, column 6 never written.
  TfIdf merged;
  merged.indexes = {6, 0, 0, 1, 2};
  check_close(tfidf(merged, x), std::vector<float>{3, 1, 1, 0, 0, 0, 2}, 0);

  struct Bad {
    TfIdf k;
    const char* message;
  };
  std::vector<Bad> bad(9);
  bad[0].k.mode = "BM25", bad[0].message = "mode must be TF, IDF or TFIDF";
  bad[1].k.min_n = 0, bad[1].message = "min_gram_length";
  bad[2].k.max_n = 0, bad[2].message = "min_gram_length";
  bad[3].k.max_skip = -1, bad[3].message = "max_skip_count must not be negative";
  bad[4].k.counts = {0, 2, 1}, bad[4].message = "ngram_counts";
  bad[5].k.counts = {0, 3, 6}, bad[5].message = "do not fill whole n-grams";
  bad[6].k.indexes = {0, 1, -2, 3, 4}, bad[6].message = "ngram_indexes values";
  bad[7].k.indexes = {0, 1, 2}, bad[7].message = "fewer entries than the pool";
  bad[8].k.weights = {1, 2}, bad[8].message = "weights must give one value per output column";
  for (const Bad& b : bad) {
    CAPTURE(b.message);
    CHECK_THROWS_WITH_AS(tfidf(b.k, x), doctest::Contains(b.message), Error);
  }
  TfIdf strings;
  strings.strings = true;
  CHECK_THROWS_WITH_AS(tfidf(strings, x), doctest::Contains("string pools"), Error);
}
