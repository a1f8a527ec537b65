// Conv and ConvTranspose (float32; 1-D, 2-D and 3-D; groups; pads, auto_pad,
// strides, dilations); ai.normrt Conv is Conv [+ Z] + Relu/Clip (clip_min,
// clip_max; Z an optional residual input 3, from the optimizer's Conv → Add):
//   y[n, m, o] = clamp(b[m] + Σ_{c in group, k} w[m, c, k] · x[n, g·cg + c, o·s − pb + k·d] (+ Z[n, m, o]))
// (conv_reference.h is that formula as a plain loop). plan_conv checks the
// node, asks choose_conv_path (conv_path.cpp) for the path and has the path's
// file build the kernel (conv_paths.h); the path's name is the node's detail.
// Z of y's shape is added by the path before the clamp (one pass with the
// rest); a Z that broadcasts takes one more pass over y. ConvTranspose:
// conv_transpose.cpp. Batches and groups run in order; packing, GEMM and
// planes split over threads.
#include <cmath>
#include <string>

#include "../broadcast.h"
#include "../parallel.h"
#include "../scratch.h"
#include "conv_paths.h"

namespace normrt {

namespace conv {
namespace {

// The chosen path's kernel, writing y = clamp(conv + Z).
void plan_conv_path(PlanCtx& c, const Window& w, const ConvShape& cs, const ConvOutput& out) {
  const ConvChoice choice = choose_conv_path(w, cs, constant_weights(c) != nullptr, *c.kernels);
  c.detail = conv_path_name(choice.path);
  switch (choice.path) {
    case ConvPath::depthwise_planes:
    case ConvPath::depthwise_3x3s2:
    case ConvPath::depthwise_3x3s1:
      return plan_depthwise_planes(c, w, cs, out, choice);
    case ConvPath::depthwise_flat:
      return plan_depthwise_flat(c, w, cs, out, choice);
    case ConvPath::depthwise_channels_last:
      return plan_depthwise_channels_last(c, w, cs, out, choice);
    case ConvPath::winograd:
      return plan_conv_winograd(c, w, cs, out, choice);
    case ConvPath::direct_rows:
      return plan_conv_direct_rows(c, w, cs, out, choice);
    case ConvPath::taps:
      return plan_conv_taps(c, w, cs, out, choice);
    case ConvPath::indirect_columns:
      return plan_conv_indirect_columns(c, w, cs, out, choice);
    case ConvPath::indirect_rows:
    case ConvPath::pointwise_a:
      return plan_conv_indirect_rows(c, w, cs, out, choice);
    case ConvPath::pointwise_b:
      return plan_conv_pointwise_b(c, w, cs, out, choice);
    case ConvPath::im2col:
    case ConvPath::im2col_transposed:
      return plan_conv_im2col(c, w, cs, out, choice);
    case ConvPath::col2im:
      break;
  }
  c.fail(std::string("no Conv kernel for path ") + conv_path_name(choice.path));
}

// Conv, and ai.normrt Conv (the optimizer's Conv → [Add Z] → [Relu | Clip],
// with clip_min/clip_max and an optional input 3, Z).
void plan_conv(PlanCtx& c) {
  const bool fused = c.node.domain == "ai.normrt";
  c.require_inputs(2, fused ? 4 : 3);
  check_float_inputs(c);
  const Shape& X = c.input(0).shape;
  const Shape& W = c.input(1).shape;
  if (X.size() < 3 || W.size() != X.size()) c.fail("X must be [N, C, spatial...] and W [M, C/group, kernel...]");
  const int64_t G = c.node.attr_int("group", 1);
  const ConvShape cs{X[0], X[1], W[0], G};
  if (G < 1 || cs.C % G != 0 || cs.M % G != 0 || W[1] != cs.C / G)
    c.fail("channels do not match: X " + shape_str(X) + ", W " + shape_str(W) + ", group " + std::to_string(G));
  if (c.has_input(2) && c.input(2).shape != Shape{cs.M}) c.fail("B must have shape [" + std::to_string(cs.M) + "]");
  const Window w = conv_window(c, Shape(X.begin() + 2, X.end()), kernel_extent(c, W), false);
  Shape conv_shape{cs.N, cs.M};
  for (int64_t v : w.out_dims()) conv_shape.push_back(v);
  ConvOutput out;
  out.lo = fused ? c.node.attr_float("clip_min", -INFINITY) : -INFINITY;
  out.hi = fused ? c.node.attr_float("clip_max", INFINITY) : INFINITY;
  const bool has_z = fused && c.has_input(3);
  if (has_z && c.input(3).dtype != DType::Float32) c.fail("Z must be float32 like X");
  if (!has_z || c.input(3).shape == conv_shape) {
    out.residual = has_z;
    c.set_output(0, DType::Float32, conv_shape);
    plan_conv_path(c, w, cs, out);
    return;
  }
  // Z broadcasts (Add's rules): the convolution is written plain (into scratch
  // when the sum is larger than it), then y = clamp(conv + Z) in one more pass.
  Shape y_shape;
  if (!broadcast_shapes(conv_shape, c.input(3).shape, &y_shape))
    c.fail("Z " + shape_str(c.input(3).shape) + " does not broadcast with the convolution's " + shape_str(conv_shape));
  c.set_output(0, DType::Float32, y_shape);
  plan_conv_path(c, w, cs, ConvOutput{});
  const bool larger = y_shape != conv_shape;
  const int64_t conv_numel = shape_numel(conv_shape);
  c.kernel = [plain = std::move(c.kernel), conv_shape, larger, conv_numel, lo = out.lo, hi = out.hi](KernelIO& io) {
    Tensor& y = *io.out[0];
    Scratch<float> tmp(larger ? static_cast<size_t>(conv_numel) : 0);
    Tensor conv_out;
    if (larger) {
      conv_out.rebind(tmp.data(), DType::Float32, conv_shape);
      io.out[0] = &conv_out;
    }
    plain(io);
    io.out[0] = &y;
    broadcast_binary<float, float, float>(
        larger ? conv_out : y, *io.in[3], y,
        [lo, hi](float a, float z) {
          float v = a + z;
          v = v < lo ? lo : v;
          return v > hi ? hi : v;
        },
        [](int64_t rows, int64_t work, auto&& body) { parallel_rows(rows, work, body); });
  };
}

}  // namespace
}  // namespace conv

void register_conv_ops(OpRegistry& r) {
  r.add("", "Conv", {1, 11, 22}, conv::plan_conv);
  r.add("", "ConvTranspose", {1, 11, 22}, conv::plan_conv_transpose);
  r.add("ai.normrt", "Conv", {1}, conv::plan_conv);  // Conv [+ Z, input 3] + Relu/Clip (clip_min, clip_max)
}

}  // namespace normrt
