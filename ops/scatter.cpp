// The scatter family, for every dtype (reductions on the numeric ones):
//   ScatterElements (and the deprecated Scatter): y = data, then for each
//     element i of indices: y[i with i[axis] := indices[i]] ⊕= updates[i]
//   ScatterND: y = data, then for each index tuple j (indices[..., :k]):
//     y[indices[j], :] ⊕= updates[j, :] (a slice of data's last r − k dims)
// where ⊕ is the reduction: none (assign; the last duplicate wins), add, mul,
// max or min, applied in index order. One copy of data, then one pass over
// indices and updates. Negative indices count from the end; an index out of
// range is an error thrown at run time. Integer add/mul wrap (no UB).
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "dispatch.h"
#include "op.h"

namespace normrt {

namespace {

enum class Reduction { None, Add, Mul, Max, Min };

Reduction parse_reduction(PlanCtx& c) {
  const std::string r = c.node.attr_string("reduction", "none");
  if (r == "none") return Reduction::None;
  if (r == "add") return Reduction::Add;
  if (r == "mul") return Reduction::Mul;
  if (r == "max") return Reduction::Max;
  if (r == "min") return Reduction::Min;
  c.fail("reduction '" + r + "' is not none, add, mul, max or min");
}

void check_reduction_dtype(PlanCtx& c, Reduction red) {
  if (red != Reduction::None && c.input(0).dtype == DType::Float16)
    c.unsupported("reductions on float16 (float16 is a storage type)");
}

template <class T>
T combine(Reduction red, T a, T b) {
  if constexpr (std::is_same_v<T, bool>) {
    switch (red) {
      case Reduction::Add:
      case Reduction::Max:
        return a || b;
      case Reduction::Mul:
      case Reduction::Min:
        return a && b;
      default:
        return b;
    }
  } else if constexpr (std::is_integral_v<T>) {
    using U = std::make_unsigned_t<T>;
    switch (red) {
      case Reduction::Add:
        return static_cast<T>(static_cast<U>(static_cast<uint64_t>(static_cast<U>(a)) + static_cast<U>(b)));
      case Reduction::Mul:
        return static_cast<T>(static_cast<U>(static_cast<uint64_t>(static_cast<U>(a)) * static_cast<U>(b)));
      case Reduction::Max:
        return std::max(a, b);
      case Reduction::Min:
        return std::min(a, b);
      default:
        return b;
    }
  } else {
    switch (red) {
      case Reduction::Add:
        return a + b;
      case Reduction::Mul:
        return a * b;
      case Reduction::Max:
        return std::max(a, b);
      case Reduction::Min:
        return std::min(a, b);
      default:
        return b;
    }
  }
}

int64_t index_at(const Tensor& t, int64_t i) {
  return t.dtype() == DType::Int64 ? t.data<int64_t>()[i] : t.data<int32_t>()[i];
}

int64_t checked_index(int64_t v, int64_t n, const std::string& where) {
  if (v < -n || v >= n)
    throw Error(ErrorCode::InvalidArgument, where + ": index " + std::to_string(v) +
                                                " is out of range for a dimension of size " + std::to_string(n));
  return v < 0 ? v + n : v;
}

// y[dst[k]] ⊕= updates[k] for the element offsets dst (typed by the dtype).
void apply_updates(DType dt, Reduction red, const Tensor& updates, Tensor& Y, const std::vector<int64_t>& dst) {
  const size_t es = dtype_size(dt);
  if (red == Reduction::None) {
    const char* u = static_cast<const char*>(updates.raw());
    char* y = static_cast<char*>(Y.raw());
    for (size_t k = 0; k < dst.size(); ++k) std::memcpy(y + static_cast<size_t>(dst[k]) * es, u + k * es, es);
    return;
  }
  visit_numeric(dt, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, half_t>) {
      const T* u = updates.data<T>();
      T* y = Y.data<T>();
      for (size_t k = 0; k < dst.size(); ++k) y[dst[k]] = combine<T>(red, y[dst[k]], u[k]);
    }
  });
}

// ---- ScatterElements / Scatter ----------------------------------------------

void plan_scatter_elements(PlanCtx& c) {
  c.require_inputs(3, 3);
  c.require_dtype(1, {DType::Int64, DType::Int32});
  const Shape& data = c.input(0).shape;
  const Shape& ind = c.input(1).shape;
  if (c.input(2).dtype != c.input(0).dtype) c.fail("updates differ in dtype from data");
  if (c.input(2).shape != ind)
    c.fail("updates " + shape_str(c.input(2).shape) + " differ from indices " + shape_str(ind));
  const int64_t r = static_cast<int64_t>(data.size());
  if (r == 0) c.fail("data must have rank >= 1");
  if (static_cast<int64_t>(ind.size()) != r) c.fail("indices must have the rank of data");
  const size_t axis = static_cast<size_t>(normalize_axis(c, c.node.attr_int("axis", 0), r));
  for (size_t d = 0; d < data.size(); ++d)
    if (d != axis && ind[d] > data[d])
      c.fail("indices " + shape_str(ind) + " exceed data " + shape_str(data) + " in dim " + std::to_string(d));
  const Reduction red = c.node.op_type == "Scatter" ? Reduction::None : parse_reduction(c);
  check_reduction_dtype(c, red);
  const DType dt = c.input(0).dtype;
  c.set_output(0, dt, data);
  const std::string where = c.node.where();
  c.kernel = [=](KernelIO& io) {
    const Tensor& I = *io.in[1];
    Tensor& Y = *io.out[0];
    std::memcpy(Y.raw(), io.in[0]->raw(), Y.nbytes());
    std::vector<int64_t> dstride(data.size());
    for (size_t d = data.size(), s = 1; d-- > 0;) {
      dstride[d] = static_cast<int64_t>(s);
      s *= static_cast<size_t>(data[d]);
    }
    const int64_t n = I.numel();
    std::vector<int64_t> dst(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      int64_t rem = i, off = 0;
      for (size_t d = ind.size(); d-- > 0;) {
        const int64_t id = rem % ind[d];
        rem /= ind[d];
        off += (d == axis ? checked_index(index_at(I, i), data[axis], where) : id) * dstride[d];
      }
      dst[static_cast<size_t>(i)] = off;
    }
    apply_updates(dt, red, *io.in[2], Y, dst);
  };
}

// ---- ScatterND ----------------------------------------------------------------

void plan_scatter_nd(PlanCtx& c) {
  c.require_inputs(3, 3);
  c.require_dtype(1, {DType::Int64});
  const Shape& data = c.input(0).shape;
  const Shape& ind = c.input(1).shape;
  if (c.input(2).dtype != c.input(0).dtype) c.fail("updates differ in dtype from data");
  if (data.empty() || ind.empty()) c.fail("data and indices must have rank >= 1");
  const int64_t k = ind.back();
  if (k < 1 || k > static_cast<int64_t>(data.size()))
    c.fail("indices' last dim " + std::to_string(k) + " must be in [1, rank of data = " + std::to_string(data.size()) +
           "]");
  Shape expect(ind.begin(), ind.end() - 1);
  expect.insert(expect.end(), data.begin() + k, data.end());
  if (c.input(2).shape != expect)
    c.fail("updates " + shape_str(c.input(2).shape) + " must have shape " + shape_str(expect));
  const Reduction red = parse_reduction(c);
  check_reduction_dtype(c, red);
  const DType dt = c.input(0).dtype;
  c.set_output(0, dt, data);
  const std::string where = c.node.where();
  int64_t slice = 1, tuples = 1;
  for (size_t d = static_cast<size_t>(k); d < data.size(); ++d) slice = checked_mul(c, slice, data[d], "slice size");
  for (size_t d = 0; d + 1 < ind.size(); ++d) tuples = checked_mul(c, tuples, ind[d], "index count");
  checked_mul(c, tuples, slice, "updates' size");
  c.kernel = [=](KernelIO& io) {
    const int64_t* I = io.in[1]->data<int64_t>();
    Tensor& Y = *io.out[0];
    std::memcpy(Y.raw(), io.in[0]->raw(), Y.nbytes());
    std::vector<int64_t> dst(static_cast<size_t>(tuples * slice));
    for (int64_t j = 0; j < tuples; ++j) {
      int64_t off = 0;
      for (int64_t q = 0; q < k; ++q) {
        const int64_t dim = data[static_cast<size_t>(q)];
        off = off * dim + checked_index(I[j * k + q], dim, where);
      }
      for (int64_t e = 0; e < slice; ++e) dst[static_cast<size_t>(j * slice + e)] = off * slice + e;
    }
    apply_updates(dt, red, *io.in[2], Y, dst);
  };
}

}  // namespace

void register_scatter_ops(OpRegistry& r) {
  r.add("", "ScatterElements", {11, 13, 16, 18}, plan_scatter_elements);
  r.add("", "ScatterND", {11, 13, 16, 18}, plan_scatter_nd);
  r.add("", "Scatter", {9, 11}, plan_scatter_elements);  // deprecated: ScatterElements without reduction
}

}  // namespace normrt
