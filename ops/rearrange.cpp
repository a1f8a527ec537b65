// Rearrangements that move elements without computing, for every dtype:
//   DepthToSpace [N, C, H, W] → [N, C/b², H·b, W·b]:
//     DCR: y[n, c, h·b + i, w·b + j] = x[n, (i·b + j)·C/b² + c, h, w]
//     CRD: y[n, c, h·b + i, w·b + j] = x[n, c·b² + i·b + j, h, w]
//   SpaceToDepth [N, C, H, W] → [N, C·b², H/b, W/b]:
//     y[n, (i·b + j)·C + c, h, w] = x[n, c, h·b + i, w·b + j]
//   ReverseSequence: along time_axis, the first sequence_lens[b] steps of
//     batch entry b reversed, the rest copied.
// Each writes the output once in order (ReverseSequence: one copy per time step).
#include <cstring>

#include "dispatch.h"
#include "op.h"

namespace normrt {

namespace {

// ---- DepthToSpace / SpaceToDepth ------------------------------------------------

enum class Layout { DCR, CRD, SpaceToDepth };

// The [N, C, H, W] input checks and the block size.
int64_t plan_block(PlanCtx& c) {
  c.require_inputs(1, 1);
  if (c.input(0).shape.size() != 4) c.fail("input must be 4-D [N, C, H, W], got " + shape_str(c.input(0).shape));
  if (!c.node.has_attr("blocksize")) c.fail("attribute blocksize is required");
  const int64_t b = c.node.attr_int("blocksize", 0);
  if (b <= 0) c.fail("blocksize must be > 0, got " + std::to_string(b));
  return b;
}

// The element of x each element of y reads, y walked in order: y [N, Cy, Hy, Wy], x [N, Cx, Hx, Wx].
template <class E>
void rearrange_blocks(const E* x, E* y, const Shape& xs, const Shape& ys, int64_t b, Layout layout) {
  const int64_t N = ys[0], Cy = ys[1], Hy = ys[2], Wy = ys[3];
  const int64_t Cx = xs[1], Hx = xs[2], Wx = xs[3];
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < Cy; ++c)
      for (int64_t oh = 0; oh < Hy; ++oh) {
        E* yr = y + ((n * Cy + c) * Hy + oh) * Wy;
        if (layout == Layout::SpaceToDepth) {  // c = (i·b + j)·Cx + cx
          const int64_t cx = c % Cx, ij = c / Cx, i = ij / b, j = ij % b;
          const E* xr = x + ((n * Cx + cx) * Hx + oh * b + i) * Wx + j;
          for (int64_t w = 0; w < Wy; ++w) yr[w] = xr[w * b];
          continue;
        }
        const int64_t h = oh / b, i = oh % b;
        for (int64_t ow = 0; ow < Wy; ++ow) {
          const int64_t w = ow / b, j = ow % b;
          const int64_t cx = layout == Layout::DCR ? (i * b + j) * Cy + c : (c * b + i) * b + j;
          yr[ow] = x[((n * Cx + cx) * Hx + h) * Wx + w];
        }
      }
}

void plan_rearrange(PlanCtx& c, Layout layout) {
  const int64_t b = plan_block(c);
  const Shape& in = c.input(0).shape;
  const int64_t bb = checked_mul(c, b, b, "blocksize²");
  Shape out;
  if (layout == Layout::SpaceToDepth) {
    if (in[2] % b != 0 || in[3] % b != 0)
      c.fail("blocksize " + std::to_string(b) + " does not divide H and W of " + shape_str(in));
    out = {in[0], checked_mul(c, in[1], bb, "output channels"), in[2] / b, in[3] / b};
  } else {
    if (in[1] % bb != 0) c.fail("blocksize² = " + std::to_string(bb) + " does not divide C of " + shape_str(in));
    out = {in[0], in[1] / bb, checked_mul(c, in[2], b, "output height"), checked_mul(c, in[3], b, "output width")};
  }
  c.set_output(0, c.input(0).dtype, out);
  const size_t es = dtype_size(c.input(0).dtype);
  c.kernel = [=](KernelIO& io) {
    if (io.out[0]->numel() == 0) return;
    by_element_size(es, [&](auto tag) {
      using E = decltype(tag);
      rearrange_blocks<E>(static_cast<const E*>(io.in[0]->raw()), static_cast<E*>(io.out[0]->raw()), in, out, b,
                          layout);
    });
  };
}

void plan_depth_to_space(PlanCtx& c) {
  const std::string mode = c.version >= 11 ? c.node.attr_string("mode", "DCR") : "DCR";
  if (mode != "DCR" && mode != "CRD") c.fail("mode '" + mode + "' is not DCR or CRD");
  plan_rearrange(c, mode == "DCR" ? Layout::DCR : Layout::CRD);
}

void plan_space_to_depth(PlanCtx& c) { plan_rearrange(c, Layout::SpaceToDepth); }

// ---- ReverseSequence ------------------------------------------------------------

void plan_reverse_sequence(PlanCtx& c) {
  c.require_inputs(2, 2);
  c.require_dtype(1, {DType::Int64, DType::Int32});
  const Shape& in = c.input(0).shape;
  if (in.size() < 2) c.fail("input must have rank >= 2, got " + shape_str(in));
  const int64_t batch_axis = c.node.attr_int("batch_axis", 1), time_axis = c.node.attr_int("time_axis", 0);
  if (!((batch_axis == 0 && time_axis == 1) || (batch_axis == 1 && time_axis == 0)))
    c.fail("batch_axis and time_axis must be 0 and 1 in some order, got " + std::to_string(batch_axis) + " and " +
           std::to_string(time_axis));
  const int64_t B = in[static_cast<size_t>(batch_axis)], T = in[static_cast<size_t>(time_axis)];
  if (c.input(1).shape != Shape{B}) c.fail("sequence_lens must have shape [" + std::to_string(B) + "]");
  c.set_output(0, c.input(0).dtype, in);
  int64_t rest = 1;
  for (size_t d = 2; d < in.size(); ++d) rest = checked_mul(c, rest, in[d], "the input's size");
  const size_t es = dtype_size(c.input(0).dtype);
  const std::string where = c.node.where();
  c.kernel = [=](KernelIO& io) {
    const Tensor& L = *io.in[1];
    const char* x = static_cast<const char*>(io.in[0]->raw());
    char* y = static_cast<char*>(io.out[0]->raw());
    const size_t row = static_cast<size_t>(rest) * es;
    const auto offset = [&](int64_t b, int64_t t) {
      return static_cast<size_t>(batch_axis == 0 ? b * T + t : t * B + b) * row;
    };
    for (int64_t b = 0; b < B; ++b) {
      const int64_t len = L.dtype() == DType::Int64 ? L.data<int64_t>()[b] : L.data<int32_t>()[b];
      if (len < 0 || len > T)
        throw Error(ErrorCode::InvalidArgument, where + ": sequence_lens[" + std::to_string(b) +
                                                    "] = " + std::to_string(len) + " is out of range [0, " +
                                                    std::to_string(T) + "]");
      for (int64_t t = 0; t < T; ++t) std::memcpy(y + offset(b, t), x + offset(b, t < len ? len - 1 - t : t), row);
    }
  };
}

}  // namespace

void register_rearrange_ops(OpRegistry& r) {
  r.add("", "DepthToSpace", {1, 11, 13}, plan_depth_to_space);
  r.add("", "SpaceToDepth", {1, 13}, plan_space_to_depth);
  r.add("", "ReverseSequence", {10}, plan_reverse_sequence);
}

}  // namespace normrt
