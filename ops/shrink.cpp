// Shrink (every numeric dtype): y = x + bias if x < −lambd, x − bias if
// x > lambd, else 0. Computed in double and converted back (integers through
// int64, clamped to its range, so a result outside T wraps instead of being UB).
// One pass over memory.
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "dispatch.h"
#include "op.h"
#include "parallel.h"

namespace normrt {

namespace {

template <class T>
T from_double(double v) {
  if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(v);
  } else {
    if (std::isnan(v)) return T(0);
    const double r = std::clamp(v, -9.2e18, 9.2e18);
    return static_cast<T>(static_cast<uint64_t>(static_cast<int64_t>(r)));
  }
}

void plan_shrink(PlanCtx& c) {
  c.require_inputs(1, 1);
  c.require_dtype(0, {DType::Float32, DType::Float64, DType::Int8, DType::Int16, DType::Int32, DType::Int64,
                      DType::UInt8, DType::UInt16, DType::UInt32, DType::UInt64});
  const double lambd = c.node.attr_float("lambd", 0.5f), bias = c.node.attr_float("bias", 0.f);
  const DType t = c.input(0).dtype;
  c.set_output(0, t, c.input(0).shape);
  c.kernel = [t, lambd, bias](KernelIO& io) {
    visit_numeric(t, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (!std::is_same_v<T, bool> && !std::is_same_v<T, half_t>) {
        const T* x = io.in[0]->data<T>();
        T* y = io.out[0]->data<T>();
        parallel_rows(io.in[0]->numel(), 4, [&](int64_t s, int64_t e) {
          for (int64_t i = s; i < e; ++i) {
            const double v = static_cast<double>(x[i]);
            y[i] = v < -lambd ? from_double<T>(v + bias) : v > lambd ? from_double<T>(v - bias) : T(0);
          }
        });
      }
    });
  };
}

}  // namespace

void register_shrink_ops(OpRegistry& r) { r.add("", "Shrink", {9}, plan_shrink); }

}  // namespace normrt
