// The functions of vector_math.h over xsimd::batch<float, Arch>: xsimd's
// exp/erf/tanh (Cephes-style polynomials, float accuracy), GELU's own erf
// (a short polynomial, or erfc in 8 pieces on avx2 and avx512), scalar tails with
// the C library. One pass over memory per map; softmax rows take three
// (max, exp-and-sum into y, scale). Included by one TU per ISA.
#pragma once
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <xsimd/xsimd.hpp>
#if defined(__AVX__)
#include <immintrin.h>
#endif

#include "vector_math.h"

namespace normrt {
namespace {

template <class Arch>
struct VectorMathImpl {
  using B = xsimd::batch<float, Arch>;
  static constexpr size_t W = B::size;

  // Two vectors per step: their (independent) dependency chains overlap.
  template <class VF, class SF>
  static void map(const float* x, float* y, size_t n, VF vf, SF sf) {
    size_t i = 0;
    for (; i + 2 * W <= n; i += 2 * W) {
      const B a = vf(B::load_unaligned(x + i)), b = vf(B::load_unaligned(x + i + W));
      a.store_unaligned(y + i);
      b.store_unaligned(y + i + W);
    }
    for (; i + W <= n; i += W) vf(B::load_unaligned(x + i)).store_unaligned(y + i);
    for (; i < n; ++i) y[i] = sf(x[i]);
  }

  static void exp(const float* x, float* y, size_t n) {
    map(
        x, y, n, [](B v) { return xsimd::exp(v); }, [](float v) { return std::exp(v); });
  }
  static void erf(const float* x, float* y, size_t n) {
    map(
        x, y, n, [](B v) { return xsimd::erf(v); }, [](float v) { return std::erf(v); });
  }
  static void tanh(const float* x, float* y, size_t n) {
    map(
        x, y, n, [](B v) { return xsimd::tanh(v); }, [](float v) { return std::tanh(v); });
  }
  static void sigmoid(const float* x, float* y, size_t n) {
    // 1/(1 + e^−x), with e^−x computed on min(−x, 88) so it never overflows to inf·0.
    // min(88, −x), not min(−x, 88): x86 min returns its second operand when either is
    // NaN, so NaN stays NaN (as in the scalar tail) instead of becoming 1/(1 + e^88).
    map(
        x, y, n, [](B v) { return B(1.f) / (B(1.f) + xsimd::exp(xsimd::min(B(88.f), -v))); },
        [](float v) { return 1.f / (1.f + std::exp(std::min(-v, 88.f))); });
  }
  // GELU(x) = ½·x·(1 + erf(u)), u = x/√2. A vector whose |u| are all below
  // 0.921875 (most of a transformer's FFN activations) takes erf(u) = u·P(u²),
  // P of degree 5 in u² (least-squares fit, relative error 2e-8); any other
  // vector takes erfc(|u|) from gelu_wide, so that x < 0 gets ½·x·erfc(|u|)
  // without the cancellation of 1 + erf(u).
  static B gelu_v(B x) {
    const B u = x * B(0.70710678118654752f);
    if (xsimd::all(xsimd::abs(u) < B(0.921875f))) {
      const B u2 = u * u;
      B p = xsimd::fma(B(-6.047048752e-04f), u2, B(5.005603576e-03f));
      p = xsimd::fma(p, u2, B(-2.677638588e-02f));
      p = xsimd::fma(p, u2, B(1.128213929e-01f));
      p = xsimd::fma(p, u2, B(-3.761253378e-01f));
      p = xsimd::fma(p, u2, B(1.128379160e+00f));
      const B hx = B(0.5f) * x;
      return xsimd::fma(hx, u * p, hx);
    }
    return gelu_wide(x, u);
  }
#if defined(__AVX2__) && defined(__FMA__)
  // erfc(a) on [k/2, k/2 + ½), k = 0 … 7, as a degree-8 polynomial in a − k/2 − ¼
  // (least-squares fit weighted by 1/erfc; float evaluation within 2.1e-6 relative
  // of erfc, 2.4e-7 absolute on GELU); erfc(a ≥ 4) < 1.6e-8 is taken as 0. Row i
  // holds coefficient i of the 8 intervals, picked per lane by one permute.
  alignas(32) static constexpr float kErfcPieces[9][8] = {
      {7.236736098e-01f, 2.888443664e-01f, 7.709987174e-02f, 1.332832877e-02f, 1.462716590e-03f, 1.006219228e-04f,
       4.302779197e-06f, 1.137271993e-07f},
      {-1.060014128e+00f, -6.429310706e-01f, -2.365211222e-01f, -5.277499570e-02f, -7.142319089e-03f, -5.862772568e-04f,
       -2.918902473e-05f, -8.814324423e-07f},
      {2.650035358e-01f, 4.821982894e-01f, 2.956514078e-01f, 9.235624713e-02f, 1.607021548e-02f, 1.612261997e-03f,
       9.486452347e-05f, 3.305415009e-06f},
      {3.091705550e-01f, -2.678845617e-02f, -1.675358621e-01f, -9.015735026e-02f, -2.172453140e-02f, -2.760384840e-03f,
       -1.958106128e-04f, -7.969759147e-06f},
      {-1.269810548e-01f, -1.506858704e-01f, 6.158936419e-03f, 4.810184543e-02f, 1.908360185e-02f, 3.258152635e-03f,
       2.865502401e-04f, 1.383668471e-05f},
      {-8.003846914e-02f, 5.322095702e-02f, 4.718552765e-02f, -6.619806091e-03f, -1.065937100e-02f, -2.756124700e-03f,
       -3.137034449e-04f, -1.835136101e-05f},
      {4.053221398e-02f, 2.684245288e-02f, -2.128563850e-02f, -8.954041735e-03f, 2.898007690e-03f, 1.656341626e-03f,
       2.641006062e-04f, 1.940757953e-05f},
      {1.582601953e-02f, -1.792506490e-02f, -3.734664147e-03f, 5.946645819e-03f, 7.145296447e-04f, -6.375114836e-04f,
       -1.728309855e-04f, -1.692425840e-05f},
      {-9.540416897e-03f, -2.058078720e-03f, 5.497558937e-03f, -7.728796791e-04f, -9.423789101e-04f, 9.344214213e-05f,
       7.660350073e-05f, 1.007600820e-05f},
  };
#endif
  static B gelu_wide(B x, B u) {
#if defined(__AVX2__) && defined(__FMA__)
    if constexpr (std::is_same_v<Arch, xsimd::fma3<xsimd::avx2>>) {
      const __m256 a = _mm256_andnot_ps(_mm256_set1_ps(-0.f), u);
      __m256i k = _mm256_cvttps_epi32(_mm256_mul_ps(a, _mm256_set1_ps(2.f)));
      k = _mm256_min_epi32(k, _mm256_set1_epi32(7));  // NaN converts to INT_MIN: lane 0's piece, NaN result
      const __m256 r =
          _mm256_sub_ps(a, _mm256_fmadd_ps(_mm256_cvtepi32_ps(k), _mm256_set1_ps(0.5f), _mm256_set1_ps(0.25f)));
      const auto piece = [&](int i) { return _mm256_permutevar8x32_ps(_mm256_load_ps(kErfcPieces[i]), k); };
      // Estrin's scheme (four dependent levels, not Horner's eight: the map is latency-bound otherwise).
      const __m256 r2 = _mm256_mul_ps(r, r), r4 = _mm256_mul_ps(r2, r2);
      const __m256 q0 =
          _mm256_fmadd_ps(_mm256_fmadd_ps(piece(3), r, piece(2)), r2, _mm256_fmadd_ps(piece(1), r, piece(0)));
      const __m256 q1 =
          _mm256_fmadd_ps(_mm256_fmadd_ps(piece(7), r, piece(6)), r2, _mm256_fmadd_ps(piece(5), r, piece(4)));
      const __m256 e = _mm256_fmadd_ps(_mm256_fmadd_ps(piece(8), r4, q1), r4, q0);
      const __m256 xv = x, hs = _mm256_mul_ps(_mm256_mul_ps(xv, _mm256_set1_ps(0.5f)), e);  // ½·x·erfc(|u|)
      const __m256 y = _mm256_blendv_ps(_mm256_sub_ps(xv, hs), hs, _mm256_cmp_ps(xv, _mm256_setzero_ps(), _CMP_LT_OQ));
      // |u| ≥ 4: x (x > 0) or 0 (x < 0; the true value is above −5e-8), ±inf included.
      return _mm256_blendv_ps(y, _mm256_max_ps(xv, _mm256_setzero_ps()),
                              _mm256_cmp_ps(a, _mm256_set1_ps(4.f), _CMP_GE_OQ));
    }
#endif
#if defined(__AVX512F__)
    if constexpr (B::size == 16) {  // the same 8 pieces, picked by a 16-lane permute of the low 8
      const __m512 xv = x, a = _mm512_abs_ps(u);
      __m512i k = _mm512_cvttps_epi32(_mm512_mul_ps(a, _mm512_set1_ps(2.f)));
      k = _mm512_min_epi32(k, _mm512_set1_epi32(7));  // NaN converts to INT_MIN: piece 0, NaN result
      const __m512 r =
          _mm512_sub_ps(a, _mm512_fmadd_ps(_mm512_cvtepi32_ps(k), _mm512_set1_ps(0.5f), _mm512_set1_ps(0.25f)));
      const auto piece = [&](int i) {
        return _mm512_permutexvar_ps(k, _mm512_castps256_ps512(_mm256_load_ps(kErfcPieces[i])));
      };
      const __m512 r2 = _mm512_mul_ps(r, r), r4 = _mm512_mul_ps(r2, r2);  // Estrin's scheme, as avx2
      const __m512 q0 =
          _mm512_fmadd_ps(_mm512_fmadd_ps(piece(3), r, piece(2)), r2, _mm512_fmadd_ps(piece(1), r, piece(0)));
      const __m512 q1 =
          _mm512_fmadd_ps(_mm512_fmadd_ps(piece(7), r, piece(6)), r2, _mm512_fmadd_ps(piece(5), r, piece(4)));
      const __m512 e = _mm512_fmadd_ps(_mm512_fmadd_ps(piece(8), r4, q1), r4, q0);
      const __m512 hs = _mm512_mul_ps(_mm512_mul_ps(xv, _mm512_set1_ps(0.5f)), e);  // ½·x·erfc(|u|)
      const __m512 y =
          _mm512_mask_blend_ps(_mm512_cmp_ps_mask(xv, _mm512_setzero_ps(), _CMP_LT_OQ), _mm512_sub_ps(xv, hs), hs);
      return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, _mm512_set1_ps(4.f), _CMP_GE_OQ), y,
                                  _mm512_max_ps(xv, _mm512_setzero_ps()));
    }
#endif
    // −∞ gives 0 (the limit, as the avx2 pieces give), not −∞·0 = NaN.
    return xsimd::select(x == B(-INFINITY), B(0.f), B(0.5f) * x * (B(1.f) + xsimd::erf(u)));
  }
  static void gelu(const float* x, float* y, size_t n) {
    map(
        x, y, n, [](B v) { return gelu_v(v); },
        [](float v) { return v == -INFINITY ? 0.f : 0.5f * v * (1.f + std::erf(v * 0.70710678118654752f)); });
  }
  // ½·x·(1 + tanh z) = x / (1 + e^(−2z)), z = √(2/π)·(x + 0.044715·x³): one
  // branch-free exp and a division (xsimd's tanh branches on |z| and pays both
  // sides on mixed vectors); no cancellation for x < 0.
  static void gelu_tanh(const float* x, float* y, size_t n) {
    map(
        x, y, n,
        [](B v) {
          const B z = B(0.7978845608028654f) * xsimd::fma(B(0.044715f) * v * v, v, v);
          return v / (B(1.f) + xsimd::exp(B(-2.f) * z));
        },
        [](float v) { return 0.5f * v * (1.f + std::tanh(0.7978845608028654f * (v + 0.044715f * v * v * v))); });
  }
  // x·σ(x) with sigmoid's own σ (e^−x on min(88, −x)), so that the fused
  // Mul(x, Sigmoid(x)) keeps its values, except x < −88: 0 there (the true
  // value is below 5e-37; σ's clamp would give x·6e-39, and −∞·σ = −∞).
  static void silu(const float* x, float* y, size_t n) {
    map(
        x, y, n,
        [](B v) {
          const B s = v * (B(1.f) / (B(1.f) + xsimd::exp(xsimd::min(B(88.f), -v))));
          return xsimd::select(v < B(-88.f), B(0.f), s);
        },
        [](float v) { return v < -88.f ? 0.f : v * (1.f / (1.f + std::exp(std::min(-v, 88.f)))); });
  }
  // x·max(0, min(1, x/6 + ½)); NaN stays NaN (x86 min/max return their second operand on NaN).
  static void hard_swish(const float* x, float* y, size_t n) {
    map(
        x, y, n, [](B v) { return v * xsimd::max(B(0.f), xsimd::min(B(1.f), v / B(6.f) + B(0.5f))); },
        [](float v) { return v * std::max(0.f, std::min(1.f, v / 6.f + 0.5f)); });
  }
  static void relu(const float* x, float* y, size_t n) {
    map(
        x, y, n, [](B v) { return xsimd::max(v, B(0.f)); }, [](float v) { return v > 0.f ? v : 0.f; });
  }

  // The max of v's lanes as a pairwise tree (depth log2 W, not a chain of W
  // dependent scalar operations: a softmax row of 128 is latency-bound; the sum's
  // tree is xsimd::hadd).
  static float lanes_max(const B& v) {
#if defined(__AVX512F__)
    if constexpr (W == 16) return _mm512_reduce_max_ps(v);
#endif
#if defined(__AVX__)
    if constexpr (W == 8) {
      const __m128 h = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
      const __m128 q = _mm_max_ps(h, _mm_movehl_ps(h, h));
      return _mm_cvtss_f32(_mm_max_ss(q, _mm_shuffle_ps(q, q, 1)));
    }
#endif
    alignas(64) float l[W];
    v.store_aligned(l);
    for (size_t w = W / 2; w >= 1; w /= 2)
      for (size_t k = 0; k < w; ++k) l[k] = std::max(l[k], l[k + w]);
    return l[0];
  }
  static float row_max(const float* x, size_t n) {
    float m = -INFINITY;
    size_t i = 0;
    if (n >= W) {
      B vm = B::load_unaligned(x);
      for (i = W; i + W <= n; i += W) vm = xsimd::max(vm, B::load_unaligned(x + i));
      m = lanes_max(vm);
    }
    for (; i < n; ++i) m = std::max(m, x[i]);
    return m;
  }

  // y = exp(x − m); returns Σ y (two fp32 vector sums, their lanes added pairwise, the tail in fp64).
  static double exp_sum(const float* x, float* y, size_t n, float m) {
    const B vm(m);
    B s0(0.f), s1(0.f);
    size_t i = 0;
    for (; i + 2 * W <= n; i += 2 * W) {
      const B e0 = xsimd::exp(B::load_unaligned(x + i) - vm), e1 = xsimd::exp(B::load_unaligned(x + i + W) - vm);
      e0.store_unaligned(y + i);
      e1.store_unaligned(y + i + W);
      s0 += e0;
      s1 += e1;
    }
    for (; i + W <= n; i += W) {
      const B e = xsimd::exp(B::load_unaligned(x + i) - vm);
      e.store_unaligned(y + i);
      s0 += e;
    }
    double sum = xsimd::hadd(s0 + s1);
    for (; i < n; ++i) {
      y[i] = std::exp(x[i] - m);
      sum += y[i];
    }
    return sum;
  }

  static void softmax_row(const float* x, float* y, size_t n) {
    if (n == 0) return;
    const float m = row_max(x, n);
    const float inv = static_cast<float>(1.0 / exp_sum(x, y, n, m));
    const B vi(inv);
    size_t i = 0;
    for (; i + W <= n; i += W) (B::load_unaligned(y + i) * vi).store_unaligned(y + i);
    for (; i < n; ++i) y[i] *= inv;
  }

  static void softmax_scaled_row(float* x, const float* add, float scale, size_t n) {
    if (n == 0) return;
    const B vs(scale);
    B vm(-INFINITY);
    size_t i = 0;
    for (; i + W <= n; i += W) {
      B v = B::load_unaligned(x + i) * vs;
      if (add) v += B::load_unaligned(add + i);
      v.store_unaligned(x + i);
      vm = xsimd::max(vm, v);
    }
    float m = n >= W ? lanes_max(vm) : -INFINITY;
    for (; i < n; ++i) {
      x[i] = x[i] * scale + (add ? add[i] : 0.f);
      m = std::max(m, x[i]);
    }
    const float inv = static_cast<float>(1.0 / exp_sum(x, x, n, m));
    const B vi(inv);
    for (i = 0; i + W <= n; i += W) (B::load_unaligned(x + i) * vi).store_unaligned(x + i);
    for (; i < n; ++i) x[i] *= inv;
  }

  static void log_softmax_row(const float* x, float* y, size_t n) {
    if (n == 0) return;
    const float m = row_max(x, n);
    const float shift = m + static_cast<float>(std::log(exp_sum(x, y, n, m)));
    const B vs(shift);
    size_t i = 0;
    for (; i + W <= n; i += W) (B::load_unaligned(x + i) - vs).store_unaligned(y + i);
    for (; i < n; ++i) y[i] = x[i] - shift;
  }

  static VectorMath table(const char* isa) {
    return VectorMath{isa,
                      &exp,
                      &erf,
                      &tanh,
                      &sigmoid,
                      &gelu,
                      &gelu_tanh,
                      &relu,
                      &silu,
                      &hard_swish,
                      &softmax_row,
                      &log_softmax_row,
                      &softmax_scaled_row};
  }
};

}  // namespace
}  // namespace normrt
