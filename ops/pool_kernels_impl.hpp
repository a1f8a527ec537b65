// The separable pooling steps of pool_kernels.h, written once over
// xsimd::batch<float, Arch> (the stride-2 column split and the masked tails:
// simd_lanes_impl.hpp). Included by one translation unit per ISA (anonymous namespace).
//
// A pool is op (max or +) over a window; separably, per output row,
//   m[c] = op over the window's rows r inside X of x[r, c]          (down)
//   y[j] = op over t < k2 of m[j·s2 − pb2 + t]                      (across)
//   average: y[j] ·= 1/count_row · 1/count_col
// with m padded by the identity. Every step runs whole vectors of W floats
// (4 sse2, 8 avx2, 16 avx512): a run of at least W ends with a vector that
// overlaps the one before (same inputs, same results: y never aliases its
// inputs), a shorter run loads and stores the first lanes only (masked on
// avx2 / avx512, through a small buffer on sse2): no scalar tails.
//   down2: the same down with the columns split into even and odd
//     (two permutes per 2·W columns, after the row op), so that the stride-2
//     across reads both at stride 1: y[j] = op over t of (t even: even[j + t/2],
//     odd: odd[j + (t − 1)/2]).
//   flat: a masked run over rows (or planes) laid end to end: tap t of the
//     lane at position u in its row (plane) counts when u + (t − pad)·S lies
//     inside it, u tracked per vector from a scalar base (no mask where the
//     tap's offset is 0). Where most vectors lie wholly inside (down over a
//     plane's rows), those skip the masks.
// Passes: down reads each input row k1 times per output row it serves (from
// cache) and writes m once (L1); across reads m k2 times (L1) and writes y once.
// The maximum is xsimd::max(v, acc) = v > acc ? v : acc (maxps' operand
// order): NaN in X never wins, as in the window walk; sums poison with NaN.
#pragma once
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <xsimd/xsimd.hpp>

#include "pool_kernels.h"
#include "simd_lanes_impl.hpp"

namespace normrt {
namespace {

template <class Arch, bool is_max>
struct PoolImpl {
  using B = xsimd::batch<float, Arch>;
  static constexpr int W = static_cast<int>(B::size);
  static_assert(W <= kPoolReadSlack, "a whole vector past a run's end");

  static constexpr float kIdentity = is_max ? std::numeric_limits<float>::lowest() : 0.f;
  static B identity() { return B(kIdentity); }
  static B op(const B& acc, const B& v) {
    if constexpr (is_max)
      return xsimd::max(v, acc);  // v > acc ? v : acc
    else
      return acc + v;
  }
  static float op(float acc, float v) {
    if constexpr (is_max)
      return v > acc ? v : acc;
    else
      return acc + v;
  }

  // The start of the vector covering outputs from i of a run of n ≥ W: the
  // last one overlaps the one before it.
  static int64_t at(int64_t i, int64_t n) { return std::min(i, n - W); }

  // down with the row count fixed (NT > 0: the row pointers in registers) or not (NT = 0).
  template <int NT>
  static void down_n(const float* const* src, int64_t n, float* dst, int64_t len) {
    const float* const* row = src;
    int64_t rows = n;
    const float* s[NT > 0 ? NT : 1];
    if constexpr (NT > 0) {
      for (int t = 0; t < NT; ++t) s[t] = src[t];
      row = s;
      rows = NT;
    }
    if (len < W) {
      B a = identity();
      for (int64_t t = 0; t < rows; ++t) a = op(a, load_lanes<B>(row[t], len));
      store_lanes<B>(a, dst, len);
      return;
    }
    for (int64_t i = 0; i < len; i += W) {
      const int64_t j = at(i, len);
      B a = identity();
      for (int64_t t = 0; t < rows; ++t) a = op(a, B::load_unaligned(row[t] + j));
      a.store_unaligned(dst + j);
    }
  }

  static void down(const float* const* src, int64_t n, float* dst, int64_t len) {
    if (len <= 0) return;
    switch (n) {
      case 1:
        return down_n<1>(src, n, dst, len);
      case 2:
        return down_n<2>(src, n, dst, len);
      case 3:
        return down_n<3>(src, n, dst, len);
      default:
        return down_n<0>(src, n, dst, len);
    }
  }

  static void down2(const float* const* src, int64_t n, float* even, float* odd, int64_t len) {
    const int64_t pairs = len / 2;
    B e, o;
    if (pairs >= W) {
      for (int64_t i = 0; i < pairs; i += W) {
        const int64_t j = at(i, pairs);
        B a = identity(), b = a;
        for (int64_t t = 0; t < n; ++t) {
          a = op(a, B::load_unaligned(src[t] + 2 * j));
          b = op(b, B::load_unaligned(src[t] + 2 * j + W));
        }
        split_even_odd(a, b, e, o);
        e.store_unaligned(even + j);
        o.store_unaligned(odd + j);
      }
    } else if (pairs > 0) {
      B a = identity(), b = a;
      for (int64_t t = 0; t < n; ++t) {
        a = op(a, load_lanes<B>(src[t], 2 * pairs));
        b = op(b, load_lanes<B>(src[t] + W, 2 * pairs - W));
      }
      split_even_odd(a, b, e, o);
      store_lanes<B>(e, even, pairs);
      store_lanes<B>(o, odd, pairs);
    }
    if (len % 2) {  // the last column is even
      float a = kIdentity;
      for (int64_t t = 0; t < n; ++t) a = op(a, src[t][len - 1]);
      even[pairs] = a;
    }
  }

  // y[j … j + W) = a (· row_inv · inv) for a run of n outputs (n < W: its first n lanes).
  static void finish(B a, float* y, int64_t j, int64_t n, const float* inv, const B& row_inv) {
    if constexpr (!is_max)
      if (inv) a = a * (row_inv * (n >= W ? B::load_unaligned(inv + j) : load_lanes<B>(inv, n)));
    if (n >= W)
      a.store_unaligned(y + j);
    else
      store_lanes<B>(a, y, n);
  }

  static void across(const float* m, int64_t k, float* y, int64_t n, const float* inv, float row_inv) {
    const B r(row_inv);
    if (k == 3) {  // the common window: taps in registers
      for (int64_t i = 0; i < n; i += W) {
        const int64_t j = n >= W ? at(i, n) : 0;
        const B a = op(op(op(identity(), B::load_unaligned(m + j)), B::load_unaligned(m + j + 1)),
                       B::load_unaligned(m + j + 2));
        finish(a, y, j, n, inv, r);
      }
      return;
    }
    for (int64_t i = 0; i < n; i += W) {
      const int64_t j = n >= W ? at(i, n) : 0;
      B a = identity();
      for (int64_t t = 0; t < k; ++t) a = op(a, B::load_unaligned(m + j + t));
      finish(a, y, j, n, inv, r);
    }
  }

  static void across2(const float* even, const float* odd, int64_t k, float* y, int64_t n, const float* inv,
                      float row_inv) {
    const B r(row_inv);
    for (int64_t i = 0; i < n; i += W) {
      const int64_t j = n >= W ? at(i, n) : 0;
      B a = identity();
      for (int64_t t = 0; t < k; ++t) a = op(a, B::load_unaligned((t % 2 ? odd : even) + j + t / 2));
      finish(a, y, j, n, inv, r);
    }
  }

  // flat with the tap count fixed (KT > 0: offsets and bounds in registers) or not (KT = 0).
  // Branch-free but for the choice between whole-inside and masked vectors,
  // made only when most vectors are whole-inside (a plane's rows: the choice
  // changes twice a plane); rows of a few vectors all go masked.
  template <int KT>
  static void flat_k(const float* src, int64_t P, int64_t S, int64_t k, int64_t pad, int64_t p0, float* y, int64_t n,
                     const float* inv) {
    alignas(64) static const float kLanes[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    const B lanes = B::load_aligned(kLanes), period(static_cast<float>(P)), one(1.f);
    const int64_t taps = KT > 0 ? KT : k;
    const auto off = [&](int64_t t) { return (t - pad) * S; };
    // A tap at offset o < 0 counts for positions u ≥ −o, one at o > 0 for u < P − o.
    const auto bound = [&](int64_t o) { return B(static_cast<float>(o < 0 ? -o : P - o)); };
    // Positions whose taps all lie inside their row / plane: [lo, hi).
    const int64_t lo = pad * S, hi = P - (taps - 1 - pad) * S;
    const bool whole = (hi - lo - W) * 8 >= P * 7;
    // Subtractions of P that wrap every lane into [0, P) (the most, over base < P).
    const int64_t wraps = (P + W - 2) / P, step = W % P;
    // The vector at j (lane 0 at position base); part: the first n < W lanes only.
    const auto vec = [&](int64_t j, int64_t base, bool part) {
      B a = identity();  // (not the first tap: a NaN there would stick)
      if (whole && !part && base >= lo && base + W <= hi) {
        for (int64_t t = 0; t < taps; ++t) a = op(a, B::load_unaligned(src + j + off(t)));
        return a;
      }
      B u = lanes + B(static_cast<float>(base));  // each lane's position, wrapped into [0, P)
      for (int64_t w = 0; w < wraps; ++w) u = xsimd::select(u >= period, u - period, u);
      for (int64_t t = 0; t < taps; ++t) {
        const int64_t o = off(t);
        const B v = part ? load_lanes<B>(src + o, n) : B::load_unaligned(src + j + o);
        if (o == 0) {
          a = op(a, v);
          continue;
        }
        const auto inside = o < 0 ? u >= bound(o) : u < bound(o);
        if constexpr (is_max)
          a = xsimd::select(inside, op(a, v), a);
        else
          a = a + xsimd::select(inside, v, B(0.f));
      }
      return a;
    };
    if (n < W) {
      finish(vec(0, p0, true), y, 0, n, inv, one);
      return;
    }
    int64_t base = p0, j = 0;  // base = (p0 + j) mod P
    for (; j + W <= n; j += W) {
      finish(vec(j, base, false), y, j, n, inv, one);
      base += step;
      base -= base >= P ? P : 0;
    }
    if (j < n) finish(vec(n - W, (p0 + n - W) % P, false), y, n - W, n, inv, one);  // overlapping the one before
  }

  static void flat(const float* src, int64_t P, int64_t S, int64_t k, int64_t pad, int64_t p0, float* y, int64_t n,
                   const float* inv) {
    switch (k) {
      case 2:
        return flat_k<2>(src, P, S, k, pad, p0, y, n, inv);
      case 3:
        return flat_k<3>(src, P, S, k, pad, p0, y, n, inv);
      default:
        return flat_k<0>(src, P, S, k, pad, p0, y, n, inv);
    }
  }

  static PoolSteps steps() { return PoolSteps{&down, &down2, &across, &across2, &flat}; }
};

template <class Arch>
PoolKernels pool_table(const char* isa) {
  return PoolKernels{isa, static_cast<int>(xsimd::batch<float, Arch>::size), PoolImpl<Arch, true>::steps(),
                     PoolImpl<Arch, false>::steps()};
}

}  // namespace
}  // namespace normrt
