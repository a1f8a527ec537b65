// Reductions over any set of axes (as attribute, or as input from ReduceSum-13
// and the others' opset 18; keepdims; noop_with_empty_axes):
//   ReduceSum Σx   ReduceMean Σx/n   ReduceProd Πx   ReduceMax   ReduceMin
//   ReduceL1 Σ|x|   ReduceL2 √Σx²   ReduceSumSquare Σx²   ReduceLogSum log Σx
//   ReduceLogSumExp log Σ exp(x)  (max-shifted in a first pass)
// Floats accumulate in fp64, integers in 64-bit; an empty reduction gives the
// identity (0, 1, −inf/lowest for Max, +inf/max for Min).
// One pass over the input accumulating into the output, one over the output.
// Fast path (float32/float64): when the reduced axes are one contiguous block
// (size-1 axes aside), x is [A, R, B] reduced over R. B = 1 (trailing axes):
// each output reduces one contiguous run, in 8 fp64 lanes added pairwise at
// the end; B > 1 (leading or middle axes): blocks of outputs accumulate one
// input row at a time, vectorised across outputs. Outputs are split over
// threads; each is computed by one thread, so results do not depend on the
// thread count.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "dispatch.h"
#include "op.h"
#include "parallel.h"
#include "reduced_walk.h"

namespace normrt {

namespace {

enum class Red { Sum, Mean, Prod, Max, Min, L1, L2, SumSquare, LogSum, LogSumExp };

template <class T>
void reduce(const Tensor& X, Tensor& Y, const std::vector<char>& reduced, Red kind) {
  // Integers accumulate in uint64 (wrapping like numpy's int64, no signed-overflow UB).
  using Acc = std::conditional_t<std::is_floating_point_v<T>, double, uint64_t>;
  const int64_t out_n = Y.numel();
  const T* x = X.data<T>();
  T* y = Y.data<T>();
  const int64_t n = X.numel();
  const int64_t count = out_n ? n / out_n : 0;
  if (kind == Red::Max || kind == Red::Min) {
    const bool is_max = kind == Red::Max;
    T init;
    if constexpr (std::is_floating_point_v<T>)
      init = is_max ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity();
    else
      init = is_max ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max();
    std::fill(y, y + out_n, init);
    for_each_reduced(X.shape(), reduced, [&](int64_t k, int64_t o) {
      const T v = x[k];
      if constexpr (std::is_floating_point_v<T>)
        if (std::isnan(v)) {
          y[o] = v;
          return;
        }
      if (is_max ? v > y[o] : v < y[o]) y[o] = v;
    });
    return;
  }
  std::vector<Acc> acc(static_cast<size_t>(out_n), kind == Red::Prod ? Acc(1) : Acc(0));
  std::vector<double> shift;
  if (kind == Red::LogSumExp) {
    shift.assign(static_cast<size_t>(out_n), -std::numeric_limits<double>::infinity());
    for_each_reduced(X.shape(), reduced,
                     [&](int64_t k, int64_t o) { shift[o] = std::max(shift[o], static_cast<double>(x[k])); });
    for (double& v : shift)
      if (!std::isfinite(v)) v = 0;
  }
  for_each_reduced(X.shape(), reduced, [&](int64_t k, int64_t o) {
    const Acc v = static_cast<Acc>(static_cast<std::conditional_t<std::is_floating_point_v<T>, double, int64_t>>(x[k]));
    Acc& a = acc[static_cast<size_t>(o)];
    switch (kind) {
      case Red::Prod:
        a *= v;
        break;
      case Red::L1:
        if constexpr (std::is_floating_point_v<Acc>)
          a += std::fabs(v);
        else if constexpr (std::is_signed_v<T>)
          a += static_cast<int64_t>(x[k]) < 0 ? Acc(0) - v : v;  // |v| modulo 2^64, as numpy's int64
        else
          a += v;
        break;
      case Red::L2:
      case Red::SumSquare:
        a += v * v;
        break;
      case Red::LogSumExp:
        if constexpr (std::is_floating_point_v<Acc>) a += std::exp(v - shift[o]);
        break;
      default:
        a += v;
    }
  });
  for (int64_t i = 0; i < out_n; ++i) {
    const Acc v = acc[static_cast<size_t>(i)];
    double d;
    if constexpr (std::is_floating_point_v<Acc>)
      d = v;
    else
      d = std::is_signed_v<T> ? static_cast<double>(static_cast<int64_t>(v)) : static_cast<double>(v);
    switch (kind) {
      case Red::Mean:
        if constexpr (std::is_floating_point_v<T>)
          d = d / static_cast<double>(count);
        else if (count)
          d = static_cast<double>(static_cast<int64_t>(v)) / static_cast<double>(count);
        break;
      case Red::L2:
        d = std::sqrt(d);
        break;
      case Red::LogSum:
        d = std::log(d);
        break;
      case Red::LogSumExp:
        d = std::log(d) + shift[static_cast<size_t>(i)];
        break;
      default:
        if constexpr (!std::is_floating_point_v<T>) {
          y[i] = static_cast<T>(v);  // exact integer result
          continue;
        }
    }
    if constexpr (std::is_floating_point_v<T>) {
      y[i] = static_cast<T>(d);
    } else {  // log(0) = −inf, NaN and out-of-range results have no integer value: saturate, NaN → 0
      if (!(d == d))
        y[i] = T(0);
      else if (d <= static_cast<double>(std::numeric_limits<T>::lowest()))
        y[i] = std::numeric_limits<T>::lowest();
      else if (d >= static_cast<double>(std::numeric_limits<T>::max()))
        y[i] = std::numeric_limits<T>::max();
      else
        y[i] = static_cast<T>(d);
    }
  }
}

// The fp64 result of an output's accumulator (sum, product or max-shifted
// sum of exponentials) for the kinds that finish it.
template <Red kind>
double finish(double acc, int64_t count, double shift) {
  switch (kind) {
    case Red::Mean:
      return acc / static_cast<double>(count);
    case Red::L2:
      return std::sqrt(acc);
    case Red::LogSum:
      return std::log(acc);
    case Red::LogSumExp:
      return std::log(acc) + shift;
    default:
      return acc;
  }
}

// One element's contribution to an fp64 accumulator.
template <Red kind>
double term(double v, double shift) {
  switch (kind) {
    case Red::L1:
      return std::fabs(v);
    case Red::L2:
    case Red::SumSquare:
      return v * v;
    case Red::LogSumExp:
      return std::exp(v - shift);
    default:
      return v;
  }
}

template <Red kind>
void accumulate(double& a, double t) {
  if constexpr (kind == Red::Prod)
    a *= t;
  else
    a += t;
}

// Max (or Min) that propagates NaN: a NaN v is taken, and a NaN m stays.
template <bool is_max, class T>
T pick(T m, T v) {
  const bool take = (is_max ? v > m : v < m) | (v != v);  // no short circuit: a vector blend
  return take ? v : m;
}

// The shift of LogSumExp: the largest element, 0 when it is not finite.
inline double lse_shift(double m) { return std::isfinite(m) ? m : 0.0; }

constexpr int kLanes = 8;

// Max or min of p[0..R) (R >= 1), in kLanes lanes.
template <bool is_max, class T>
[[gnu::always_inline]] inline T run_extreme(const T* p, int64_t R) {
  const T init = is_max ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity();
  T m[kLanes];
  for (int j = 0; j < kLanes; ++j) m[j] = init;
  int64_t i = 0;
  for (; i + kLanes <= R; i += kLanes) {
    const T* q = p + i;
#pragma GCC unroll 1  // kept a loop: GCC vectorises it (not the 8 unrolled lanes)
    for (int j = 0; j < kLanes; ++j) m[j] = pick<is_max>(m[j], q[j]);
  }
  T r = init;
  for (; i < R; ++i) r = pick<is_max>(r, p[i]);
  for (int j = 0; j < kLanes; ++j) r = pick<is_max>(r, m[j]);
  return r;
}

// The fp64 accumulator of p[0..R): kLanes lanes, added (or multiplied) pairwise.
template <Red kind, class T>
[[gnu::always_inline]] inline double run_accumulate(const T* p, int64_t R, double shift) {
  const double init = kind == Red::Prod ? 1.0 : 0.0;
  double a[kLanes];
  for (int j = 0; j < kLanes; ++j) a[j] = init;
  int64_t i = 0;
  for (; i + kLanes <= R; i += kLanes)
    for (int j = 0; j < kLanes; ++j) accumulate<kind>(a[j], term<kind>(static_cast<double>(p[i + j]), shift));
  double tail = init;
  for (; i < R; ++i) accumulate<kind>(tail, term<kind>(static_cast<double>(p[i]), shift));
  for (int w = kLanes / 2; w > 0; w /= 2)
    for (int j = 0; j < w; ++j) accumulate<kind>(a[j], a[j + w]);
  accumulate<kind>(a[0], tail);
  return a[0];
}

// y[a] = reduce(x[a·R .. a·R + R)) for a in [0, A): contiguous runs.
template <Red kind, class T>
void reduce_runs(const T* x, T* y, int64_t A, int64_t R) {
  parallel_rows(A, R, [&](int64_t first, int64_t last) {
    for (int64_t a = first; a < last; ++a) {
      const T* p = x + a * R;
      if constexpr (kind == Red::Max || kind == Red::Min) {
        y[a] = run_extreme<kind == Red::Max>(p, R);
      } else {
        const double shift = kind == Red::LogSumExp ? lse_shift(static_cast<double>(run_extreme<true>(p, R))) : 0.0;
        y[a] = static_cast<T>(finish<kind>(run_accumulate<kind>(p, R, shift), R, shift));
      }
    }
  });
}

constexpr int64_t kColumnBlock = 256;  // outputs accumulated together (fp64 on the stack)

// y[a·B + b] = reduce over r of x[(a·R + r)·B + b]: strided columns, each task
// a block of up to kColumnBlock outputs of one a, rows added in order.
template <Red kind, class T>
void reduce_columns(const T* x, T* y, int64_t A, int64_t R, int64_t B) {
  const int64_t blocks = (B + kColumnBlock - 1) / kColumnBlock;
  parallel_rows(A * blocks, R * std::min(B, kColumnBlock), [&](int64_t first, int64_t last) {
    double acc[kColumnBlock], shift[kColumnBlock];
    for (int64_t task = first; task < last; ++task) {
      const int64_t a = task / blocks, b0 = task % blocks * kColumnBlock, nb = std::min(kColumnBlock, B - b0);
      const T* base = x + a * R * B + b0;
      T* out = y + a * B + b0;
      constexpr bool extreme = kind == Red::Max || kind == Red::Min || kind == Red::LogSumExp;
      if constexpr (extreme) {
        constexpr bool is_max = kind != Red::Min;
        const T init = is_max ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity();
        T ext[kColumnBlock];
        for (int64_t j = 0; j < nb; ++j) ext[j] = init;
        for (int64_t r = 0; r < R; ++r) {
          const T* row = base + r * B;
          for (int64_t j = 0; j < nb; ++j) ext[j] = pick<is_max>(ext[j], row[j]);
        }
        if constexpr (kind != Red::LogSumExp) {
          for (int64_t j = 0; j < nb; ++j) out[j] = ext[j];
          continue;
        }
        for (int64_t j = 0; j < nb; ++j) shift[j] = lse_shift(static_cast<double>(ext[j]));
      }
      const double init = kind == Red::Prod ? 1.0 : 0.0;
      for (int64_t j = 0; j < nb; ++j) acc[j] = init;
      for (int64_t r = 0; r < R; ++r) {
        const T* row = base + r * B;
        if constexpr (kind == Red::LogSumExp) {
          for (int64_t j = 0; j < nb; ++j) acc[j] += std::exp(static_cast<double>(row[j]) - shift[j]);
        } else {
          for (int64_t j = 0; j < nb; ++j) accumulate<kind>(acc[j], term<kind>(static_cast<double>(row[j]), 0.0));
        }
      }
      for (int64_t j = 0; j < nb; ++j)
        out[j] = static_cast<T>(finish<kind>(acc[j], R, kind == Red::LogSumExp ? shift[j] : 0.0));
    }
  });
}

// x as [A, R, B] reduced over R, when the reduced axes (size-1 axes aside)
// are one contiguous block; false otherwise.
bool as_three_blocks(const Shape& in, const std::vector<char>& reduced, int64_t* A, int64_t* R, int64_t* B) {
  int stage = 0;  // 0: kept axes before the block, 1: in the block, 2: kept axes after it
  *A = *R = *B = 1;
  for (size_t d = 0; d < in.size(); ++d) {
    if (in[d] == 1) continue;
    if (reduced[d]) {
      if (stage == 2) return false;
      stage = 1;
      *R *= in[d];
    } else if (stage == 0) {
      *A *= in[d];
    } else {
      stage = 2;
      *B *= in[d];
    }
  }
  return true;
}

template <Red kind>
void plan_reduce(PlanCtx& c) {
  c.require_inputs(1, 2);
  c.require_dtype(0, {DType::Float32, DType::Float64, DType::Int32, DType::Int64, DType::UInt32, DType::UInt64,
                      DType::Int8, DType::UInt8});
  const ValueDesc& X = c.input(0);
  const int64_t r = static_cast<int64_t>(X.shape.size());
  const bool axes_as_input = c.version >= 18 || (kind == Red::Sum && c.version >= 13);
  std::vector<int64_t> axes;
  if (axes_as_input) {
    if (c.node.has_attr("axes")) c.fail("takes axes as an input at this opset, not as an attribute");
    if (c.has_input(1)) {
      const Tensor& a = c.constant_input(1);
      if (a.dtype() != DType::Int64) c.fail("axes must be int64");
      axes.assign(a.data<int64_t>(), a.data<int64_t>() + a.numel());
    }
  } else {
    if (c.num_inputs() > 1) c.fail("takes axes as an attribute at this opset");
    axes = c.node.attr_ints("axes");
  }
  const bool keepdims = c.node.attr_int("keepdims", 1) != 0;
  const bool noop_empty = c.node.attr_int("noop_with_empty_axes", 0) != 0;
  std::vector<char> reduced(static_cast<size_t>(r), axes.empty() && !noop_empty ? 1 : 0);
  for (int64_t a : axes) {
    if (a < -r || a >= r) c.fail("axis " + std::to_string(a) + " is out of range for rank " + std::to_string(r));
    reduced[static_cast<size_t>(a < 0 ? a + r : a)] = 1;
  }
  Shape out_keep, out;
  for (int64_t d = 0; d < r; ++d) {
    const int64_t dim = X.shape[static_cast<size_t>(d)];
    out_keep.push_back(reduced[static_cast<size_t>(d)] ? 1 : dim);
    if (!reduced[static_cast<size_t>(d)])
      out.push_back(dim);
    else if (keepdims)
      out.push_back(1);
  }
  c.set_output(0, X.dtype, out);
  const DType t = X.dtype;
  int64_t A, R, B;
  if ((t == DType::Float32 || t == DType::Float64) && as_three_blocks(X.shape, reduced, &A, &R, &B) && R > 0 && A > 0 &&
      B > 0) {
    c.detail = B == 1 ? "runs" : "columns";
    c.kernel = [=](KernelIO& io) {
      const auto run = [&](auto tag) {
        using T = decltype(tag);
        const T* x = io.in[0]->data<T>();
        T* y = io.out[0]->data<T>();
        if (B == 1)
          reduce_runs<kind>(x, y, A, R);
        else
          reduce_columns<kind>(x, y, A, R, B);
      };
      if (t == DType::Float32)
        run(float{});
      else
        run(double{});
    };
    return;
  }
  c.kernel = [=](KernelIO& io) {
    Tensor y = io.out[0]->reshaped(out_keep);
    visit_numeric(t, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (!std::is_same_v<T, bool> && !std::is_same_v<T, half_t>) reduce<T>(*io.in[0], y, reduced, kind);
    });
  };
}

}  // namespace

void register_reduce_ops(OpRegistry& r) {
  r.add("", "ReduceMean", {1, 11, 13, 18}, plan_reduce<Red::Mean>);
  r.add("", "ReduceSum", {1, 11, 13}, plan_reduce<Red::Sum>);
  r.add("", "ReduceProd", {1, 11, 13, 18}, plan_reduce<Red::Prod>);
  r.add("", "ReduceMax", {1, 11, 12, 13, 18, 20}, plan_reduce<Red::Max>);
  r.add("", "ReduceMin", {1, 11, 12, 13, 18, 20}, plan_reduce<Red::Min>);
  r.add("", "ReduceL1", {1, 11, 13, 18}, plan_reduce<Red::L1>);
  r.add("", "ReduceL2", {1, 11, 13, 18}, plan_reduce<Red::L2>);
  r.add("", "ReduceSumSquare", {1, 11, 13, 18}, plan_reduce<Red::SumSquare>);
  r.add("", "ReduceLogSum", {1, 11, 13, 18}, plan_reduce<Red::LogSum>);
  r.add("", "ReduceLogSumExp", {1, 11, 13, 18}, plan_reduce<Red::LogSumExp>);
}

}  // namespace normrt
