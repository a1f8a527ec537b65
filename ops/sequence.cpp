// Sequence and optional ops. Sequences and optionals travel as boxed tensors
// (core/boxed_value.h): each op unboxes its inputs and boxes a new value (a
// sequence is immutable once made; its tensors are shared, never copied).
//   SequenceConstruct/Empty/Insert/Erase/At/Length   list operations
//   SplitToSequence     input split along `axis` into chunks (one copy of each)
//   ConcatFromSequence  items joined along `axis` (or stacked on a new one)
//   SequenceMap         the body run once per position of the sequences
//   Optional, OptionalHasElement, OptionalGetElement
// Their outputs are made by the kernels, so graphs holding them run node by
// node (PlanCtx::output_shapes_at_run_time). A bad position, an empty optional
// read, a dtype that does not fit the sequence: Error naming the node.
#include <cstring>
#include <limits>

#include "control_flow.h"

namespace normrt {

namespace {

// The most tensors SplitToSequence makes from one input (each is an allocation).
constexpr int64_t kMaxItems = int64_t{1} << 24;

const Value& sequence_in(const Tensor* t, const char* what) {
  if (!t || !is_boxed(*t) || !boxed_value(*t).is_sequence())
    throw Error(ErrorCode::InvalidArgument,
                std::string(what) + " must be a sequence, got " + (t ? dtype_name(t->dtype()) : "nothing"));
  return boxed_value(*t);
}

// Plan-time check that input i is a sequence (a box; what is inside is checked when it runs).
void require_sequence(const PlanCtx& c, size_t i, const char* what) {
  if (c.input(i).dtype != kBoxedDType)
    c.fail(std::string(what) + " must be a sequence, got a " + dtype_name(c.input(i).dtype) + " tensor");
}
void require_tensor(const PlanCtx& c, size_t i, const char* what) {
  if (c.input(i).dtype == kBoxedDType) c.fail(std::string(what) + " must be a tensor, got a sequence or optional");
}

// A position input: one int32 or int64 element.
void require_position(const PlanCtx& c, size_t i) {
  c.require_dtype(i, {DType::Int32, DType::Int64});
  if (shape_numel(c.input(i).shape) != 1 || c.input(i).shape.size() > 1)
    c.fail("the position must be a scalar, got shape " + shape_str(c.input(i).shape));
}
int64_t position_value(const Tensor& t) {
  return t.dtype() == DType::Int32 ? t.data<int32_t>()[0] : t.data<int64_t>()[0];
}
// p in [-n, n - 1 + extra] → [0, n + extra); Error otherwise.
size_t normalize_position(int64_t p, size_t n, bool one_past_end) {
  const int64_t len = static_cast<int64_t>(n);
  const int64_t hi = one_past_end ? len : len - 1;
  if (p < -len || p > hi)
    throw Error(ErrorCode::InvalidArgument, "position " + std::to_string(p) + " is out of range for a sequence of " +
                                                std::to_string(n) + " tensors (allowed [" + std::to_string(-len) +
                                                ", " + std::to_string(hi) + "])");
  return static_cast<size_t>(p < 0 ? p + len : p);
}

DType dtype_attr(const PlanCtx& c, DType fallback) {
  if (!c.node.has_attr("dtype")) return fallback;
  DType t;
  if (!dtype_from_onnx(onnx_type_attr(c.node.attr_int("dtype", 1)), &t))
    c.unsupported("dtype " + std::to_string(c.node.attr_int("dtype", 1)) + " is not a type normrt holds");
  return t;
}

void plan_sequence_empty(PlanCtx& c) {
  c.require_inputs(0, 0);
  const DType dt = dtype_attr(c, DType::Float32);
  c.output_shapes_at_run_time();
  c.out[0].dtype = kBoxedDType;
  c.kernel = [dt](KernelIO& io) { *io.out[0] = box(Value::sequence({}, dt)); };
}

void plan_sequence_construct(PlanCtx& c) {
  c.require_inputs(1, std::numeric_limits<size_t>::max());
  for (size_t i = 0; i < c.in.size(); ++i) {
    require_tensor(c, i, "every input");
    if (c.input(i).dtype != c.input(0).dtype)
      c.fail("input " + std::to_string(i) + " is " + dtype_name(c.input(i).dtype) + ", input 0 " +
             dtype_name(c.input(0).dtype) + ": a sequence holds one dtype");
  }
  c.output_shapes_at_run_time();
  c.out[0].dtype = kBoxedDType;
  c.kernel = [](KernelIO& io) {
    std::vector<Tensor> items;
    for (const Tensor* t : io.in) items.push_back(*t);
    *io.out[0] = box(Value::sequence(std::move(items)));
  };
}

void plan_sequence_insert(PlanCtx& c) {
  c.require_inputs(2, 3);
  require_sequence(c, 0, "input_sequence");
  require_tensor(c, 1, "the tensor");
  const bool has_pos = c.has_input(2);
  if (has_pos) require_position(c, 2);
  c.output_shapes_at_run_time();
  c.out[0].dtype = kBoxedDType;
  c.kernel = [has_pos](KernelIO& io) {
    const Value& s = sequence_in(io.in[0], "input_sequence");
    const Tensor& t = *io.in[1];
    if (s.elem_dtype() != DType::Undefined && t.dtype() != s.elem_dtype())
      throw Error(ErrorCode::InvalidArgument, std::string("cannot insert a ") + dtype_name(t.dtype()) +
                                                  " tensor into a sequence of " + dtype_name(s.elem_dtype()));
    std::vector<Tensor> items = s.items();
    const size_t at = has_pos ? normalize_position(position_value(*io.in[2]), items.size(), true) : items.size();
    items.insert(items.begin() + static_cast<std::ptrdiff_t>(at), t);
    *io.out[0] = box(Value::sequence(std::move(items), s.elem_dtype()));
  };
}

void plan_sequence_erase(PlanCtx& c) {
  c.require_inputs(1, 2);
  require_sequence(c, 0, "input_sequence");
  const bool has_pos = c.has_input(1);
  if (has_pos) require_position(c, 1);
  c.output_shapes_at_run_time();
  c.out[0].dtype = kBoxedDType;
  c.kernel = [has_pos](KernelIO& io) {
    const Value& s = sequence_in(io.in[0], "input_sequence");
    std::vector<Tensor> items = s.items();
    const size_t at = normalize_position(has_pos ? position_value(*io.in[1]) : -1, items.size(), false);
    items.erase(items.begin() + static_cast<std::ptrdiff_t>(at));
    *io.out[0] = box(Value::sequence(std::move(items), s.elem_dtype()));
  };
}

void plan_sequence_at(PlanCtx& c) {
  c.require_inputs(2, 2);
  require_sequence(c, 0, "input_sequence");
  require_position(c, 1);
  c.output_shapes_at_run_time();  // the item's dtype and shape: known when it runs
  c.kernel = [](KernelIO& io) {
    const Value& s = sequence_in(io.in[0], "input_sequence");
    *io.out[0] = s.items()[normalize_position(position_value(*io.in[1]), s.items().size(), false)];
  };
}

void plan_sequence_length(PlanCtx& c) {
  c.require_inputs(1, 1);
  require_sequence(c, 0, "input_sequence");
  c.set_output(0, DType::Int64, {});
  c.kernel = [](KernelIO& io) {
    io.out[0]->data<int64_t>()[0] = static_cast<int64_t>(sequence_in(io.in[0], "input_sequence").items().size());
  };
}

// Copies rows [begin, end) of `axis` of t (as [outer, dim, inner] bytes).
Tensor slice_axis(const Tensor& t, size_t axis, int64_t begin, int64_t end, bool keep_axis) {
  Shape shape = t.shape();
  const int64_t dim = shape[axis];
  shape[axis] = end - begin;
  if (!keep_axis) shape.erase(shape.begin() + static_cast<std::ptrdiff_t>(axis));
  Tensor out = Tensor::uninitialized(t.dtype(), shape);
  int64_t outer = 1, inner = static_cast<int64_t>(dtype_size(t.dtype()));
  for (size_t d = 0; d < axis; ++d) outer *= t.shape()[d];
  for (size_t d = axis + 1; d < t.shape().size(); ++d) inner *= t.shape()[d];
  const char* src = static_cast<const char*>(t.raw());
  char* dst = static_cast<char*>(out.raw());
  const size_t row = static_cast<size_t>((end - begin) * inner);
  for (int64_t o = 0; o < outer && row; ++o)
    std::memcpy(dst + static_cast<size_t>(o) * row, src + static_cast<size_t>((o * dim + begin) * inner), row);
  return out;
}

void plan_split_to_sequence(PlanCtx& c) {
  c.require_inputs(1, 2);
  require_tensor(c, 0, "the input");
  const ValueDesc& x = c.input(0);
  const int64_t rank = static_cast<int64_t>(x.shape.size());
  if (rank == 0) c.fail("cannot split a scalar");
  const size_t axis = static_cast<size_t>(normalize_axis(c, c.node.attr_int("axis", 0), rank));
  const bool keepdims = c.node.attr_int("keepdims", 1) != 0;
  const int64_t dim = x.shape[axis];
  // Chunks of `chunk` along the axis (the last one shorter), or the given sizes.
  int64_t chunk = 1;
  std::vector<int64_t> sizes;
  bool squeeze = false;
  if (!c.has_input(1)) {  // chunks of 1; keepdims says whether the axis stays
    squeeze = !keepdims;
  } else {
    c.require_dtype(1, {DType::Int32, DType::Int64});
    const ValueDesc& s = c.input(1);
    if (s.shape.size() > 1) c.fail("split must be a scalar or 1-D, got shape " + shape_str(s.shape));
    const std::vector<int64_t> v = int_values(c, 1, "split");
    if (s.shape.empty()) {
      if (v.size() != 1 || v[0] <= 0) c.fail("a scalar split must be a positive chunk length");
      chunk = v[0];
    } else {
      int64_t sum = 0;
      for (int64_t n : v) {
        if (n < 0) c.fail("split sizes must be >= 0, got " + std::to_string(n));
        sum = checked_add(c, sum, n, "the split sizes");
      }
      if (sum != dim) c.fail("split sizes add up to " + std::to_string(sum) + ", the axis has " + std::to_string(dim));
      sizes = v;
    }
  }
  const int64_t count = sizes.empty() ? dim / chunk + (dim % chunk != 0) : static_cast<int64_t>(sizes.size());
  if (count > kMaxItems)
    c.fail("would make " + std::to_string(count) + " tensors, more than a sequence may hold (" +
           std::to_string(kMaxItems) + ")");
  c.output_shapes_at_run_time();
  c.out[0].dtype = kBoxedDType;
  c.kernel = [axis, chunk, sizes, squeeze, dim](KernelIO& io) {
    std::vector<Tensor> items;
    for (int64_t at = 0, k = 0; at < dim || k < static_cast<int64_t>(sizes.size()); ++k) {
      const int64_t n = sizes.empty() ? std::min(chunk, dim - at) : sizes[static_cast<size_t>(k)];
      items.push_back(slice_axis(*io.in[0], axis, at, at + n, !squeeze));
      at += n;
    }
    *io.out[0] = box(Value::sequence(std::move(items), io.in[0]->dtype()));
  };
}

void plan_concat_from_sequence(PlanCtx& c) {
  c.require_inputs(1, 1);
  require_sequence(c, 0, "input_sequence");
  if (!c.node.has_attr("axis")) c.fail("needs the 'axis' attribute");
  const int64_t axis_attr = c.node.attr_int("axis", 0);
  const bool new_axis = c.node.attr_int("new_axis", 0) != 0;
  c.output_shapes_at_run_time();
  c.kernel = [axis_attr, new_axis](KernelIO& io) {
    const Value& s = sequence_in(io.in[0], "input_sequence");
    const std::vector<Tensor>& items = s.items();
    if (items.empty()) throw Error(ErrorCode::InvalidArgument, "cannot concatenate an empty sequence");
    const Shape& first = items[0].shape();
    const int64_t rank = static_cast<int64_t>(first.size()) + (new_axis ? 1 : 0);
    if (axis_attr < -rank || axis_attr >= rank || rank == 0)
      throw Error(ErrorCode::InvalidArgument,
                  "axis " + std::to_string(axis_attr) + " is out of range for rank " + std::to_string(rank));
    const size_t axis = static_cast<size_t>(axis_attr < 0 ? axis_attr + rank : axis_attr);
    Shape out_shape = first;
    if (new_axis) out_shape.insert(out_shape.begin() + static_cast<std::ptrdiff_t>(axis), 0);
    int64_t total = 0;
    for (const Tensor& t : items) {
      Shape sh = t.shape();
      if (new_axis) sh.insert(sh.begin() + static_cast<std::ptrdiff_t>(axis), 1);
      bool fits = sh.size() == out_shape.size();
      for (size_t d = 0; fits && d < sh.size(); ++d) fits = d == axis || sh[d] == out_shape[d];
      if (!fits)
        throw Error(ErrorCode::InvalidArgument, "item of shape " + shape_str(t.shape()) +
                                                    " does not fit the first item's " + shape_str(first) +
                                                    " outside axis " + std::to_string(axis));
      if (__builtin_add_overflow(total, sh[axis], &total))
        throw Error(ErrorCode::InvalidArgument, "the joined axis overflows int64");
    }
    out_shape[axis] = total;
    Tensor out = Tensor::uninitialized(items[0].dtype(), out_shape);
    int64_t outer = 1, inner = static_cast<int64_t>(dtype_size(out.dtype()));
    for (size_t d = 0; d < axis; ++d) outer *= out_shape[d];
    for (size_t d = axis + 1; d < out_shape.size(); ++d) inner *= out_shape[d];
    char* dst = static_cast<char*>(out.raw());
    int64_t at = 0;
    for (const Tensor& t : items) {
      const int64_t n = new_axis ? 1 : t.shape()[axis];
      const size_t row = static_cast<size_t>(n * inner);
      const char* src = static_cast<const char*>(t.raw());
      for (int64_t o = 0; o < outer && row; ++o)
        std::memcpy(dst + static_cast<size_t>((o * total + at) * inner), src + static_cast<size_t>(o) * row, row);
      at += n;
    }
    *io.out[0] = std::move(out);
  };
}

// SequenceMap: for i in [0, len(input_sequence)): body(item i of each
// sequence input, each tensor input as it is) → item i of each output sequence.
void plan_sequence_map(PlanCtx& c) {
  c.require_inputs(1, std::numeric_limits<size_t>::max());
  require_sequence(c, 0, "input_sequence");
  const Graph& body = c.node.subgraph("body");
  if (body.inputs.size() != c.in.size())
    c.fail("body takes " + std::to_string(body.inputs.size()) + " inputs, the node gives " +
           std::to_string(c.in.size()));
  if (c.out.size() != body.outputs.size())
    c.fail("has " + std::to_string(c.out.size()) + " outputs, its body " + std::to_string(body.outputs.size()));
  std::vector<char> is_seq;
  std::vector<ValueDesc> in_descs;
  for (size_t i = 0; i < c.in.size(); ++i) {
    is_seq.push_back(c.input(i).dtype == kBoxedDType);
    in_descs.push_back(ValueDesc{true, DType::Undefined, {}, nullptr});  // items vary: planned per node when run
  }
  const std::vector<size_t> pos = outer_positions(c, body);
  auto run = c.subgraphs->prepare(body, in_descs, outer_descs(c, pos), false);
  c.output_shapes_at_run_time();
  for (auto& o : c.out) o.dtype = kBoxedDType;
  std::vector<DType> out_dtype;
  for (const ValueMeta& m : body.outputs) out_dtype.push_back(m.dtype);
  const size_t n_in = c.in.size();
  c.kernel = [run, pos, n_in, is_seq, out_dtype](KernelIO& io) {
    const size_t n = sequence_in(io.in[0], "input_sequence").items().size();
    for (size_t i = 1; i < n_in; ++i)
      if (is_seq[i] && sequence_in(io.in[i], "an additional input").items().size() != n)
        throw Error(ErrorCode::InvalidArgument, "additional input " + std::to_string(i) + " has " +
                                                    std::to_string(boxed_value(*io.in[i]).items().size()) +
                                                    " items, input_sequence " + std::to_string(n));
    const std::vector<const Tensor*> outer = outer_values(io, n_in, pos);
    std::vector<std::vector<Tensor>> results(out_dtype.size());
    std::vector<const Tensor*> inputs(n_in);
    std::vector<Tensor> outs;
    for (size_t k = 0; k < n; ++k) {
      for (size_t i = 0; i < n_in; ++i) inputs[i] = is_seq[i] ? &boxed_value(*io.in[i]).items()[k] : io.in[i];
      outs.assign(out_dtype.size(), Tensor());
      run->run(inputs, outer, outs);
      for (size_t o = 0; o < outs.size(); ++o) {
        if (is_boxed(outs[o]))
          throw Error(ErrorCode::InvalidModel, "body output " + std::to_string(o) + " is not a tensor");
        results[o].push_back(std::move(outs[o]));
      }
    }
    for (size_t o = 0; o < io.out.size(); ++o)
      if (io.out[o]) *io.out[o] = box(Value::sequence(std::move(results[o]), out_dtype[o]));
  };
}

// ---- Optionals ---------------------------------------------------------------

void plan_optional(PlanCtx& c) {
  c.require_inputs(0, 1);
  const bool has_in = c.has_input(0);
  if (has_in && c.input(0).dtype == kBoxedDType) {
    // a sequence (an optional inside an optional is refused when it runs)
  } else if (!has_in && !c.node.has_attr("type")) {
    c.fail("an Optional without input needs the 'type' attribute");
  }
  c.output_shapes_at_run_time();
  c.out[0].dtype = kBoxedDType;
  c.kernel = [has_in](KernelIO& io) { *io.out[0] = box(has_in ? Value::optional(unbox(*io.in[0])) : Value::none()); };
}

void plan_optional_has_element(PlanCtx& c) {
  c.require_inputs(0, 1);
  if (c.version < 18) c.input(0);
  const bool has_in = c.has_input(0);
  c.set_output(0, DType::Bool, {});
  c.kernel = [has_in](KernelIO& io) {
    bool has = false;
    if (has_in) {
      const Tensor& t = *io.in[0];
      has = !is_boxed(t) || !boxed_value(t).is_optional() || boxed_value(t).has_value();
    }
    io.out[0]->data<uint8_t>()[0] = has ? 1 : 0;
  };
}

// A tensor or sequence where an optional is expected passes through (as
// OptionalGetElement-18 says; a Loop whose carried optional becomes a sequence
// after the first iteration relies on it at opset 15-17 too).
void plan_optional_get_element(PlanCtx& c) {
  c.require_inputs(1, 1);
  c.output_shapes_at_run_time();
  c.kernel = [](KernelIO& io) {
    const Tensor& t = *io.in[0];
    if (!is_boxed(t) || !boxed_value(t).is_optional()) {
      *io.out[0] = t;
      return;
    }
    const Value& v = boxed_value(t);
    if (!v.has_value()) throw Error(ErrorCode::InvalidArgument, "the optional input is empty");
    *io.out[0] = box(v.contents());
  };
}

}  // namespace

void register_sequence_ops(OpRegistry& r) {
  r.add("", "SequenceEmpty", {11}, plan_sequence_empty);
  r.add("", "SequenceConstruct", {11}, plan_sequence_construct);
  r.add("", "SequenceInsert", {11}, plan_sequence_insert);
  r.add("", "SequenceErase", {11}, plan_sequence_erase);
  r.add("", "SequenceAt", {11}, plan_sequence_at);
  r.add("", "SequenceLength", {11}, plan_sequence_length);
  r.add("", "SplitToSequence", {11}, plan_split_to_sequence);
  r.add("", "ConcatFromSequence", {11}, plan_concat_from_sequence);
  r.add("", "SequenceMap", {17}, plan_sequence_map);
  r.add("", "Optional", {15}, plan_optional);
  r.add("", "OptionalHasElement", {15, 18}, plan_optional_has_element);
  r.add("", "OptionalGetElement", {15, 18}, plan_optional_get_element);
  r.set_takes_sequences(
      "", {"SequenceInsert", "SequenceErase", "SequenceAt", "SequenceLength", "ConcatFromSequence", "SequenceMap",
           "Optional", "OptionalHasElement", "OptionalGetElement", "Identity", "If", "Loop"});
}

}  // namespace normrt
