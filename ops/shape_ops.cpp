// Shape and data-movement ops, for every dtype: Constant, Shape, Size, Cast,
// CastLike, Reshape, Flatten, Slice, Concat, ConstantOfShape, Squeeze, Unsqueeze
// (Cast to and from strings: string_cast.cpp).
// Reshape/Flatten/Squeeze/Unsqueeze share the input buffer (no copy); Shape,
// Size and Constant are answered at planning time.
#include <cstring>
#include <limits>

#include "dispatch.h"
#include "op.h"
#include "string_ops.h"

namespace normrt {

namespace {

Tensor int64_vector(const std::vector<int64_t>& v) {
  Tensor t = Tensor::uninitialized(DType::Int64, {static_cast<int64_t>(v.size())});
  if (!v.empty()) std::memcpy(t.raw(), v.data(), v.size() * sizeof(int64_t));
  return t;
}

void alias_kernel(PlanCtx& c, Shape shape) {
  c.set_output(0, c.input(0).dtype, shape);
  c.outputs_alias_inputs = true;
  c.kernel = [shape](KernelIO& io) { io.out[0]->assign_view(*io.in[0], shape); };
}

void plan_constant(PlanCtx& c) {
  c.require_inputs(0, 0);
  if (c.node.attrs.size() != 1) c.fail("must have exactly one value attribute");
  const auto& [key, a] = *c.node.attrs.begin();
  if (key == "value" && a.kind == Attribute::Kind::Tensor) return c.set_output_value(0, a.t);
  if (key == "value_float" && a.kind == Attribute::Kind::Float) {
    Tensor t(DType::Float32, {});
    t.data<float>()[0] = a.f;
    return c.set_output_value(0, t);
  }
  if (key == "value_floats" && a.kind == Attribute::Kind::Floats) {
    Tensor t(DType::Float32, {static_cast<int64_t>(a.floats.size())});
    std::memcpy(t.raw(), a.floats.data(), a.floats.size() * sizeof(float));
    return c.set_output_value(0, t);
  }
  if (key == "value_int" && a.kind == Attribute::Kind::Int) {
    Tensor t(DType::Int64, {});
    t.data<int64_t>()[0] = a.i;
    return c.set_output_value(0, t);
  }
  if (key == "value_ints" && a.kind == Attribute::Kind::Ints) return c.set_output_value(0, int64_vector(a.ints));
  c.unsupported("value attribute '" + key + "' is not supported");
}

void plan_shape(PlanCtx& c) {
  c.require_inputs(1, 1);
  const Shape& s = c.input(0).shape;
  const int64_t r = static_cast<int64_t>(s.size());
  int64_t start = c.version >= 15 ? c.node.attr_int("start", 0) : 0;
  int64_t end = c.version >= 15 ? c.node.attr_int("end", r) : r;
  if (start < 0) start += r;
  if (end < 0) end += r;
  start = std::clamp<int64_t>(start, 0, r);
  end = std::clamp<int64_t>(end, 0, r);
  c.set_output_value(0, int64_vector(std::vector<int64_t>(s.begin() + start, s.begin() + std::max(start, end))));
}

void plan_size(PlanCtx& c) {
  c.require_inputs(1, 1);
  Tensor t(DType::Int64, {});
  t.data<int64_t>()[0] = shape_numel(c.input(0).shape);
  c.set_output_value(0, t);
}

template <class To, class From>
To convert(From v) {
  if constexpr (std::is_same_v<From, half_t>) {
    return convert<To>(half_to_float(v.bits));
  } else if constexpr (std::is_same_v<From, bf16_t>) {
    return convert<To>(bfloat16_to_float(v.bits));
  } else if constexpr (std::is_same_v<To, half_t>) {
    return half_t{float_to_half(static_cast<float>(v))};
  } else if constexpr (std::is_same_v<To, bf16_t>) {
    return bf16_t{float_to_bfloat16(static_cast<float>(v))};
  } else if constexpr (std::is_same_v<To, bool>) {
    return v != From(0);
  } else if constexpr (std::is_integral_v<To> && std::is_floating_point_v<From>) {
    // Out-of-range and NaN have no defined result; keep them from being UB.
    if (!(v == v)) return To(0);
    if (v <= static_cast<From>(std::numeric_limits<To>::lowest())) return std::numeric_limits<To>::lowest();
    if (v >= static_cast<From>(std::numeric_limits<To>::max())) return std::numeric_limits<To>::max();
    return static_cast<To>(v);
  } else {
    return static_cast<To>(v);
  }
}

// visit_numeric, plus bfloat16 (which only Cast handles element by element).
template <class F>
void visit_castable(DType t, F&& f) {
  if (t == DType::BFloat16) return f(bf16_t{});
  visit_numeric(t, f);
}

void plan_cast_to(PlanCtx& c, DType dst);

void plan_cast(PlanCtx& c) {
  c.require_inputs(1, 1);
  const int64_t to = c.node.attr("to").i;
  DType dst;
  if (!dtype_from_onnx(onnx_type_attr(to), &dst))
    c.unsupported(std::string("cast to ") + onnx_type_name(onnx_type_attr(to)) + " (type " + std::to_string(to) + ")");
  plan_cast_to(c, dst);
}

void plan_cast_like(PlanCtx& c) {
  c.require_inputs(2, 2);
  plan_cast_to(c, c.input(1).dtype);
}

void plan_cast_to(PlanCtx& c, DType dst) {
  const DType src = c.input(0).dtype;
  c.set_output(0, dst, c.input(0).shape);
  if (src == dst) {
    c.outputs_alias_inputs = true;
    c.kernel = [](KernelIO& io) { *io.out[0] = *io.in[0]; };
    return;
  }
  if (src == DType::String || dst == DType::String) return plan_string_cast(c, src, dst);
  c.kernel = [src, dst](KernelIO& io) {
    const int64_t n = io.in[0]->numel();
    visit_castable(src, [&](auto s) {
      using S = decltype(s);
      visit_castable(dst, [&](auto d) {
        using D = decltype(d);
        const S* x = static_cast<const S*>(io.in[0]->raw());
        D* y = static_cast<D*>(io.out[0]->raw());
        for (int64_t i = 0; i < n; ++i) y[i] = convert<D>(x[i]);
      });
    });
  };
}

void plan_reshape(PlanCtx& c) {
  c.require_inputs(2, 2);
  const Shape& in = c.input(0).shape;
  std::vector<int64_t> spec = int_values(c, 1, "shape");
  const bool allowzero = c.version >= 14 && c.node.attr_int("allowzero", 0) != 0;
  Shape out(spec.size());
  int64_t infer = -1, known = 1;
  for (size_t i = 0; i < spec.size(); ++i) {
    int64_t d = spec[i];
    if (d == 0 && !allowzero) {
      if (i >= in.size()) c.fail("shape has 0 at index " + std::to_string(i) + " beyond the input's rank");
      d = in[i];
    }
    if (d == -1) {
      if (infer >= 0) c.fail("shape has more than one -1");
      infer = static_cast<int64_t>(i);
      continue;
    }
    if (d < 0) c.fail("shape has invalid dimension " + std::to_string(d));
    out[i] = d;
    if (d != 0 && known > std::numeric_limits<int64_t>::max() / d)
      c.fail("cannot reshape " + shape_str(in) + " to " + shape_str(spec) + " (element count overflows)");
    known *= d;
  }
  const int64_t total = shape_numel(in);
  if (infer >= 0) {
    if (known == 0 || total % known != 0) c.fail("cannot reshape " + shape_str(in) + " with -1 in " + shape_str(spec));
    out[static_cast<size_t>(infer)] = total / known;
  }
  if (shape_numel(out) != total) c.fail("cannot reshape " + shape_str(in) + " to " + shape_str(out));
  alias_kernel(c, out);
}

void plan_flatten(PlanCtx& c) {
  c.require_inputs(1, 1);
  const Shape& in = c.input(0).shape;
  const int64_t r = static_cast<int64_t>(in.size());
  int64_t axis = c.node.attr_int("axis", 1);
  if (axis < -r || axis > r) c.fail("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(r));
  if (axis < 0) axis += r;
  int64_t a = 1, b = 1;
  for (int64_t d = 0; d < r; ++d) (d < axis ? a : b) *= in[static_cast<size_t>(d)];
  alias_kernel(c, {a, b});
}

void plan_squeeze_unsqueeze(PlanCtx& c, bool squeeze) {
  c.require_inputs(1, 2);
  const Shape& in = c.input(0).shape;
  std::vector<int64_t> axes =
      c.version >= 13 ? (c.has_input(1) ? int_values(c, 1, "axes") : std::vector<int64_t>{}) : c.node.attr_ints("axes");
  Shape out;
  if (squeeze) {
    const int64_t r = static_cast<int64_t>(in.size());
    std::vector<char> drop(in.size(), 0);
    if (axes.empty())
      for (size_t d = 0; d < in.size(); ++d) drop[d] = in[d] == 1;
    for (int64_t a : axes) {
      size_t d = static_cast<size_t>(normalize_axis(c, a, r));
      if (in[d] != 1) c.fail("cannot squeeze axis " + std::to_string(a) + " of size " + std::to_string(in[d]));
      drop[d] = 1;
    }
    for (size_t d = 0; d < in.size(); ++d)
      if (!drop[d]) out.push_back(in[d]);
  } else {
    if (axes.empty()) c.fail("needs axes");
    const int64_t r = static_cast<int64_t>(in.size() + axes.size());
    std::vector<char> add(static_cast<size_t>(r), 0);
    for (int64_t a : axes) {
      size_t d = static_cast<size_t>(normalize_axis(c, a, r));
      if (add[d]) c.fail("axes repeat " + std::to_string(a));
      add[d] = 1;
    }
    size_t k = 0;
    for (int64_t d = 0; d < r; ++d) out.push_back(add[static_cast<size_t>(d)] ? 1 : in[k++]);
  }
  alias_kernel(c, out);
}

void plan_squeeze(PlanCtx& c) { plan_squeeze_unsqueeze(c, true); }
void plan_unsqueeze(PlanCtx& c) { plan_squeeze_unsqueeze(c, false); }

void plan_slice(PlanCtx& c) {
  const Shape& in = c.input(0).shape;
  const int64_t r = static_cast<int64_t>(in.size());
  std::vector<int64_t> starts, ends, axes, steps;
  if (c.version >= 10) {
    c.require_inputs(3, 5);
    starts = int_values(c, 1, "starts");
    ends = int_values(c, 2, "ends");
    if (c.has_input(3)) axes = int_values(c, 3, "axes");
    if (c.has_input(4)) steps = int_values(c, 4, "steps");
  } else {
    c.require_inputs(1, 1);
    starts = c.node.attr_ints("starts");
    ends = c.node.attr_ints("ends");
    axes = c.node.attr_ints("axes");
  }
  if (starts.size() != ends.size()) c.fail("starts and ends differ in length");
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (axes.size() != starts.size() || steps.size() != starts.size())
    c.fail("starts, ends, axes and steps differ in length");
  std::vector<int64_t> begin(static_cast<size_t>(r), 0), step(static_cast<size_t>(r), 1);
  Shape out = in;
  std::vector<char> seen(static_cast<size_t>(r), 0);
  for (size_t i = 0; i < starts.size(); ++i) {
    const size_t d = static_cast<size_t>(normalize_axis(c, axes[i], r));
    if (seen[d]) c.fail("axis " + std::to_string(axes[i]) + " appears twice");
    seen[d] = 1;
    const int64_t dim = in[d];
    // |step| >= dim takes one element either way; clamping keeps -step and
    // the count arithmetic below from overflowing.
    const int64_t st =
        std::clamp<int64_t>(steps[i], -std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::max());
    if (st == 0) c.fail("step 0");
    int64_t s = starts[i], e = ends[i];
    if (s < 0) s += dim;
    if (e < 0) e += dim;
    if (dim == 0) {
      s = 0;
      out[d] = 0;
    } else if (st > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      out[d] = e > s ? 1 + (e - s - 1) / st : 0;
    } else {
      s = std::clamp<int64_t>(s, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      out[d] = s > e ? 1 + (s - e - 1) / (-st) : 0;
    }
    begin[d] = s;
    step[d] = st;
  }
  c.set_output(0, c.input(0).dtype, out);
  // Input strides, made once: the kernel walks output rows (all dims but the
  // last) and copies each row's run (one memcpy when the last step is 1).
  std::vector<int64_t> in_stride(in.size(), 1);
  for (size_t d = in.size(); d-- > 1;) in_stride[d - 1] = in_stride[d] * in[d];
  c.kernel = [in, out, begin, step, in_stride](KernelIO& io) {
    const size_t es = dtype_size(io.in[0]->dtype());
    const int64_t n = shape_numel(out);
    if (n == 0) return;
    const size_t rank = in.size();
    const char* x = static_cast<const char*>(io.in[0]->raw());
    char* y = static_cast<char*>(io.out[0]->raw());
    const int64_t inner = rank ? out[rank - 1] : 1, rows = n / inner;
    const int64_t inner_step = rank ? step[rank - 1] * in_stride[rank - 1] : 0;
    int64_t base = 0;
    for (size_t d = 0; d < rank; ++d) base += begin[d] * in_stride[d];
    for (int64_t row = 0; row < rows; ++row) {
      int64_t rem = row, off = base;
      for (size_t d = rank - 1; d-- > 0;) {
        off += (rem % out[d]) * step[d] * in_stride[d];
        rem /= out[d];
      }
      char* yr = y + static_cast<size_t>(row * inner) * es;
      if (inner_step == 1)
        std::memcpy(yr, x + static_cast<size_t>(off) * es, static_cast<size_t>(inner) * es);
      else
        for (int64_t i = 0; i < inner; ++i)
          std::memcpy(yr + static_cast<size_t>(i) * es, x + static_cast<size_t>(off + i * inner_step) * es, es);
    }
  };
}

void plan_concat(PlanCtx& c) {
  if (c.num_inputs() == 0) c.fail("needs at least one input");
  const Shape& first = c.input(0).shape;
  const int64_t r = static_cast<int64_t>(first.size());
  if (!c.node.has_attr("axis")) c.fail("missing required attribute 'axis'");
  const size_t axis = static_cast<size_t>(normalize_axis(c, c.node.attr_int("axis", 0), r));
  Shape out = first;
  out[axis] = 0;
  for (size_t i = 0; i < c.num_inputs(); ++i) {
    const ValueDesc& v = c.input(i);
    if (v.dtype != c.input(0).dtype) c.fail("inputs differ in dtype");
    if (v.shape.size() != first.size()) c.fail("inputs differ in rank");
    for (size_t d = 0; d < first.size(); ++d)
      if (d != axis && v.shape[d] != first[d])
        c.fail("input " + std::to_string(i) + " has shape " + shape_str(v.shape) + ", incompatible with " +
               shape_str(first));
    if (v.shape[axis] > std::numeric_limits<int64_t>::max() - out[axis]) c.fail("concatenated dimension overflows");
    out[axis] += v.shape[axis];
  }
  c.set_output(0, c.input(0).dtype, out);
  int64_t outer = 1;
  for (size_t d = 0; d < axis; ++d) outer *= out[d];
  c.kernel = [outer, axis](KernelIO& io) {
    const size_t es = dtype_size(io.out[0]->dtype());
    char* y = static_cast<char*>(io.out[0]->raw());
    const Shape& os = io.out[0]->shape();
    int64_t inner = 1;
    for (size_t d = axis + 1; d < os.size(); ++d) inner *= os[d];
    const size_t out_row = static_cast<size_t>(os[axis] * inner) * es;
    size_t col = 0;
    for (const Tensor* t : io.in) {
      const size_t row = static_cast<size_t>(t->shape()[axis] * inner) * es;
      const char* x = static_cast<const char*>(t->raw());
      if (outer == 1 && x == y + col) {  // written in place by its producer (memory_plan.cpp)
        col += row;
        continue;
      }
      for (int64_t o = 0; o < outer; ++o)
        std::memcpy(y + static_cast<size_t>(o) * out_row + col, x + static_cast<size_t>(o) * row, row);
      col += row;
    }
  };
}

void plan_constant_of_shape(PlanCtx& c) {
  c.require_inputs(1, 1);
  std::vector<int64_t> shape = int_values(c, 0, "shape");
  Tensor value(DType::Float32, {1});
  if (c.node.has_attr("value")) {
    value = c.node.attr("value").t;
    if (value.numel() != 1) c.fail("value must hold one element");
  }
  c.set_output(0, value.dtype(), shape);
  c.kernel = [value](KernelIO& io) {
    const size_t es = dtype_size(value.dtype());
    char* y = static_cast<char*>(io.out[0]->raw());
    for (int64_t i = 0; i < io.out[0]->numel(); ++i) std::memcpy(y + static_cast<size_t>(i) * es, value.raw(), es);
  };
}

}  // namespace

void register_shape_ops(OpRegistry& r) {
  r.add("", "Constant", {1, 9, 11, 12, 13, 19, 21, 23}, plan_constant);
  r.add("", "Shape", {1, 13, 15, 19, 21, 23}, plan_shape);
  r.add("", "Size", {1, 13, 19, 21, 23}, plan_size);
  r.add("", "Cast", {6, 9, 13, 19, 21, 23}, plan_cast);
  r.add("", "CastLike", {15, 19, 21, 23}, plan_cast_like);
  r.add("", "Reshape", {5, 13, 14, 19, 21, 23}, plan_reshape);
  r.add("", "Flatten", {1, 9, 11, 13, 21, 23}, plan_flatten);
  r.add("", "Squeeze", {1, 11, 13, 21, 23}, plan_squeeze);
  r.add("", "Unsqueeze", {1, 11, 13, 21, 23}, plan_unsqueeze);
  r.add("", "Slice", {1, 10, 11, 13}, plan_slice);
  r.add("", "Concat", {4, 11, 13}, plan_concat);
  r.add("", "ConstantOfShape", {9, 20, 21, 23}, plan_constant_of_shape);
}

}  // namespace normrt
