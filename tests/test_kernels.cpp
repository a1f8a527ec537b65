// Normalization kernels on every ISA path this CPU runs, against the fp64
// scalar reference, at row lengths around every vector width, on offset rows
// (1e4 + N(0,1)), constant rows and rows larger than the cache.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "ops/kernel_set.h"
#include "ops/normalization.h"

using namespace normrt;

namespace {

std::vector<const NormKernels*> available_norm_kernels() {
  std::vector<const NormKernels*> v;
  for (const KernelSet* k : available_kernel_sets()) v.push_back(k->norm);
  return v;
}

const std::vector<int64_t> kSizes = {1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 768, 1000, 4097};

enum class Rows { Normal, Offset, Constant };

std::vector<float> make_rows(int64_t rows, int64_t n, Rows kind, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.f, 1.f);
  std::vector<float> x(static_cast<size_t>(rows * n));
  for (auto& v : x) {
    if (kind == Rows::Normal) v = g(rng);
    if (kind == Rows::Offset) v = 1e4f + g(rng);
    if (kind == Rows::Constant) v = 3.25f;
  }
  return x;
}

// max |y - ref| / max |ref| over the whole output.
double rel_error(const std::vector<float>& y, const std::vector<double>& ref) {
  double err = 0, mag = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    err = std::max(err, std::fabs(static_cast<double>(y[i]) - ref[i]));
    mag = std::max(mag, std::fabs(ref[i]));
  }
  return mag > 0 ? err / mag : err;
}

bool all_finite(const std::vector<float>& v) {
  for (float f : v)
    if (!std::isfinite(f)) return false;
  return true;
}

}  // namespace

TEST_CASE("every ISA path this CPU runs is found, best first, ending with sse2") {
  auto ks = available_kernel_sets();
  REQUIRE(!ks.empty());
  CHECK(std::string(ks.back()->isa) == "sse2");
  REQUIRE(find_kernel_set("sse2") != nullptr);
  CHECK(find_kernel_set("sse2")->norm == norm_kernels_sse2());
  CHECK(find_kernel_set("no-such-isa") == nullptr);
  for (const KernelSet* k : ks) {  // one ISA throughout each set
    CHECK(std::string(k->norm->isa) == k->isa);
    CHECK(std::string(k->math->isa) == k->isa);
    CHECK(std::string(k->gemm->isa) == k->isa);
    CHECK(std::string(k->gemm_4rows->isa) == k->isa);
    CHECK(std::string(k->depthwise->isa) == k->isa);
  }
}

TEST_CASE("LayerNorm fast path matches the fp64 reference on every ISA and size") {
  const int64_t rows = 3;
  for (const NormKernels* k : available_norm_kernels()) {
    for (int64_t n : kSizes) {
      for (Rows kind : {Rows::Normal, Rows::Offset, Rows::Constant}) {
        CAPTURE(std::string(k->isa));
        CAPTURE(n);
        CAPTURE(static_cast<int>(kind));
        std::vector<float> x = make_rows(rows, n, kind, static_cast<uint64_t>(n));
        std::vector<float> scale = make_rows(1, n, Rows::Normal, 7), bias = make_rows(1, n, Rows::Normal, 8);
        std::vector<float> y(x.size()), mean(rows), inv(rows);
        LayerNormArgs<float> a;
        a.x = x.data();
        a.y = y.data();
        a.rows = rows;
        a.n = n;
        a.scale = scale.data();
        a.bias = bias.data();
        a.eps = 1e-5;
        layer_norm_fast(a, *k, mean.data(), inv.data());

        std::vector<double> xd(x.begin(), x.end()), sd(scale.begin(), scale.end()), bd(bias.begin(), bias.end());
        std::vector<double> yd(x.size()), md(rows), id(rows);
        LayerNormArgs<double> r;
        r.x = xd.data();
        r.y = yd.data();
        r.rows = rows;
        r.n = n;
        r.scale = sd.data();
        r.bias = bd.data();
        r.eps = 1e-5;
        r.mean = md.data();
        r.inv_std = id.data();
        layer_norm_reference(r);

        REQUIRE(all_finite(y));
        CHECK(rel_error(y, yd) <= 1e-5);
        for (int64_t i = 0; i < rows; ++i) {
          CHECK(std::fabs(mean[i] - md[i]) <= 1e-6 * std::max(1.0, std::fabs(md[i])));
          CHECK(std::fabs(inv[i] - id[i]) <= 1e-5 * id[i]);
        }
        if (kind == Rows::Constant) {  // var = 0: y is exactly the bias
          for (int64_t i = 0; i < n; ++i) CHECK(y[static_cast<size_t>(i)] == bias[static_cast<size_t>(i)]);
        }
      }
    }
  }
}

TEST_CASE("LayerNorm without scale and bias (LayerNorm-simple) and per-row scale") {
  const int64_t rows = 4, n = 37;
  std::vector<float> x = make_rows(rows, n, Rows::Normal, 3), scale = make_rows(rows, n, Rows::Normal, 4);
  for (const NormKernels* k : available_norm_kernels()) {
    CAPTURE(std::string(k->isa));
    std::vector<float> y(x.size());
    LayerNormArgs<float> a;
    a.x = x.data();
    a.y = y.data();
    a.rows = rows;
    a.n = n;
    layer_norm_fast(a, *k, nullptr, nullptr);
    std::vector<double> xd(x.begin(), x.end()), yd(x.size());
    LayerNormArgs<double> r;
    r.x = xd.data();
    r.y = yd.data();
    r.rows = rows;
    r.n = n;
    layer_norm_reference(r);
    CHECK(rel_error(y, yd) <= 1e-5);

    a.scale = scale.data();
    a.scale_stride = n;  // a different scale for each row
    layer_norm_fast(a, *k, nullptr, nullptr);
    std::vector<double> sd(scale.begin(), scale.end());
    r.scale = sd.data();
    r.scale_stride = n;
    layer_norm_reference(r);
    CHECK(rel_error(y, yd) <= 1e-5);
  }
}

TEST_CASE("LayerNorm on rows larger than the cache") {
  const int64_t rows = 2, n = int64_t{1} << 21;  // 8 MiB per row
  std::vector<float> x = make_rows(rows, n, Rows::Offset, 11);
  std::vector<float> scale(static_cast<size_t>(n), 1.f), y(x.size());
  for (const NormKernels* k : available_norm_kernels()) {
    CAPTURE(std::string(k->isa));
    LayerNormArgs<float> a;
    a.x = x.data();
    a.y = y.data();
    a.rows = rows;
    a.n = n;
    a.scale = scale.data();
    layer_norm_fast(a, *k, nullptr, nullptr);
    std::vector<double> xd(x.begin(), x.end()), yd(x.size()), sd(scale.begin(), scale.end());
    LayerNormArgs<double> r;
    r.x = xd.data();
    r.y = yd.data();
    r.rows = rows;
    r.n = n;
    r.scale = sd.data();
    layer_norm_reference(r);
    CHECK(rel_error(y, yd) <= 1e-5);
  }
}

TEST_CASE("InstanceNorm fast path matches the reference on every ISA and plane size") {
  const int64_t N = 2, C = 3;
  std::vector<float> scale = {0.5f, -1.25f, 2.f}, bias = {0.1f, 0.f, -3.f};
  std::vector<double> sd(scale.begin(), scale.end()), bd(bias.begin(), bias.end());
  for (const NormKernels* k : available_norm_kernels()) {
    for (int64_t plane : kSizes) {
      for (Rows kind : {Rows::Normal, Rows::Offset, Rows::Constant}) {
        CAPTURE(std::string(k->isa));
        CAPTURE(plane);
        std::vector<float> x = make_rows(N * C, plane, kind, static_cast<uint64_t>(plane) + 100), y(x.size());
        instance_norm_fast(x.data(), y.data(), N * C, C, plane, scale.data(), bias.data(), 1e-5f, *k);
        std::vector<double> xd(x.begin(), x.end()), yd(x.size());
        instance_norm_reference(xd.data(), yd.data(), N * C, C, plane, sd.data(), bd.data(), 1e-5);
        REQUIRE(all_finite(y));
        CHECK(rel_error(y, yd) <= 1e-5);
      }
    }
  }
}

TEST_CASE("BatchNorm per-channel affine matches y = x*a + b on every ISA") {
  const int64_t N = 2, C = 3;
  std::vector<float> a = {0.5f, -1.25f, 2.f}, b = {0.1f, 0.f, -3.f};
  for (const NormKernels* k : available_norm_kernels()) {
    for (int64_t plane : kSizes) {
      CAPTURE(std::string(k->isa));
      CAPTURE(plane);
      std::vector<float> x = make_rows(N * C, plane, Rows::Normal, 5), y(x.size());
      channel_affine_fast(x.data(), y.data(), N * C, C, plane, a.data(), b.data(), *k);
      for (int64_t p = 0; p < N * C; ++p)
        for (int64_t i = 0; i < plane; ++i) {
          const size_t j = static_cast<size_t>(p * plane + i);
          const float want = x[j] * a[static_cast<size_t>(p % C)] + b[static_cast<size_t>(p % C)];
          CHECK(std::fabs(y[j] - want) <= 1e-6f * std::max(1.f, std::fabs(want)));
        }
    }
  }
}

namespace {

std::vector<double> widen(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }

}  // namespace

TEST_CASE("LayerNorm with std_mode unbiased_std_eps matches the reference on every ISA") {
  for (const NormKernels* k : available_norm_kernels()) {
    for (int64_t n : kSizes) {
      for (Rows kind : {Rows::Normal, Rows::Offset, Rows::Constant}) {
        CAPTURE(std::string(k->isa));
        CAPTURE(n);
        const int64_t rows = 3;
        std::vector<float> x = make_rows(rows, n, kind, static_cast<uint64_t>(n) + 7), y(x.size());
        LayerNormArgs<float> a;
        a.x = x.data();
        a.y = y.data();
        a.rows = rows;
        a.n = n;
        a.eps = 1e-6;
        a.std_mode = StdMode::UnbiasedStdEps;
        layer_norm_fast(a, *k, nullptr, nullptr);
        std::vector<double> xd = widen(x), yd(x.size());
        LayerNormArgs<double> r;
        r.x = xd.data();
        r.y = yd.data();
        r.rows = rows;
        r.n = n;
        r.eps = 1e-6;
        r.std_mode = StdMode::UnbiasedStdEps;
        layer_norm_reference(r);
        REQUIRE(all_finite(y));
        CHECK(rel_error(y, yd) <= 1e-5);
      }
    }
  }
}

TEST_CASE("AdaNorm fast path matches the reference on every ISA, both std modes") {
  for (const NormKernels* k : available_norm_kernels()) {
    for (StdMode mode : {StdMode::BiasedVarEps, StdMode::UnbiasedStdEps}) {
      for (int64_t n : kSizes) {
        for (Rows kind : {Rows::Normal, Rows::Offset, Rows::Constant}) {
          CAPTURE(std::string(k->isa));
          CAPTURE(n);
          const int64_t rows = 2;
          std::vector<float> x = make_rows(rows, n, kind, static_cast<uint64_t>(n) + 9), y(x.size()), ref(x.size());
          adanorm_fast(x.data(), y.data(), rows, n, 1e-5f, mode, 0.1f, 2.0f, *k);
          adanorm_reference(x.data(), ref.data(), rows, n, 1e-5, mode, 0.1, 2.0);
          REQUIRE(all_finite(y));
          CHECK(rel_error(y, widen(ref)) <= 1e-5);
        }
      }
    }
  }
}

TEST_CASE("RMSNorm fast path matches the fp64 reference on every ISA and size") {
  for (const NormKernels* k : available_norm_kernels()) {
    for (int64_t n : kSizes) {
      for (Rows kind : {Rows::Normal, Rows::Offset, Rows::Constant}) {
        CAPTURE(std::string(k->isa));
        CAPTURE(n);
        const int64_t rows = 3;
        std::vector<float> x = make_rows(rows, n, kind, static_cast<uint64_t>(n) + 1), y(x.size());
        std::vector<float> scale = make_rows(1, n, Rows::Normal, 2), inv(rows);
        rms_norm_fast(x.data(), y.data(), rows, n, scale.data(), 0, 1e-5f, inv.data(), *k);
        std::vector<double> xd = widen(x), sd = widen(scale), yd(x.size()), invd(rows);
        rms_norm_reference(xd.data(), yd.data(), rows, n, sd.data(), 0, 1e-5, invd.data());
        REQUIRE(all_finite(y));
        CHECK(rel_error(y, yd) <= 1e-5);
        for (int64_t r = 0; r < rows; ++r) CHECK(std::fabs(inv[r] - invd[r]) <= 1e-5 * invd[r]);
      }
    }
  }
}

TEST_CASE("GroupNorm fast path matches the reference on every ISA") {
  for (const NormKernels* k : available_norm_kernels()) {
    for (int64_t plane : {1, 7, 8, 9, 64, 65, 1000}) {
      for (auto groups : {std::pair<int64_t, int64_t>{6, 3}, {4, 1}, {5, 5}}) {
        const int64_t C = groups.first, G = groups.second;  // not a structured binding: CAPTURE takes its address
        for (Rows kind : {Rows::Normal, Rows::Offset, Rows::Constant}) {
          CAPTURE(std::string(k->isa));
          CAPTURE(plane);
          CAPTURE(G);
          const int64_t N = 2;
          std::vector<float> x = make_rows(N * C, plane, kind, static_cast<uint64_t>(plane + C)), y(x.size());
          std::vector<float> scale = make_rows(1, C, Rows::Normal, 3), bias = make_rows(1, C, Rows::Normal, 4);
          group_norm_fast(x.data(), y.data(), N, C, plane, G, scale.data(), bias.data(), 1e-5f, *k);
          std::vector<double> xd = widen(x), yd(x.size()), sd = widen(scale), bd = widen(bias);
          group_norm_reference(xd.data(), yd.data(), N, C, plane, G, sd.data(), bd.data(), 1e-5);
          REQUIRE(all_finite(y));
          CHECK(rel_error(y, yd) <= 1e-5);
        }
      }
    }
  }
}

TEST_CASE("Skip(Simplified)LayerNorm fast path matches the reference on every ISA") {
  for (const NormKernels* k : available_norm_kernels()) {
    for (bool simplified : {false, true}) {
      for (int64_t n : {1, 7, 8, 9, 63, 64, 65, 768, 1000}) {
        for (bool with_sum : {false, true}) {
          CAPTURE(std::string(k->isa));
          CAPTURE(simplified);
          CAPTURE(n);
          const int64_t rows = 6, skip_rows = 3;  // skip broadcast over a batch of 2
          std::vector<float> x = make_rows(rows, n, Rows::Offset, 5), skip = make_rows(skip_rows, n, Rows::Normal, 6);
          std::vector<float> gamma = make_rows(1, n, Rows::Normal, 7), beta = make_rows(1, n, Rows::Normal, 8);
          std::vector<float> bias = make_rows(1, n, Rows::Normal, 9);
          std::vector<float> y(x.size()), sum(x.size()), mean(rows), inv(rows);
          std::vector<float> ry(x.size()), rsum(x.size()), rmean(rows), rinv(rows);
          SkipNormArgs a;
          a.x = x.data();
          a.skip = skip.data();
          a.skip_rows = skip_rows;
          a.gamma = gamma.data();
          a.beta = simplified ? nullptr : beta.data();
          a.bias = bias.data();
          a.rows = rows;
          a.n = n;
          a.eps = 1e-6f;
          a.simplified = simplified;
          SkipNormArgs r = a;
          a.y = y.data();
          a.sum = with_sum ? sum.data() : nullptr;
          a.mean = mean.data();
          a.inv_std = inv.data();
          r.y = ry.data();
          r.sum = rsum.data();
          r.mean = rmean.data();
          r.inv_std = rinv.data();
          skip_norm_fast(a, *k);
          skip_norm_reference(r);
          REQUIRE(all_finite(y));
          CHECK(rel_error(y, widen(ry)) <= 1e-5);
          if (with_sum) CHECK(sum == rsum);  // s = x + skip + bias, exactly
          for (int64_t i = 0; i < rows; ++i) {
            CHECK(std::fabs(mean[i] - rmean[i]) <= 1e-4f * std::max(1.f, std::fabs(rmean[i])));
            CHECK(std::fabs(inv[i] - rinv[i]) <= 1e-5f * rinv[i]);
          }
        }
      }
    }
  }
}
