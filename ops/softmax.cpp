// Softmax, LogSoftmax, Hardmax over one axis, split into [outer, n, inner]:
//   softmax:    y = exp(x − max) / Σ exp(x − max)
//   logsoftmax: y = (x − max) − log Σ exp(x − max)
//   hardmax:    y = 1 at the first maximum, 0 elsewhere
// Opset 13+: the axis alone (default −1). Before 13: the input is coerced to
// 2-D at `axis` (default 1), i.e. the normalised "row" is all dims from axis on.
// Three passes over a row (max, exp-and-sum, scale); rows split over threads.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernel_set.h"
#include "norm_kernels.h"
#include "op.h"
#include "parallel.h"
#include "vector_math.h"

namespace normrt {

namespace {

enum class Kind { Softmax, LogSoftmax, Hardmax };

template <class T, Kind kind>
void softmax_rows(const T* x, T* y, int64_t n, int64_t inner, int64_t first, int64_t last) {
  std::vector<T> mx(static_cast<size_t>(inner)), sum(static_cast<size_t>(inner));
  for (int64_t o = first; o < last; ++o) {
    const T* xo = x + o * n * inner;
    T* yo = y + o * n * inner;
    std::fill(mx.begin(), mx.end(), -std::numeric_limits<T>::infinity());
    for (int64_t k = 0; k < n; ++k)
      for (int64_t i = 0; i < inner; ++i) mx[i] = std::max(mx[i], xo[k * inner + i]);
    if constexpr (kind == Kind::Hardmax) {
      std::vector<char> done(static_cast<size_t>(inner), 0);
      for (int64_t k = 0; k < n; ++k)
        for (int64_t i = 0; i < inner; ++i) {
          const bool hit = !done[i] && xo[k * inner + i] == mx[i];
          yo[k * inner + i] = hit ? T(1) : T(0);
          if (hit) done[i] = 1;
        }
      continue;
    }
    std::fill(sum.begin(), sum.end(), T(0));
    for (int64_t k = 0; k < n; ++k)
      for (int64_t i = 0; i < inner; ++i) {
        const T e = std::exp(xo[k * inner + i] - mx[i]);
        if constexpr (kind == Kind::Softmax) yo[k * inner + i] = e;
        sum[i] += e;
      }
    if constexpr (kind == Kind::Softmax) {
      for (int64_t i = 0; i < inner; ++i) sum[i] = T(1) / sum[i];
      for (int64_t k = 0; k < n; ++k)
        for (int64_t i = 0; i < inner; ++i) yo[k * inner + i] *= sum[i];
    } else {
      for (int64_t i = 0; i < inner; ++i) sum[i] = mx[i] + std::log(sum[i]);
      for (int64_t k = 0; k < n; ++k)
        for (int64_t i = 0; i < inner; ++i) yo[k * inner + i] = xo[k * inner + i] - sum[i];
    }
  }
}

template <Kind kind>
void plan_softmax(PlanCtx& c) {
  c.require_inputs(1, 1);
  c.require_dtype(0, {DType::Float32, DType::Float64});
  const Shape& s = c.input(0).shape;
  const int64_t r = static_cast<int64_t>(s.size());
  int64_t axis = c.node.attr_int("axis", c.version >= 13 ? -1 : 1);
  if (axis < -r || axis >= std::max<int64_t>(r, 1))
    c.fail("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(r));
  if (axis < 0) axis += r;
  int64_t outer = 1, n = 1, inner = 1;
  for (int64_t d = 0; d < r; ++d) {
    const int64_t v = s[static_cast<size_t>(d)];
    if (d < axis)
      outer *= v;
    else if (d == axis || c.version < 13)
      n *= v;
    else
      inner *= v;
  }
  const DType t = c.input(0).dtype;
  c.set_output(0, t, s);
  if (t == DType::Float32 && inner == 1 && kind != Kind::Hardmax) {  // contiguous rows: the vector path
    const VectorMath& vm = *c.kernels->math;
    const auto row = kind == Kind::Softmax ? vm.softmax_row : vm.log_softmax_row;
    c.kernel = [=](KernelIO& io) {
      const float* x = io.in[0]->data<float>();
      float* y = io.out[0]->data<float>();
      parallel_rows(outer, n * 3, [&](int64_t first, int64_t last) {
        for (int64_t o = first; o < last; ++o) row(x + o * n, y + o * n, static_cast<size_t>(n));
      });
    };
    return;
  }
  c.kernel = [=](KernelIO& io) {
    if (io.out[0]->numel() == 0) return;
    parallel_rows(outer, n * inner * 4, [&](int64_t first, int64_t last) {
      if (t == DType::Float32)
        softmax_rows<float, kind>(io.in[0]->data<float>(), io.out[0]->data<float>(), n, inner, first, last);
      else
        softmax_rows<double, kind>(io.in[0]->data<double>(), io.out[0]->data<double>(), n, inner, first, last);
    });
  };
}

}  // namespace

void register_softmax_ops(OpRegistry& r) {
  r.add("", "Softmax", {1, 11, 13}, plan_softmax<Kind::Softmax>);
  r.add("", "LogSoftmax", {1, 11, 13}, plan_softmax<Kind::LogSoftmax>);
  r.add("", "Hardmax", {1, 11, 13}, plan_softmax<Kind::Hardmax>);
}

}  // namespace normrt
