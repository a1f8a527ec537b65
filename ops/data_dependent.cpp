// Ops whose output shapes depend on input values: NonZero, Compress, Unique.
// With every input known when planning they fold to constants; otherwise
// their kernels allocate the outputs (PlanCtx::output_shapes_at_run_time),
// so a graph holding them runs node by node.
//   NonZero   one pass counting, one writing the [rank, nnz] coordinates
//   Compress  the kept slices along `axis` (or of the flattened input), copied
//   Unique    slices along `axis` (or elements) stably sorted by value
//             (lexicographic), equal neighbours grouped: Y, first-occurrence
//             indices, inverse indices, counts; unsorted keeps first-occurrence order
#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <numeric>

#include "op.h"

namespace normrt {

namespace {

using Compute = std::function<std::vector<Tensor>(const std::vector<const Tensor*>&)>;

// Folds when every input is known, else leaves the outputs to the kernel.
void finish(PlanCtx& c, Compute f, const std::vector<DType>& out_dtypes) {
  bool known = true;
  std::vector<const Tensor*> values;
  for (size_t i = 0; i < c.in.size(); ++i) {
    values.push_back(c.has_input(i) ? c.in[i].value : nullptr);
    known = known && (!c.has_input(i) || c.in[i].value);
  }
  if (known) {
    std::vector<Tensor> r = f(values);
    for (size_t k = 0; k < c.out.size(); ++k)
      if (c.has_output(k)) c.set_output_value(k, std::move(r[k]));
    return;
  }
  c.output_shapes_at_run_time();
  for (size_t k = 0; k < c.out.size(); ++k) c.out[k].dtype = out_dtypes.at(k);
  c.kernel = [f](KernelIO& io) {
    std::vector<Tensor> r = f(io.in);
    for (size_t k = 0; k < io.out.size(); ++k)
      if (io.out[k]) *io.out[k] = std::move(r[k]);
  };
}

// Calls fn(T*) with the element type of dt (bool as uint8, float16 as uint16 bits).
template <class F>
void with_type(DType dt, F&& fn) {
  switch (dt) {
    case DType::Float32:
      return fn(static_cast<float*>(nullptr));
    case DType::Float64:
      return fn(static_cast<double*>(nullptr));
    case DType::Int8:
      return fn(static_cast<int8_t*>(nullptr));
    case DType::Int16:
      return fn(static_cast<int16_t*>(nullptr));
    case DType::Int32:
      return fn(static_cast<int32_t*>(nullptr));
    case DType::Int64:
      return fn(static_cast<int64_t*>(nullptr));
    case DType::UInt8:
    case DType::Bool:
      return fn(static_cast<uint8_t*>(nullptr));
    case DType::UInt16:
      return fn(static_cast<uint16_t*>(nullptr));
    case DType::UInt32:
      return fn(static_cast<uint32_t*>(nullptr));
    case DType::UInt64:
      return fn(static_cast<uint64_t*>(nullptr));
    case DType::Float16:
      return fn(static_cast<float*>(nullptr));  // compared as float (converted first)
    default:
      throw Error(ErrorCode::UnsupportedOp, std::string("dtype ") + dtype_name(dt) + " is not supported here");
  }
}

// Float16 tensors are compared through a float32 copy.
Tensor comparable(const Tensor& t) {
  if (t.dtype() != DType::Float16) return t;
  Tensor f(DType::Float32, t.shape());
  for (int64_t i = 0; i < t.numel(); ++i) f.data<float>()[i] = half_to_float(t.data<uint16_t>()[i]);
  return f;
}

std::vector<Tensor> nonzero(const Tensor& x) {
  const Tensor v = comparable(x);
  std::vector<int64_t> hits;
  with_type(v.dtype(), [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T* p = v.data<T>();
    for (int64_t i = 0; i < v.numel(); ++i)
      if (p[i] != T(0)) hits.push_back(i);
  });
  const int64_t rank = x.rank(), n = static_cast<int64_t>(hits.size());
  Tensor y = Tensor::uninitialized(DType::Int64, {rank, n});
  int64_t* out = y.data<int64_t>();
  for (int64_t k = 0; k < n; ++k) {
    int64_t rest = hits[static_cast<size_t>(k)];
    for (int64_t d = rank - 1; d >= 0; --d) {
      out[d * n + k] = rest % x.dim(static_cast<int>(d));
      rest /= x.dim(static_cast<int>(d));
    }
  }
  return {std::move(y)};
}

void plan_nonzero(PlanCtx& c) {
  c.require_inputs(1, 1);
  with_type(c.input(0).dtype, [](auto*) {});
  finish(c, [](const std::vector<const Tensor*>& in) { return nonzero(*in[0]); }, {DType::Int64});
}

void plan_compress(PlanCtx& c) {
  c.require_inputs(2, 2);
  c.require_dtype(1, {DType::Bool});
  if (c.input(1).shape.size() != 1) c.fail("the condition must be 1-D, got " + shape_str(c.input(1).shape));
  const Shape xs = c.input(0).shape;
  const bool has_axis = c.node.has_attr("axis");
  const int64_t axis = has_axis ? normalize_axis(c, c.node.attr_int("axis", 0), static_cast<int64_t>(xs.size())) : 0;
  const DType dt = c.input(0).dtype;
  const std::string where = c.node.where();
  finish(c,
         [has_axis, axis, where](const std::vector<const Tensor*>& in) {
           const Tensor& x = *in[0];
           const Tensor& cond = *in[1];
           const Shape xs = has_axis ? x.shape() : Shape{x.numel()};
           int64_t outer = 1, inner = 1;
           for (int64_t d = 0; d < axis; ++d) outer *= xs[static_cast<size_t>(d)];
           for (size_t d = static_cast<size_t>(axis) + 1; d < xs.size(); ++d) inner *= xs[d];
           const int64_t n = xs[static_cast<size_t>(axis)];
           std::vector<int64_t> keep;
           for (int64_t i = 0; i < cond.numel(); ++i) {
             if (!cond.data<uint8_t>()[i]) continue;
             if (i >= n)
               throw Error(ErrorCode::InvalidArgument, where + ": the condition selects index " + std::to_string(i) +
                                                           " of an axis of size " + std::to_string(n));
             keep.push_back(i);
           }
           Shape ys = xs;
           ys[static_cast<size_t>(axis)] = static_cast<int64_t>(keep.size());
           Tensor y = Tensor::uninitialized(x.dtype(), ys);
           const size_t row = static_cast<size_t>(inner) * dtype_size(x.dtype());
           const char* src = static_cast<const char*>(x.raw());
           char* dst = static_cast<char*>(y.raw());
           for (int64_t o = 0; o < outer; ++o)
             for (int64_t i : keep) {
               std::memcpy(dst, src + static_cast<size_t>(o * n + i) * row, row);
               dst += row;
             }
           return std::vector<Tensor>{std::move(y)};
         },
         {dt});
}

// A strict weak order with NaN after every number (and NaNs equal).
template <class T>
bool value_less(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(a)) return false;
    if (std::isnan(b)) return true;
  }
  return a < b;
}

template <class T>
std::vector<Tensor> unique_typed(const Tensor& x, const Tensor& v, bool has_axis, int64_t axis, bool sorted) {
  const Shape xs = has_axis ? x.shape() : Shape{x.numel()};
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= xs[static_cast<size_t>(d)];
  for (size_t d = static_cast<size_t>(axis) + 1; d < xs.size(); ++d) inner *= xs[d];
  const int64_t n = xs[static_cast<size_t>(axis)];
  const T* p = v.data<T>();
  // Slice i's elements in order: (o, i, j) for o < outer, j < inner.
  auto less = [&](int64_t a, int64_t b) {
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < inner; ++j) {
        const T ea = p[(o * n + a) * inner + j], eb = p[(o * n + b) * inner + j];
        if (value_less(ea, eb)) return true;
        if (value_less(eb, ea)) return false;
      }
    return false;
  };
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), less);
  // Groups of equal slices: (first occurrence, count), in sorted order.
  std::vector<int64_t> group_of(static_cast<size_t>(n));
  std::vector<std::pair<int64_t, int64_t>> groups;
  for (size_t k = 0; k < order.size(); ++k) {
    if (k == 0 || less(order[k - 1], order[k])) groups.push_back({order[k], 0});
    groups.back().second++;
    group_of[static_cast<size_t>(order[k])] = static_cast<int64_t>(groups.size()) - 1;
  }
  std::vector<int64_t> rank(groups.size());  // group → output position
  std::iota(rank.begin(), rank.end(), 0);
  if (!sorted) {
    std::vector<int64_t> by_first(groups.size());
    std::iota(by_first.begin(), by_first.end(), 0);
    std::sort(by_first.begin(), by_first.end(), [&](int64_t a, int64_t b) {
      return groups[static_cast<size_t>(a)].first < groups[static_cast<size_t>(b)].first;
    });
    for (size_t k = 0; k < by_first.size(); ++k) rank[static_cast<size_t>(by_first[k])] = static_cast<int64_t>(k);
  }
  const int64_t u = static_cast<int64_t>(groups.size());
  Shape ys = xs;
  ys[static_cast<size_t>(axis)] = u;
  Tensor y = Tensor::uninitialized(x.dtype(), ys);
  Tensor indices = Tensor::uninitialized(DType::Int64, {u}), inverse = Tensor::uninitialized(DType::Int64, {n}),
         counts = Tensor::uninitialized(DType::Int64, {u});
  const size_t row = static_cast<size_t>(inner) * dtype_size(x.dtype());
  const char* src = static_cast<const char*>(x.raw());
  char* dst = static_cast<char*>(y.raw());
  for (size_t g = 0; g < groups.size(); ++g) {
    const int64_t r = rank[g], first = groups[g].first;
    indices.data<int64_t>()[r] = first;
    counts.data<int64_t>()[r] = groups[g].second;
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(dst + static_cast<size_t>(o * u + r) * row, src + static_cast<size_t>(o * n + first) * row, row);
  }
  for (int64_t i = 0; i < n; ++i)
    inverse.data<int64_t>()[i] = rank[static_cast<size_t>(group_of[static_cast<size_t>(i)])];
  return {std::move(y), std::move(indices), std::move(inverse), std::move(counts)};
}

void plan_unique(PlanCtx& c) {
  c.require_inputs(1, 1);
  const DType dt = c.input(0).dtype;
  with_type(dt, [](auto*) {});
  const bool has_axis = c.node.has_attr("axis");
  const int64_t rank = static_cast<int64_t>(c.input(0).shape.size());
  if (has_axis && rank == 0) c.fail("axis given for a scalar input");
  const int64_t axis = has_axis ? normalize_axis(c, c.node.attr_int("axis", 0), rank) : 0;
  const bool sorted = c.node.attr_int("sorted", 1) != 0;
  const std::string where = c.node.where();
  finish(c,
         [has_axis, axis, sorted, where](const std::vector<const Tensor*>& in) {
           // An empty input may still have an axis of 2^59 slices: the sort order and the
           // inverse indices hold 8 bytes per slice, refused before they are allocated.
           const int64_t slices = has_axis ? in[0]->dim(static_cast<int>(axis)) : in[0]->numel();
           if (static_cast<uint64_t>(slices) > max_tensor_bytes() / sizeof(int64_t))
             throw Error(ErrorCode::InvalidArgument, where + ": the inverse indices of " + std::to_string(slices) +
                                                         " slices exceed the limit of " +
                                                         std::to_string(max_tensor_bytes()) + " bytes per tensor");
           const Tensor v = comparable(*in[0]);
           std::vector<Tensor> r;
           with_type(v.dtype(), [&](auto* tag) {
             using T = std::remove_pointer_t<decltype(tag)>;
             r = unique_typed<T>(*in[0], v, has_axis, axis, sorted);
           });
           return r;
         },
         {dt, DType::Int64, DType::Int64, DType::Int64});
}

}  // namespace

void register_data_dependent_ops(OpRegistry& r) {
  r.add("", "NonZero", {9, 13}, plan_nonzero);
  r.add("", "Compress", {9, 11}, plan_compress);
  r.add("", "Unique", {11}, plan_unique);
}

}  // namespace normrt
