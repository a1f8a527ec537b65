// If and Loop. Their subgraphs run through the SubgraphPlanner the planner
// puts in PlanCtx (ops/ cannot see plan/): a static plan of the subgraph when
// its shapes are fixed, else node by node.
//   If    an If whose condition is known when planning never gets here: the
//         planner plans the branch in line. Otherwise both branches are
//         prepared; when they give the same dtypes and shapes the If is a
//         static step (the chosen branch writes straight into its outputs),
//         else its output shapes are known only at run time.
//   Loop  for i in [0, M) while cond: (cond, carried…, scan…) = body(i, cond,
//         carried…); carried values pass to the next iteration, scan outputs
//         are stacked on a new axis 0 once the loop ends (one copy each).
//         Output shapes are known only at run time.
#include "control_flow.h"

#include <cstring>
#include <limits>

namespace normrt {

namespace {

void check_scalar(const PlanCtx& c, size_t i, DType dtype, const char* what) {
  const ValueDesc& d = c.input(i);
  if (d.dtype != dtype) c.fail(std::string(what) + " must be " + dtype_name(dtype) + ", got " + dtype_name(d.dtype));
  if (d.shape.size() > 1 || shape_numel(d.shape) != 1)
    c.fail(std::string(what) + " must be a scalar (one element), got shape " + shape_str(d.shape));
}

void plan_if(PlanCtx& c) {
  c.require_inputs(1, 1);
  check_scalar(c, 0, DType::Bool, "the condition");
  const Graph& then_b = c.node.subgraph("then_branch");
  const Graph& else_b = c.node.subgraph("else_branch");
  const size_t n_out = then_b.outputs.size();
  if (else_b.outputs.size() != n_out)
    c.fail("then_branch has " + std::to_string(n_out) + " outputs, else_branch " +
           std::to_string(else_b.outputs.size()));
  if (c.out.size() > n_out)
    c.fail("has " + std::to_string(c.out.size()) + " outputs, its branches " + std::to_string(n_out));
  if (!then_b.inputs.empty() || !else_b.inputs.empty()) c.fail("If branches take no inputs");
  for (size_t k = 0; k < n_out; ++k) {
    const DType a = then_b.outputs[k].dtype, b = else_b.outputs[k].dtype;
    if (a != DType::Undefined && b != DType::Undefined && a != b)
      c.fail("output " + std::to_string(k) + " is " + dtype_name(a) + " in then_branch but " + dtype_name(b) +
             " in else_branch");
  }
  const std::vector<size_t> then_pos = outer_positions(c, then_b), else_pos = outer_positions(c, else_b);
  auto then_run = c.subgraphs->prepare(then_b, {}, outer_descs(c, then_pos), true);
  auto else_run = c.subgraphs->prepare(else_b, {}, outer_descs(c, else_pos), true);
  bool same = then_run->static_shapes && else_run->static_shapes;
  for (size_t k = 0; same && k < c.out.size(); ++k) {
    if (then_run->out_dtype[k] != else_run->out_dtype[k])
      c.fail("output " + std::to_string(k) + " is " + dtype_name(then_run->out_dtype[k]) + " in then_branch but " +
             dtype_name(else_run->out_dtype[k]) + " in else_branch");
    same = then_run->out_shape[k] == else_run->out_shape[k];
  }
  if (same) {
    for (size_t k = 0; k < c.out.size(); ++k)
      if (c.has_output(k)) c.set_output(k, then_run->out_dtype[k], then_run->out_shape[k]);
  } else {
    c.output_shapes_at_run_time();
    for (size_t k = 0; k < c.out.size(); ++k) {
      DType dt = planning_dtype(then_b.outputs[k]);
      if (then_run->static_shapes) dt = then_run->out_dtype[k];
      if (else_run->static_shapes) dt = else_run->out_dtype[k];
      c.out[k].dtype = dt;
    }
  }
  c.detail = same ? "static branches" : "branches run node by node";
  c.kernel = [then_run, else_run, then_pos, else_pos, same, n_out](KernelIO& io) {
    const bool cond = io.in[0]->data<uint8_t>()[0] != 0;
    const PreparedSubgraph& branch = cond ? *then_run : *else_run;
    std::vector<Tensor> outs(n_out);
    if (same)  // written in place: the outputs share the planned buffers
      for (size_t k = 0; k < io.out.size(); ++k)
        if (io.out[k]) outs[k] = *io.out[k];
    branch.run({}, outer_values(io, 1, cond ? then_pos : else_pos), outs);
    if (!same)
      for (size_t k = 0; k < io.out.size(); ++k)
        if (io.out[k]) *io.out[k] = std::move(outs[k]);
  };
}

// Stacks equally shaped tensors on a new axis 0.
Tensor stack(const std::vector<Tensor>& parts, DType dtype, const Shape& part_shape) {
  Shape shape{static_cast<int64_t>(parts.size())};
  shape.insert(shape.end(), part_shape.begin(), part_shape.end());
  Tensor t = Tensor::uninitialized(dtype, shape);
  char* dst = static_cast<char*>(t.raw());
  for (const Tensor& p : parts) {
    std::memcpy(dst, p.raw(), p.nbytes());
    dst += p.nbytes();
  }
  return t;
}

void plan_loop(PlanCtx& c) {
  if (c.in.size() < 2)  // M and cond are both optional ("" absent), but their slots are not
    c.fail("takes the trip count M, the condition and the loop-carried values: got " + std::to_string(c.in.size()) +
           " inputs");
  const bool has_trip = c.has_input(0), has_cond = c.has_input(1);
  if (has_trip) check_scalar(c, 0, DType::Int64, "the trip count M");
  if (has_cond) check_scalar(c, 1, DType::Bool, "the condition");
  if (!has_trip && !has_cond) c.fail("has neither a trip count nor a condition: it would never end");
  const Graph& body = c.node.subgraph("body");
  const size_t n_carried = c.in.size() - 2;
  for (size_t k = 0; k < n_carried; ++k) c.input(2 + k);
  if (body.inputs.size() != 2 + n_carried)
    c.fail("body takes " + std::to_string(body.inputs.size()) + " inputs; with " + std::to_string(n_carried) +
           " loop-carried values it must take " + std::to_string(2 + n_carried));
  if (body.outputs.size() < 1 + n_carried)
    c.fail("body gives " + std::to_string(body.outputs.size()) + " outputs; it must give the condition and the " +
           std::to_string(n_carried) + " loop-carried values (then scan outputs)");
  const size_t n_scan = body.outputs.size() - 1 - n_carried;
  if (c.out.size() > n_carried + n_scan)
    c.fail("has " + std::to_string(c.out.size()) + " outputs, its body " + std::to_string(n_carried + n_scan));
  c.output_shapes_at_run_time();
  for (size_t k = 0; k < c.out.size(); ++k)
    c.out[k].dtype = k < n_carried ? c.input(2 + k).dtype : body.outputs[1 + k].dtype;  // scan k - n_carried
  std::vector<ValueDesc> in_descs{ValueDesc{true, DType::Int64, {}, nullptr},
                                  ValueDesc{true, DType::Bool, {}, nullptr}};
  for (size_t k = 0; k < n_carried; ++k)
    in_descs.push_back(ValueDesc{true, c.in[2 + k].dtype, c.in[2 + k].shape, nullptr});
  const std::vector<size_t> pos = outer_positions(c, body);
  auto run = c.subgraphs->prepare(body, in_descs, outer_descs(c, pos), false);
  std::vector<DType> scan_dtype;
  for (size_t k = 0; k < n_scan; ++k) scan_dtype.push_back(body.outputs[1 + n_carried + k].dtype);
  const size_t n_in = c.in.size();
  const std::string where = c.node.where();
  c.kernel = [run, pos, n_in, n_carried, n_scan, has_trip, has_cond, scan_dtype, where](KernelIO& io) {
    const int64_t trips = has_trip ? io.in[0]->data<int64_t>()[0] : std::numeric_limits<int64_t>::max();
    bool cond = has_cond ? io.in[1]->data<uint8_t>()[0] != 0 : true;
    const std::vector<const Tensor*> outer = outer_values(io, n_in, pos);
    std::vector<Tensor> carried(n_carried), outs;
    for (size_t k = 0; k < n_carried; ++k) carried[k] = *io.in[2 + k];
    std::vector<std::vector<Tensor>> scans(n_scan);
    uint64_t scan_bytes = 0;
    std::vector<const Tensor*> inputs(2 + n_carried);
    for (int64_t i = 0; i < trips && cond; ++i) {
      Tensor iter(DType::Int64, {}), cond_t(DType::Bool, {});  // fresh: the body may pass them on
      iter.data<int64_t>()[0] = i;
      cond_t.data<uint8_t>()[0] = 1;
      inputs[0] = &iter;
      inputs[1] = &cond_t;
      for (size_t k = 0; k < n_carried; ++k) inputs[2 + k] = &carried[k];
      outs.assign(1 + n_carried + n_scan, Tensor());
      run->run(inputs, outer, outs);
      if (has_cond) {
        if (outs[0].dtype() != DType::Bool || outs[0].numel() != 1)
          throw Error(ErrorCode::InvalidModel, where + ": the body's condition output must be one bool, got " +
                                                   dtype_name(outs[0].dtype()) + shape_str(outs[0].shape()));
        cond = outs[0].data<uint8_t>()[0] != 0;
      }
      for (size_t k = 0; k < n_carried; ++k) carried[k] = std::move(outs[1 + k]);
      for (size_t k = 0; k < n_scan; ++k) {
        Tensor& s = outs[1 + n_carried + k];
        if (!scans[k].empty() && (s.shape() != scans[k][0].shape() || s.dtype() != scans[k][0].dtype()))
          throw Error(ErrorCode::InvalidModel, where + ": scan output " + std::to_string(k) + " is " +
                                                   dtype_name(s.dtype()) + shape_str(s.shape()) + " in iteration " +
                                                   std::to_string(i) + " but " + dtype_name(scans[k][0].dtype()) +
                                                   shape_str(scans[k][0].shape()) + " before");
        scan_bytes += s.nbytes();
        if (scan_bytes > max_tensor_bytes())
          throw Error(ErrorCode::InvalidArgument, where + ": the scan outputs grow past the limit of " +
                                                      std::to_string(max_tensor_bytes()) + " bytes after " +
                                                      std::to_string(i + 1) + " iterations");
        scans[k].push_back(std::move(s));
      }
    }
    for (size_t k = 0; k < io.out.size(); ++k) {
      if (!io.out[k]) continue;
      if (k < n_carried) {
        *io.out[k] = carried[k];
      } else {
        const auto& parts = scans[k - n_carried];
        const DType dt = parts.empty() ? scan_dtype[k - n_carried] : parts[0].dtype();
        *io.out[k] =
            stack(parts, dt == DType::Undefined ? DType::Float32 : dt, parts.empty() ? Shape{} : parts[0].shape());
      }
    }
  };
}

}  // namespace

void register_control_flow_ops(OpRegistry& r) {
  r.add("", "If", {1, 11, 13, 16, 19, 21, 23}, plan_if);
  r.add("", "Loop", {1, 11, 13, 16, 19, 21, 23}, plan_loop);
}

}  // namespace normrt
