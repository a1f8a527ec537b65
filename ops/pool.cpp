// Pooling over 1..3 spatial dims of [N, C, spatial...]:
//   MaxPool:      y = max over the window (padding never wins); optional
//                 Indices output (flat index into X, row- or column-major)
//   AveragePool:  y = Σ window / count, count = positions inside X, or with
//                 count_include_pad inside the padded extent
//   GlobalAveragePool, GlobalMaxPool: over all spatial positions
// ceil_mode, auto_pad, strides, dilations. One pass over the window per
// output; channel planes split over threads. Float windows without dilation
// or Indices take pool_separable.cpp (rows, then columns); the window walk
// here is the reference and takes the rest.
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <type_traits>

#ifdef __SSE2__
#include <xmmintrin.h>
#endif

#include "dispatch.h"
#include "kernel_set.h"
#include "op.h"
#include "parallel.h"
#include "pool_separable.h"
#include "scratch.h"
#include "spatial.h"
#include "sse2_blocks.h"

namespace normrt {

namespace {

// ⌈a / b⌉ for b > 0 and any sign of a.
inline int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

// The kernel taps k in [lo, hi) of one axis whose position start + k·d lies in [from, to).
inline void tap_range(int64_t start, int64_t d, int64_t k, int64_t from, int64_t to, int64_t* lo, int64_t* hi) {
  if (d == 1) {  // the common case, without divisions
    *lo = std::max<int64_t>(0, from - start);
    *hi = std::max(*lo, std::min<int64_t>(k, to - start));
    return;
  }
  *lo = std::max<int64_t>(0, ceil_div(from - start, d));
  *hi = std::min<int64_t>(k, ceil_div(to - start, d));
  if (*hi < *lo) *hi = *lo;
}

// One channel plane. Per output, the taps inside X are found per axis first,
// so the inner loops carry no bounds checks.
template <class T, bool is_max>
void pool_plane(const T* x, T* y, int64_t* ind, int64_t plane_offset, const Window& w, bool include_pad,
                bool col_major) {
  int64_t lo[3], hi[3], s[3];
  for (int64_t o0 = 0; o0 < w.out[0]; ++o0) {
    s[0] = o0 * w.s[0] - w.pb[0];
    tap_range(s[0], w.d[0], w.k[0], 0, w.in[0], &lo[0], &hi[0]);
    for (int64_t o1 = 0; o1 < w.out[1]; ++o1) {
      s[1] = o1 * w.s[1] - w.pb[1];
      tap_range(s[1], w.d[1], w.k[1], 0, w.in[1], &lo[1], &hi[1]);
      for (int64_t o2 = 0; o2 < w.out[2]; ++o2) {
        s[2] = o2 * w.s[2] - w.pb[2];
        tap_range(s[2], w.d[2], w.k[2], 0, w.in[2], &lo[2], &hi[2]);
        const int64_t o = (o0 * w.out[1] + o1) * w.out[2] + o2;
        double sum = 0;
        T best = std::numeric_limits<T>::lowest();
        int64_t best_at = -1;
        for (int64_t k0 = lo[0]; k0 < hi[0]; ++k0) {
          const int64_t i0 = s[0] + k0 * w.d[0];
          for (int64_t k1 = lo[1]; k1 < hi[1]; ++k1) {
            const int64_t i1 = s[1] + k1 * w.d[1];
            const T* row = x + (i0 * w.in[1] + i1) * w.in[2];
            for (int64_t k2 = lo[2]; k2 < hi[2]; ++k2) {
              const int64_t i2 = s[2] + k2 * w.d[2];
              const T v = row[i2];
              if constexpr (is_max) {
                if (!ind) {  // branch-free: a data-dependent branch mispredicts half the time
                  best = v > best ? v : best;
                  best_at = 0;
                } else if (best_at < 0 || v > best) {
                  best = v;
                  best_at = col_major ? (i2 * w.in[1] + i1) * w.in[0] + i0 : (i0 * w.in[1] + i1) * w.in[2] + i2;
                }
              } else {
                sum += static_cast<double>(v);
              }
            }
          }
        }
        if constexpr (is_max) {
          y[o] = best;
          if (ind) ind[o] = best_at < 0 ? -1 : plane_offset + best_at;
        } else {
          int64_t count = 1;
          for (int a = 0; a < 3; ++a) {
            int64_t l = lo[a], h = hi[a];
            if (include_pad) tap_range(s[a], w.d[a], w.k[a], -w.pb[a], w.in[a] + w.pe[a], &l, &h);
            count *= h - l;
          }
          y[o] = static_cast<T>(count ? sum / static_cast<double>(count) : 0.0);
        }
      }
    }
  }
}

// d[i] = max(d[i], s[i·stride]) for i < n, ignoring NaN in s (v > d fails);
// float runs of stride 1 and 2 (ResNet's 3×3/2 pool) four lanes at a time.
template <class T>
void max_run(const T* s, int64_t stride, int64_t n, T* d) {
  int64_t i = 0;
#ifdef __SSE2__
  if constexpr (std::is_same_v<T, float>) {
    // _mm_max_ps(a, b) is a > b ? a : b: with a = s, NaN in s leaves d as it was.
    if (stride == 1) {
      for (; i + 4 <= n; i += 4) _mm_storeu_ps(d + i, _mm_max_ps(_mm_loadu_ps(s + i), _mm_loadu_ps(d + i)));
    } else if (stride == 2) {
      // s[2i], s[2i + 2], s[2i + 4], s[2i + 6]: reads stay below s[2(n − 1)]
      for (; i + 4 <= n; i += 4) _mm_storeu_ps(d + i, _mm_max_ps(load_stride2(s + 2 * i), _mm_loadu_ps(d + i)));
    }
  }
#endif
  for (; i < n; ++i) {
    const T v = s[i * stride];
    d[i] = v > d[i] ? v : d[i];
  }
}

// MaxPool without Indices, a row of outputs at a time, separably (a window's
// maximum is the maximum over its columns of the maximum down each column):
// m[i2] = max over the window's rows inside X of x[i0, i1, i2] (contiguous,
// vectorised), then y[o2] = max over the taps k2 inside X of m[o2·s2 + k2·d2 − pb2].
// Passes: k0·k1 reads of a row per output row, then k2 reads of m (in L1).
// The maximum ignores NaN (v > best fails) like the window-walking reference.
template <class T>
void max_pool_plane_rows(const T* x, T* y, const Window& w, T* m) {
  for (int64_t o0 = 0; o0 < w.out[0]; ++o0)
    for (int64_t o1 = 0; o1 < w.out[1]; ++o1) {
      std::fill(m, m + w.in[2], std::numeric_limits<T>::lowest());
      for_each_tap_row(w, o0, o1, [&](int64_t, int64_t, int64_t i0, int64_t i1) {
        max_run(x + (i0 * w.in[1] + i1) * w.in[2], 1, w.in[2], m);
      });
      T* yr = y + (o0 * w.out[1] + o1) * w.out[2];
      std::fill(yr, yr + w.out[2], std::numeric_limits<T>::lowest());
      for (int64_t k2 = 0; k2 < w.k[2]; ++k2) {
        // outputs o2 with 0 <= o2·s2 + base < in2
        const int64_t base = k2 * w.d[2] - w.pb[2];
        const int64_t lo = base >= 0 ? 0 : (-base + w.s[2] - 1) / w.s[2];
        const int64_t hi = std::min(w.out[2], w.in[2] - base <= 0 ? 0 : (w.in[2] - base + w.s[2] - 1) / w.s[2]);
        if (hi > lo) max_run(m + lo * w.s[2] + base, w.s[2], hi - lo, yr + lo);
      }
    }
}

#ifdef __SSE2__
// MaxPool 3×3, stride 2, padded by 1 before each axis (ResNet's stem pool) on a
// float plane: per output row, mc[i] = max down its (up to) three input rows
// for every column i, then y[j] = max(mc[2j − 1], mc[2j], mc[2j + 1]), four
// outputs from the even, odd and odd-one-over columns of two loads. m holds
// in2 + 4 floats: mc = m + 2, with lowest() at mc[−2], mc[−1], mc[in2], mc[in2 + 1].
// NaN is ignored like the window walk (x is _mm_max_ps's first operand).
// Passes: three reads of each input row (from cache), one write of y.
void max_pool_3x3s2_plane(const float* x, float* y, const Window& w, float* m) {
  const int64_t in1 = w.in[1], in2 = w.in[2], out1 = w.out[1], out2 = w.out[2];
  const float low = std::numeric_limits<float>::lowest();
  float* mc = m + 2;
  mc[-2] = mc[-1] = mc[in2] = mc[in2 + 1] = low;
  for (int64_t o = 0; o < out1; ++o) {
    const int64_t r0 = std::max<int64_t>(0, 2 * o - 1), r1 = std::min(in1, 2 * o + 2);
    int64_t i = 0;
    for (; i + 4 <= in2; i += 4) {
      __m128 a = _mm_set1_ps(low);
      for (int64_t r = r0; r < r1; ++r) a = _mm_max_ps(_mm_loadu_ps(x + r * in2 + i), a);
      _mm_storeu_ps(mc + i, a);
    }
    for (; i < in2; ++i) {
      float a = low;
      for (int64_t r = r0; r < r1; ++r) a = x[r * in2 + i] > a ? x[r * in2 + i] : a;
      mc[i] = a;
    }
    float* yr = y + o * out2;
    int64_t j = 0;
    for (; j + 4 <= out2 && 2 * j + 8 <= in2 + 2; j += 4) {
      __m128 even, odd, left_even, left;
      load_deinterleaved(mc + 2 * j, &even, &odd);            // mc[2j], mc[2j + 2], … and mc[2j + 1], …
      load_deinterleaved(mc + 2 * j - 2, &left_even, &left);  // mc[2j − 1], mc[2j + 1], …
      _mm_storeu_ps(yr + j, _mm_max_ps(_mm_max_ps(even, odd), left));
    }
    for (; j < out2; ++j) {
      const float a = mc[2 * j - 1], b = mc[2 * j], c = mc[2 * j + 1];
      const float ab = a > b ? a : b;
      yr[j] = ab > c ? ab : c;
    }
  }
}
#endif

template <bool is_max>
void plan_pool(PlanCtx& c) {
  c.require_inputs(1, 1);
  if (is_max)
    c.require_dtype(0, {DType::Float32, DType::Float64, DType::Int8, DType::UInt8});
  else
    c.require_dtype(0, {DType::Float32, DType::Float64});
  const Shape& X = c.input(0).shape;
  if (X.size() < 3) c.fail("X must be [N, C, spatial...]");
  const std::vector<int64_t> kernel = c.node.attr_ints("kernel_shape");
  if (kernel.empty()) c.fail("missing required attribute 'kernel_shape'");
  const bool ceil_mode = c.node.attr_int("ceil_mode", 0) != 0;
  const Window w = conv_window(c, Shape(X.begin() + 2, X.end()), kernel, ceil_mode);
  const bool include_pad = c.node.attr_int("count_include_pad", 0) != 0;
  const int64_t storage_order = c.node.attr_int("storage_order", 0);
  if (storage_order != 0 && storage_order != 1) c.fail("storage_order must be 0 or 1");
  Shape out{X[0], X[1]};
  for (int64_t v : w.out_dims()) out.push_back(v);
  const DType t = c.input(0).dtype;
  c.set_output(0, t, out);
  const bool indices = is_max && c.has_output(1);
  if (indices) c.set_output(1, DType::Int64, out);
  const int64_t planes = X[0] * X[1];
  // ResNet's stem pool: max_pool_3x3s2_plane, unless the separable steps run
  // 16 lanes (faster there; as fast with 8, slower with 4).
  const bool max_3x3s2 = is_max && !indices && w.is_3x3_stride2_pad1() && c.kernels->pool->lanes < 16;
  if (t == DType::Float32 && !indices && !max_3x3s2 && separable_pool_applies(w)) {
    const auto p = std::make_shared<const SeparablePool>(make_separable_pool(w, is_max, include_pad));
    const PoolKernels* K = c.kernels->pool;
    c.detail = p->flat ? "separable flat" : "separable rows";
    c.kernel = [=](KernelIO& io) {
      const float* x = io.in[0]->data<float>();
      float* y = io.out[0]->data<float>();
      parallel_rows(planes, p->w.out_size() * (p->w.k[1] + p->w.k[2]), [&](int64_t first, int64_t last) {
        Scratch<float> buffer(static_cast<size_t>(p->buffer_floats));
        separable_pool_planes(*p, *K, x, y, first, last, buffer.data());
      });
    };
    return;
  }
  c.kernel = [=](KernelIO& io) {
    visit_numeric(t, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, int8_t> ||
                    std::is_same_v<T, uint8_t>) {
        const T* x = io.in[0]->data<T>();
        T* y = io.out[0]->data<T>();
        int64_t* ind = indices ? io.out[1]->data<int64_t>() : nullptr;
        const int64_t isz = w.in_size(), osz = w.out_size();
        parallel_rows(planes, osz * w.k_size(), [&](int64_t first, int64_t last) {
          Scratch<T> column_max(is_max && !ind ? static_cast<size_t>(w.in[2] + 4) : 0);
          for (int64_t p = first; p < last; ++p) {
#ifdef __SSE2__
            if constexpr (std::is_same_v<T, float>) {
              if (max_3x3s2) {
                max_pool_3x3s2_plane(x + p * isz, y + p * osz, w, column_max.data());
                continue;
              }
            }
#endif
            if (is_max && !ind)
              max_pool_plane_rows<T>(x + p * isz, y + p * osz, w, column_max.data());
            else
              pool_plane<T, is_max>(x + p * isz, y + p * osz, ind ? ind + p * osz : nullptr, p * isz, w, include_pad,
                                    storage_order == 1);
          }
        });
      }
    });
  };
}

// Σ x[i], i < n: runs of up to 1024 floats summed in four float vectors (16
// lanes: a lane adds at most 64 values), each run's lanes added into a double.
inline double sum_floats(const float* x, int64_t n) {
  double total = 0;
  int64_t i = 0;
#ifdef __SSE2__
  while (i + 16 <= n) {
    const int64_t end = std::min(n, i + 1024);
    __m128 a0 = _mm_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (; i + 16 <= end; i += 16) {
      a0 = _mm_add_ps(a0, _mm_loadu_ps(x + i));
      a1 = _mm_add_ps(a1, _mm_loadu_ps(x + i + 4));
      a2 = _mm_add_ps(a2, _mm_loadu_ps(x + i + 8));
      a3 = _mm_add_ps(a3, _mm_loadu_ps(x + i + 12));
    }
    alignas(16) float lanes[16];
    _mm_store_ps(lanes, a0);
    _mm_store_ps(lanes + 4, a1);
    _mm_store_ps(lanes + 8, a2);
    _mm_store_ps(lanes + 12, a3);
    for (float v : lanes) total += v;
  }
#endif
  for (; i < n; ++i) total += x[i];
  return total;
}

template <bool is_max>
void plan_global_pool(PlanCtx& c) {
  c.require_inputs(1, 1);
  c.require_dtype(0, {DType::Float32, DType::Float64});
  const Shape& X = c.input(0).shape;
  if (X.size() < 3) c.fail("X must be [N, C, spatial...]");
  Shape out{X[0], X[1]};
  out.resize(X.size(), 1);
  const DType t = c.input(0).dtype;
  c.set_output(0, t, out);
  const int64_t planes = X[0] * X[1], plane = shape_numel(X) / std::max<int64_t>(planes, 1);
  // A multiply per plane, not a divide (an empty plane averages to NaN, 0/0, as before).
  const double inv_plane = plane > 0 ? 1.0 / static_cast<double>(plane) : std::nan("");
  c.kernel = [=](KernelIO& io) {
    const auto run = [&](auto* x, auto* y) {
      using T = std::remove_pointer_t<decltype(y)>;
      parallel_rows(planes, plane, [&](int64_t first, int64_t last) {
        for (int64_t p = first; p < last; ++p) {
          const T* xp = x + p * plane;
          if constexpr (is_max) {
            T m = plane ? xp[0] : T(0);
            for (int64_t i = 1; i < plane; ++i) m = std::max(m, xp[i]);
            y[p] = m;
          } else if constexpr (std::is_same_v<T, float>) {
            y[p] = static_cast<T>(sum_floats(xp, plane) * inv_plane);
          } else {
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            int64_t i = 0;
            for (; i + 4 <= plane; i += 4) {
              s0 += xp[i];
              s1 += xp[i + 1];
              s2 += xp[i + 2];
              s3 += xp[i + 3];
            }
            for (; i < plane; ++i) s0 += xp[i];
            y[p] = static_cast<T>(((s0 + s1) + (s2 + s3)) * inv_plane);
          }
        }
      });
    };
    if (t == DType::Float32)
      run(io.in[0]->data<float>(), io.out[0]->data<float>());
    else
      run(io.in[0]->data<double>(), io.out[0]->data<double>());
  };
}

}  // namespace

void register_pool_ops(OpRegistry& r) {
  r.add("", "MaxPool", {1, 8, 10, 11, 12, 22}, plan_pool<true>);
  r.add("", "AveragePool", {1, 7, 10, 11, 19, 22}, plan_pool<false>);
  r.add("", "GlobalAveragePool", {1, 22}, plan_global_pool<false>);
  r.add("", "GlobalMaxPool", {1, 22}, plan_global_pool<true>);
}

}  // namespace normrt
