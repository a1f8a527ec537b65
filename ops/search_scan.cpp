// Searching and scanning along one axis, split into [outer, n, inner]:
//   ArgMax / ArgMin: int64 index of the first (or, select_last_index, last) extreme
//   TopK: the k largest (or smallest) values and their indices, sorted; ties
//         keep the lower index first, as the ONNX reference does
//   CumSum: running sum (exclusive, reverse variants); axis is an input
// One pass per (outer, inner) lane; lanes split over threads.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <type_traits>
#include <vector>

#include "dispatch.h"
#include "op.h"
#include "parallel.h"
#include "scratch.h"

namespace normrt {

namespace {

struct Lanes {
  int64_t outer = 1, n = 1, inner = 1;
};

// f(o, i, base) for each (outer o, inner i) lane, lanes split over threads;
// the lane's k-th element is at base + k·inner.
template <class F>
void for_each_lane(const Lanes& l, F&& f) {
  parallel_rows(l.outer * l.inner, l.n, [&](int64_t first, int64_t last) {
    for (int64_t lane = first; lane < last; ++lane) {
      const int64_t o = lane / l.inner, i = lane % l.inner;
      f(o, i, o * l.n * l.inner + i);
    }
  });
}

Lanes lanes(const Shape& s, size_t axis) {
  Lanes l;
  for (size_t d = 0; d < s.size(); ++d) {
    if (d < axis)
      l.outer *= s[d];
    else if (d == axis)
      l.n = s[d];
    else
      l.inner *= s[d];
  }
  return l;
}

template <class T>
constexpr bool is_value_type() {
  return !std::is_same_v<T, half_t> && !std::is_same_v<T, bool>;
}

template <bool is_max>
void plan_arg(PlanCtx& c) {
  c.require_inputs(1, 1);
  const Shape& s = c.input(0).shape;
  const int64_t r = static_cast<int64_t>(s.size());
  const size_t axis = static_cast<size_t>(normalize_axis(c, c.node.attr_int("axis", 0), std::max<int64_t>(r, 1)));
  const bool keepdims = c.node.attr_int("keepdims", 1) != 0;
  const bool last = c.node.attr_int("select_last_index", 0) != 0;
  if (r == 0 || s[axis] == 0) c.fail("cannot take an arg-extreme over an empty axis");
  Shape out = s;
  if (keepdims)
    out[axis] = 1;
  else
    out.erase(out.begin() + static_cast<std::ptrdiff_t>(axis));
  c.set_output(0, DType::Int64, out);
  const Lanes l = lanes(s, axis);
  const DType t = c.input(0).dtype;
  c.kernel = [=](KernelIO& io) {
    visit_numeric(t, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (is_value_type<T>()) {
        const T* x = io.in[0]->data<T>();
        int64_t* y = io.out[0]->data<int64_t>();
        for_each_lane(l, [&](int64_t o, int64_t i, int64_t base) {
          const T* p = x + base;
          int64_t best = 0;
          for (int64_t k = 1; k < l.n; ++k) {
            const T v = p[k * l.inner], b = p[best * l.inner];
            const bool better = is_max ? (last ? v >= b : v > b) : (last ? v <= b : v < b);
            if (better) best = k;
          }
          y[o * l.inner + i] = best;
        });
      }
    });
  };
}

void plan_topk(PlanCtx& c) {
  int64_t k;
  if (c.version >= 10) {
    c.require_inputs(2, 2);
    const std::vector<int64_t> kv = int_values(c, 1, "K");
    if (kv.size() != 1) c.fail("K must hold one value");
    k = kv[0];
  } else {
    c.require_inputs(1, 1);
    k = c.node.attr_int("k", -1);
  }
  const Shape& s = c.input(0).shape;
  const int64_t r = static_cast<int64_t>(s.size());
  const size_t axis = static_cast<size_t>(normalize_axis(c, c.node.attr_int("axis", -1), r));
  const bool largest = c.version < 11 || c.node.attr_int("largest", 1) != 0;
  if (k < 0 || k > s[axis])
    c.fail("K = " + std::to_string(k) + " is out of range for an axis of " + std::to_string(s[axis]));
  Shape out = s;
  out[axis] = k;
  c.set_output(0, c.input(0).dtype, out);
  c.set_output(1, DType::Int64, out);
  const Lanes l = lanes(s, axis);
  const DType t = c.input(0).dtype;
  c.kernel = [=](KernelIO& io) {
    visit_numeric(t, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (is_value_type<T>()) {
        const T* x = io.in[0]->data<T>();
        T* vals = io.out[0] ? io.out[0]->data<T>() : nullptr;
        int64_t* idx = io.out.size() > 1 && io.out[1] ? io.out[1]->data<int64_t>() : nullptr;
        for_each_lane(l, [&](int64_t o, int64_t i, int64_t base) {
          const T* p = x + base;
          Scratch<int64_t> order(static_cast<size_t>(l.n));
          int64_t* const ob = order.data();
          std::iota(ob, ob + l.n, int64_t{0});
          const auto before = [&](int64_t a, int64_t b) {
            const T va = p[a * l.inner], vb = p[b * l.inner];
            if (va != vb) return largest ? va > vb : va < vb;
            return a < b;
          };
          std::partial_sort(ob, ob + k, ob + l.n, before);
          for (int64_t j = 0; j < k; ++j) {
            const int64_t at = (o * k + j) * l.inner + i;
            if (vals) vals[at] = p[ob[j] * l.inner];
            if (idx) idx[at] = ob[j];
          }
        });
      }
    });
  };
}

void plan_cumsum(PlanCtx& c) {
  c.require_inputs(2, 2);
  c.require_dtype(0, {DType::Float32, DType::Float64, DType::Int32, DType::Int64, DType::UInt32, DType::UInt64});
  const Shape s = c.input(0).shape;
  const std::vector<int64_t> av = int_values(c, 1, "axis");
  if (av.size() != 1) c.fail("axis must be a scalar");
  const size_t axis = static_cast<size_t>(normalize_axis(c, av[0], static_cast<int64_t>(s.size())));
  const bool exclusive = c.node.attr_int("exclusive", 0) != 0;
  const bool reverse = c.node.attr_int("reverse", 0) != 0;
  c.set_output(0, c.input(0).dtype, s);
  const Lanes l = lanes(s, axis);
  const DType t = c.input(0).dtype;
  c.kernel = [=](KernelIO& io) {
    visit_numeric(t, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (is_value_type<T>()) {
        const T* x = io.in[0]->data<T>();
        T* y = io.out[0]->data<T>();
        for_each_lane(l, [&](int64_t, int64_t, int64_t base) {
          T acc = T(0);
          for (int64_t j = 0; j < l.n; ++j) {
            const int64_t k = reverse ? l.n - 1 - j : j;
            const int64_t at = base + k * l.inner;
            const auto add = [](T a, T b) {
              if constexpr (std::is_integral_v<T>)  // wraps instead of signed-overflow UB
                return static_cast<T>(static_cast<std::make_unsigned_t<T>>(a) +
                                      static_cast<std::make_unsigned_t<T>>(b));
              else
                return static_cast<T>(a + b);
            };
            if (exclusive) {
              y[at] = acc;
              acc = add(acc, x[at]);
            } else {
              acc = add(acc, x[at]);
              y[at] = acc;
            }
          }
        });
      }
    });
  };
}

}  // namespace

void register_search_scan_ops(OpRegistry& r) {
  r.add("", "ArgMax", {1, 11, 12, 13}, plan_arg<true>);
  r.add("", "ArgMin", {1, 11, 12, 13}, plan_arg<false>);
  r.add("", "TopK", {1, 10, 11}, plan_topk);
  r.add("", "CumSum", {11, 14}, plan_cumsum);
}

}  // namespace normrt
