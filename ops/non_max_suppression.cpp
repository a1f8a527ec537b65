// NonMaxSuppression (10, 11): per batch b and class c, the boxes with score >
// score_threshold, highest score first (lower index first among equals), are
// taken greedily unless their IoU with a box already taken exceeds
// iou_threshold, up to max_output_boxes_per_class; output rows (b, c, box)
// in that order. Boxes are [y1, x1, y2, x2] (any two opposite corners) or,
// with center_point_box = 1, [x_center, y_center, width, height].
// The number of rows depends on the data: the kernel allocates the output.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "op.h"

namespace normrt {

namespace {

struct Box {
  float y1, x1, y2, x2;  // min and max corners
};

Box corners(const float* b, bool center) {
  if (center) {
    const float hw = b[2] / 2, hh = b[3] / 2;
    return {b[1] - hh, b[0] - hw, b[1] + hh, b[0] + hw};
  }
  return {std::min(b[0], b[2]), std::min(b[1], b[3]), std::max(b[0], b[2]), std::max(b[1], b[3])};
}

bool overlaps(const Box& a, const Box& b, float iou_threshold) {
  const float ih = std::min(a.y2, b.y2) - std::max(a.y1, b.y1);
  const float iw = std::min(a.x2, b.x2) - std::max(a.x1, b.x1);
  if (ih <= 0 || iw <= 0) return false;
  const float inter = ih * iw;
  const float uni = (a.y2 - a.y1) * (a.x2 - a.x1) + (b.y2 - b.y1) * (b.x2 - b.x1) - inter;
  if (uni <= 0) return false;
  return inter / uni > iou_threshold;
}

Tensor nms(const Tensor& boxes, const Tensor& scores, int64_t max_per_class, float iou, bool has_score_thr,
           float score_thr, bool center) {
  const int64_t batches = boxes.dim(0), n = boxes.dim(1), classes = scores.dim(1);
  std::vector<int64_t> rows;
  if (max_per_class > 0) {
    std::vector<int64_t> cand;
    std::vector<Box> taken;
    for (int64_t b = 0; b < batches; ++b) {
      const float* bx = boxes.data<float>() + b * n * 4;
      for (int64_t c = 0; c < classes; ++c) {
        const float* sc = scores.data<float>() + (b * classes + c) * n;
        cand.clear();
        for (int64_t i = 0; i < n; ++i)
          if (!has_score_thr || sc[i] > score_thr) cand.push_back(i);
        std::stable_sort(cand.begin(), cand.end(), [&](int64_t a, int64_t z) { return sc[a] > sc[z]; });
        taken.clear();
        for (int64_t i : cand) {
          if (static_cast<int64_t>(taken.size()) >= max_per_class) break;
          const Box box = corners(bx + i * 4, center);
          bool keep = true;
          for (const Box& t : taken) keep = keep && !overlaps(box, t, iou);
          if (!keep) continue;
          taken.push_back(box);
          rows.insert(rows.end(), {b, c, i});
        }
      }
    }
  }
  Tensor y = Tensor::uninitialized(DType::Int64, {static_cast<int64_t>(rows.size() / 3), 3});
  std::copy(rows.begin(), rows.end(), y.data<int64_t>());
  return y;
}

float scalar_float(const Tensor* t, float fallback) {
  if (!t) return fallback;
  if (t->numel() != 1 || t->dtype() != DType::Float32)
    throw Error(ErrorCode::InvalidArgument, "NonMaxSuppression thresholds must be one float32");
  return t->data<float>()[0];
}

void plan_nms(PlanCtx& c) {
  c.require_inputs(2, 5);
  c.require_dtype(0, {DType::Float32});
  c.require_dtype(1, {DType::Float32});
  const Shape& bs = c.input(0).shape;
  const Shape& ss = c.input(1).shape;
  if (bs.size() != 3 || bs[2] != 4) c.fail("boxes must be [batches, boxes, 4], got " + shape_str(bs));
  if (ss.size() != 3 || ss[0] != bs[0] || ss[2] != bs[1])
    c.fail("scores must be [batches, classes, boxes] = [" + std::to_string(bs[0]) + ", C, " + std::to_string(bs[1]) +
           "], got " + shape_str(ss));
  if (c.has_input(2)) {
    c.require_dtype(2, {DType::Int64});
    if (shape_numel(c.input(2).shape) != 1) c.fail("max_output_boxes_per_class must be a scalar");
  }
  for (size_t i = 3; i < 5; ++i)
    if (c.has_input(i)) {
      c.require_dtype(i, {DType::Float32});
      if (shape_numel(c.input(i).shape) != 1) c.fail("the thresholds must be scalars");
    }
  const int64_t box_format = c.node.attr_int("center_point_box", 0);
  if (box_format != 0 && box_format != 1) c.fail("center_point_box must be 0 or 1");
  const bool center = box_format == 1;
  auto compute = [center](const std::vector<const Tensor*>& in) {
    const Tensor* max_t = in.size() > 2 ? in[2] : nullptr;
    const int64_t max_per_class = max_t ? max_t->data<int64_t>()[0] : 0;
    const float iou = scalar_float(in.size() > 3 ? in[3] : nullptr, 0.f);
    const Tensor* thr = in.size() > 4 ? in[4] : nullptr;
    return nms(*in[0], *in[1], max_per_class, iou, thr != nullptr, scalar_float(thr, 0.f), center);
  };
  bool known = true;
  std::vector<const Tensor*> values;
  for (size_t i = 0; i < c.in.size(); ++i) {
    values.push_back(c.has_input(i) ? c.in[i].value : nullptr);
    known = known && (!c.has_input(i) || c.in[i].value);
  }
  if (known) return c.set_output_value(0, compute(values));
  c.output_shapes_at_run_time();
  c.out[0].dtype = DType::Int64;
  c.kernel = [compute](KernelIO& io) { *io.out[0] = compute(io.in); };
}

}  // namespace

void register_nms_ops(OpRegistry& r) { r.add("", "NonMaxSuppression", {10, 11}, plan_nms); }

}  // namespace normrt
