// Scan (8, 9+): state… = initial; for t in [0, T): (state…, out_elt…) =
// body(state…, in_j[t along axis_j, reversed if direction_j]…); each scan
// output stacks its elements along its axis (prepended if its direction is 1).
// Scan-8 has a batch axis 0 first and scans axis 1: it runs that per batch
// entry. Passes: every scan input is copied out one slice per iteration
// (axis 0 slices are views), every scan output copied once into place.
// The output shapes follow from the input shapes when the body's are fixed
// (a static sub-plan whose state keeps its shapes); otherwise they are known
// only at run time.
#include <cstring>

#include "control_flow.h"

namespace normrt {

namespace {

struct Layout {  // a tensor seen as [outer, n, inner bytes] around one axis
  int64_t outer = 1, n = 1;
  size_t inner = 1;
};
Layout layout(const Shape& s, size_t axis, DType dt) {
  Layout l;
  for (size_t d = 0; d < axis; ++d) l.outer *= s[d];
  l.n = s[axis];
  l.inner = dtype_size(dt);
  for (size_t d = axis + 1; d < s.size(); ++d) l.inner *= static_cast<size_t>(s[d]);
  return l;
}

Shape without(const Shape& s, size_t axis) {
  Shape r = s;
  r.erase(r.begin() + static_cast<std::ptrdiff_t>(axis));
  return r;
}

// Element `i` of `t` along `axis` (a view when axis is 0).
Tensor slice_at(const Tensor& t, size_t axis, int64_t i) {
  const Layout l = layout(t.shape(), axis, t.dtype());
  const char* src = static_cast<const char*>(t.raw());
  if (axis == 0)
    return Tensor::view(const_cast<char*>(src) + static_cast<size_t>(i) * l.inner, t.dtype(), without(t.shape(), 0));
  Tensor r = Tensor::uninitialized(t.dtype(), without(t.shape(), axis));
  char* dst = static_cast<char*>(r.raw());
  for (int64_t o = 0; o < l.outer; ++o)
    std::memcpy(dst + static_cast<size_t>(o) * l.inner, src + static_cast<size_t>(o * l.n + i) * l.inner, l.inner);
  return r;
}

// Writes parts[t] as element t (or T-1-t when reversed) along `axis` of dst.
void stack_into(Tensor& dst, const std::vector<Tensor>& parts, size_t axis, bool reverse) {
  const Layout l = layout(dst.shape(), axis, dst.dtype());
  char* out = static_cast<char*>(dst.raw());
  const int64_t T = static_cast<int64_t>(parts.size());
  for (int64_t t = 0; t < T; ++t) {
    const char* src = static_cast<const char*>(parts[static_cast<size_t>(reverse ? T - 1 - t : t)].raw());
    for (int64_t o = 0; o < l.outer; ++o)
      std::memcpy(out + static_cast<size_t>(o * T + t) * l.inner, src + static_cast<size_t>(o) * l.inner, l.inner);
  }
}

Shape with(const Shape& s, size_t axis, int64_t n) {
  Shape r = s;
  r.insert(r.begin() + static_cast<std::ptrdiff_t>(axis), n);
  return r;
}

struct ScanSpec {
  size_t n_state = 0, n_scan_in = 0, n_scan_out = 0;
  std::vector<size_t> in_axis, out_axis;  // normalized
  std::vector<char> in_reverse, out_reverse;
  int64_t length = 0;  // T
  std::string where;
};

// One scan (no batch axis): returns the final states then the stacked scan outputs.
std::vector<Tensor> run_scan(const ScanSpec& s, const PreparedSubgraph& body, const std::vector<const Tensor*>& state0,
                             const std::vector<const Tensor*>& scan_in, const std::vector<const Tensor*>& outer) {
  std::vector<Tensor> state(s.n_state), elts(s.n_scan_in), outs;
  for (size_t k = 0; k < s.n_state; ++k) state[k] = *state0[k];
  std::vector<std::vector<Tensor>> parts(s.n_scan_out);
  std::vector<const Tensor*> inputs(s.n_state + s.n_scan_in);
  for (int64_t t = 0; t < s.length; ++t) {
    for (size_t j = 0; j < s.n_scan_in; ++j)
      elts[j] = slice_at(*scan_in[j], s.in_axis[j], s.in_reverse[j] ? s.length - 1 - t : t);
    for (size_t k = 0; k < s.n_state; ++k) inputs[k] = &state[k];
    for (size_t j = 0; j < s.n_scan_in; ++j) inputs[s.n_state + j] = &elts[j];
    outs.assign(s.n_state + s.n_scan_out, Tensor());
    body.run(inputs, outer, outs);
    for (size_t k = 0; k < s.n_state; ++k) state[k] = std::move(outs[k]);
    for (size_t k = 0; k < s.n_scan_out; ++k) {
      Tensor& e = outs[s.n_state + k];
      if (!parts[k].empty() && (e.shape() != parts[k][0].shape() || e.dtype() != parts[k][0].dtype()))
        throw Error(ErrorCode::InvalidModel, s.where + ": scan output " + std::to_string(k) + " changes shape from " +
                                                 shape_str(parts[k][0].shape()) + " to " + shape_str(e.shape()));
      parts[k].push_back(std::move(e));
    }
  }
  std::vector<Tensor> result = std::move(state);
  for (size_t k = 0; k < s.n_scan_out; ++k) {
    if (parts[k].empty())
      throw Error(ErrorCode::UnsupportedOp, s.where + ": a scan of length 0 gives scan outputs of unknown shape");
    const Tensor& p0 = parts[k][0];
    if (s.out_axis[k] > static_cast<size_t>(p0.rank()))
      throw Error(ErrorCode::InvalidModel, s.where + ": scan_output_axes entry out of range");
    Tensor r = Tensor::uninitialized(p0.dtype(), with(p0.shape(), s.out_axis[k], s.length));
    stack_into(r, parts[k], s.out_axis[k], s.out_reverse[k]);
    result.push_back(std::move(r));
  }
  return result;
}

std::vector<int64_t> flags(const PlanCtx& c, const char* key, size_t n, const char* what) {
  std::vector<int64_t> v = c.node.attr_ints(key);
  if (v.empty()) v.assign(n, 0);
  if (v.size() != n)
    c.fail(std::string(key) + " has " + std::to_string(v.size()) + " entries for " + std::to_string(n) + " " + what);
  return v;
}

void plan_scan(PlanCtx& c) {
  const bool v8 = c.version < 9;
  const Graph& body = c.node.subgraph("body");
  const int64_t m = c.node.attr_int("num_scan_inputs", -1);
  const size_t first = v8 ? 1 : 0;  // Scan-8: sequence_lens comes first
  if (m < 1 || static_cast<size_t>(m) + first > c.in.size())
    c.fail("num_scan_inputs must be from 1 to the number of inputs, got " + std::to_string(m));
  if (v8 && c.has_input(0)) c.unsupported("sequence_lens is not supported");
  ScanSpec s;
  s.where = c.node.where();
  s.n_scan_in = static_cast<size_t>(m);
  s.n_state = c.in.size() - first - s.n_scan_in;
  if (body.inputs.size() != s.n_state + s.n_scan_in)
    c.fail("body takes " + std::to_string(body.inputs.size()) + " inputs, the node gives " +
           std::to_string(s.n_state + s.n_scan_in));
  if (body.outputs.size() < s.n_state) c.fail("body gives fewer outputs than there are state variables");
  s.n_scan_out = body.outputs.size() - s.n_state;
  if (c.out.size() > s.n_state + s.n_scan_out) c.fail("has more outputs than its body");
  const size_t batch_axes = v8 ? 1 : 0;
  const std::vector<int64_t> in_dir = flags(c, v8 ? "directions" : "scan_input_directions", s.n_scan_in, "scan inputs");
  const std::vector<int64_t> out_dir =
      v8 ? std::vector<int64_t>(s.n_scan_out, 0) : flags(c, "scan_output_directions", s.n_scan_out, "scan outputs");
  const std::vector<int64_t> in_ax =
      v8 ? std::vector<int64_t>(s.n_scan_in, 0) : flags(c, "scan_input_axes", s.n_scan_in, "scan inputs");
  const std::vector<int64_t> out_ax =
      v8 ? std::vector<int64_t>(s.n_scan_out, 0) : flags(c, "scan_output_axes", s.n_scan_out, "scan outputs");
  int64_t batch = -1;  // Scan-8: the size of every input's axis 0
  auto take_batch = [&](const ValueDesc& d) {
    if (d.shape.empty()) c.fail("Scan-8 inputs need a batch axis");
    if (batch >= 0 && d.shape[0] != batch) c.fail("inputs have different batch sizes");
    batch = d.shape[0];
  };
  std::vector<ValueDesc> descs;
  for (size_t k = 0; k < s.n_state; ++k) {
    const ValueDesc& d = c.input(first + k);
    if (v8) take_batch(d);
    descs.push_back(ValueDesc{true, d.dtype, v8 ? without(d.shape, 0) : d.shape, nullptr});
  }
  s.length = -1;
  for (size_t j = 0; j < s.n_scan_in; ++j) {
    const ValueDesc& d = c.input(first + s.n_state + j);
    const int64_t rank = static_cast<int64_t>(d.shape.size()) - static_cast<int64_t>(batch_axes);
    if (rank < 1) c.fail("scan input " + std::to_string(j) + " has no axis to scan");
    if (v8) take_batch(d);
    s.in_axis.push_back(static_cast<size_t>(normalize_axis(c, in_ax[j], rank, "scan_input_axes entry")));
    s.in_reverse.push_back(in_dir[j] != 0);
    const Shape inner = v8 ? without(d.shape, 0) : d.shape;
    const int64_t len = inner[s.in_axis[j]];
    if (s.length >= 0 && len != s.length)
      c.fail("scan inputs have different lengths (" + std::to_string(s.length) + " and " + std::to_string(len) + ")");
    s.length = len;
    descs.push_back(ValueDesc{true, d.dtype, without(inner, s.in_axis[j]), nullptr});
  }
  if (v8 && batch == 0) c.unsupported("a batch of size 0");
  for (size_t k = 0; k < s.n_scan_out; ++k) s.out_reverse.push_back(out_dir[k] != 0);
  const std::vector<size_t> pos = outer_positions(c, body);
  auto run = c.subgraphs->prepare(body, descs, outer_descs(c, pos), true);
  bool fixed = run->static_shapes;
  for (size_t k = 0; fixed && k < s.n_state; ++k)
    fixed = run->out_dtype[k] == descs[k].dtype && run->out_shape[k] == descs[k].shape;
  for (size_t k = 0; k < s.n_scan_out; ++k) {
    // The axis is checked against the element's rank + 1 when it is known.
    const int64_t rank = fixed ? static_cast<int64_t>(run->out_shape[s.n_state + k].size()) + 1 : 64;
    s.out_axis.push_back(static_cast<size_t>(normalize_axis(c, out_ax[k], rank, "scan_output_axes entry")));
    if (!fixed && out_ax[k] < 0) c.unsupported("a negative scan_output_axes entry with run-time element shapes");
  }
  if (fixed && s.length > 0) {
    for (size_t k = 0; k < c.out.size(); ++k) {
      if (!c.has_output(k)) continue;
      Shape sh = run->out_shape[k];
      if (k >= s.n_state) sh = with(sh, s.out_axis[k - s.n_state], s.length);
      if (v8) sh = with(sh, 0, batch);
      c.set_output(k, run->out_dtype[k], sh);
    }
  } else {
    c.output_shapes_at_run_time();
    if (!run->static_shapes || !fixed) run = c.subgraphs->prepare(body, descs, outer_descs(c, pos), false);
    for (size_t k = 0; k < c.out.size(); ++k) c.out[k].dtype = k < s.n_state ? descs[k].dtype : DType::Undefined;
  }
  const size_t n_in = c.in.size();
  c.kernel = [run, s, pos, n_in, first, fixed, v8, batch](KernelIO& io) {
    const std::vector<const Tensor*> outer = outer_values(io, n_in, pos);
    std::vector<const Tensor*> state(s.n_state), scan_in(s.n_scan_in);
    std::vector<Tensor> result;
    if (!v8) {
      for (size_t k = 0; k < s.n_state; ++k) state[k] = io.in[first + k];
      for (size_t j = 0; j < s.n_scan_in; ++j) scan_in[j] = io.in[first + s.n_state + j];
      result = run_scan(s, *run, state, scan_in, outer);
    } else {  // per batch entry, then stacked on axis 0
      std::vector<std::vector<Tensor>> per_batch(s.n_state + s.n_scan_out);
      std::vector<Tensor> held(s.n_state + s.n_scan_in);
      for (int64_t b = 0; b < batch; ++b) {
        for (size_t k = 0; k < s.n_state; ++k) held[k] = slice_at(*io.in[first + k], 0, b);
        for (size_t j = 0; j < s.n_scan_in; ++j) held[s.n_state + j] = slice_at(*io.in[first + s.n_state + j], 0, b);
        for (size_t k = 0; k < s.n_state; ++k) state[k] = &held[k];
        for (size_t j = 0; j < s.n_scan_in; ++j) scan_in[j] = &held[s.n_state + j];
        std::vector<Tensor> r = run_scan(s, *run, state, scan_in, outer);
        for (size_t k = 0; k < r.size(); ++k) per_batch[k].push_back(std::move(r[k]));
      }
      for (size_t k = 0; k < per_batch.size(); ++k) {
        const std::vector<Tensor>& parts = per_batch[k];
        for (size_t b = 1; b < parts.size(); ++b)  // a body run node by node may give each its own shape
          if (parts[b].shape() != parts[0].shape() || parts[b].dtype() != parts[0].dtype())
            throw Error(ErrorCode::InvalidModel,
                        s.where + ": output " + std::to_string(k) + " is " + dtype_name(parts[b].dtype()) +
                            shape_str(parts[b].shape()) + " for batch entry " + std::to_string(b) + " but " +
                            dtype_name(parts[0].dtype()) + shape_str(parts[0].shape()) + " for entry 0");
        Tensor r = Tensor::uninitialized(parts[0].dtype(), with(parts[0].shape(), 0, batch));
        stack_into(r, parts, 0, false);
        result.push_back(std::move(r));
      }
    }
    for (size_t k = 0; k < io.out.size(); ++k) {
      if (!io.out[k]) continue;
      if (!fixed) {
        *io.out[k] = std::move(result[k]);
      } else {
        if (result[k].shape() != io.out[k]->shape() || result[k].dtype() != io.out[k]->dtype())
          throw Error(ErrorCode::Internal, s.where + ": output " + std::to_string(k) + " came out with another shape");
        std::memcpy(io.out[k]->raw(), result[k].raw(), result[k].nbytes());
      }
    }
  };
}

}  // namespace

void register_scan_ops(OpRegistry& r) { r.add("", "Scan", {8, 9, 11, 16, 19, 21, 23}, plan_scan); }

}  // namespace normrt
