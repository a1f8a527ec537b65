// Pooling over 1..3 spatial dims of [N, C, spatial...]:
//   MaxPool:      y = max over the window (padding never wins); optional
//                 Indices output (flat index into X, row- or column-major)
//   AveragePool:  y = Σ window / count, count = positions inside X, or with
//                 count_include_pad inside the padded extent
//   GlobalAveragePool, GlobalMaxPool: over all spatial positions
// ceil_mode, auto_pad, strides, dilations. One pass over the window per
// output; channel planes split over threads.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "dispatch.h"
#include "op.h"
#include "parallel.h"
#include "spatial.h"

namespace normrt {

namespace {

template <class T, bool is_max>
void pool_plane(const T* x, T* y, int64_t* ind, int64_t plane_offset, const Window& w, bool include_pad,
                bool col_major) {
  for (int64_t o0 = 0; o0 < w.out[0]; ++o0)
    for (int64_t o1 = 0; o1 < w.out[1]; ++o1)
      for (int64_t o2 = 0; o2 < w.out[2]; ++o2) {
        const int64_t s0 = o0 * w.s[0] - w.pb[0], s1 = o1 * w.s[1] - w.pb[1], s2 = o2 * w.s[2] - w.pb[2];
        double sum = 0;
        T best = std::numeric_limits<T>::lowest();
        int64_t best_at = -1, count = 0;
        for (int64_t k0 = 0; k0 < w.k[0]; ++k0) {
          const int64_t i0 = s0 + k0 * w.d[0];
          for (int64_t k1 = 0; k1 < w.k[1]; ++k1) {
            const int64_t i1 = s1 + k1 * w.d[1];
            for (int64_t k2 = 0; k2 < w.k[2]; ++k2) {
              const int64_t i2 = s2 + k2 * w.d[2];
              const bool inside = i0 >= 0 && i0 < w.in[0] && i1 >= 0 && i1 < w.in[1] && i2 >= 0 && i2 < w.in[2];
              if (!inside) {
                if (include_pad && i0 >= -w.pb[0] && i0 < w.in[0] + w.pe[0] && i1 >= -w.pb[1] &&
                    i1 < w.in[1] + w.pe[1] && i2 >= -w.pb[2] && i2 < w.in[2] + w.pe[2])
                  ++count;
                continue;
              }
              const int64_t at = (i0 * w.in[1] + i1) * w.in[2] + i2;
              const T v = x[at];
              if constexpr (is_max) {
                if (best_at < 0 || v > best) {
                  best = v;
                  best_at = col_major ? (i2 * w.in[1] + i1) * w.in[0] + i0 : at;
                }
              } else {
                sum += static_cast<double>(v);
                ++count;
              }
            }
          }
        }
        const int64_t o = (o0 * w.out[1] + o1) * w.out[2] + o2;
        if constexpr (is_max) {
          y[o] = best;
          if (ind) ind[o] = best_at < 0 ? -1 : plane_offset + best_at;
        } else {
          y[o] = static_cast<T>(count ? sum / static_cast<double>(count) : 0.0);
        }
      }
}

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
          for (int64_t p = first; p < last; ++p)
            pool_plane<T, is_max>(x + p * isz, y + p * osz, ind ? ind + p * osz : nullptr, p * isz, w, include_pad,
                                  storage_order == 1);
        });
      }
    });
  };
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
            y[p] = static_cast<T>(((s0 + s1) + (s2 + s3)) / static_cast<double>(plane));
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
