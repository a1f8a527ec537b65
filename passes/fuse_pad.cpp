// Pad by zeros folded into the Conv or AveragePool that reads it (exporters
// write avg_pool2d(padding, count_include_pad) and TensorFlow's explicit
// padding this way): Pad(x, constant 0, spatial pads p) → Conv(x; pads + p),
// or AveragePool(x; pads = p, count_include_pad = 1) when the pool had no pads
// of its own or already counted them (and no ceil_mode). One pass over x instead of two (the
// padded copy written, then read). The Pad must pad only the spatial axes, by
// non-negative amounts, and have the Conv/AveragePool (auto_pad NOTSET) as
// its only reader.
#include <algorithm>

#include "optimizer.h"

namespace normrt {

namespace {

Attribute ints_attr(std::vector<int64_t> v) {
  Attribute a;
  a.kind = Attribute::Kind::Ints;
  a.ints = std::move(v);
  return a;
}

// A constant-zero Pad's pads ([begins..., ends...] over all axes), or empty.
std::vector<int64_t> zero_pads(const Graph& g, const GraphIndex& ix, const Node& pad) {
  try {  // a malformed node is left for planning to report
    if (pad.attr_string("mode", "constant") != "constant") return {};
    if (g.opset_for("") < 11 && pad.attr_float("value", 0.f) != 0.f) return {};
  } catch (const Error&) {
    return {};
  }
  if (pad.inputs.size() > 3) return {};  // pads of some axes only (input 3)
  double value = 0;
  if (pad.inputs.size() == 3 && !pad.inputs[2].empty() &&
      (!constant_scalar(g, ix, pad.inputs[2], &value) || value != 0.0))
    return {};
  return constant_pads(g, ix, pad);
}

bool fuse_one(Graph& g) {
  GraphIndex ix(g);
  for (size_t pi = 0; pi < g.nodes.size(); ++pi) {
    const Node& pad = g.nodes[pi];
    if (!is_onnx_op(g, static_cast<int>(pi), "Pad") || pad.outputs.size() != 1 || pad.inputs.empty()) continue;
    const int ci = sole_consumer(ix, pad.outputs[0]);
    if (ci < 0) continue;
    const Node& reader = g.nodes[static_cast<size_t>(ci)];
    const bool conv = reader.op_type == "Conv" && (reader.domain.empty() || reader.domain == "ai.normrt");
    const bool pool = is_onnx_op(g, ci, "AveragePool");
    if ((!conv && !pool) || reader.inputs.empty() || reader.inputs[0] != pad.outputs[0]) continue;
    if (reader.attr_string("auto_pad", "NOTSET") != "NOTSET") continue;
    const std::vector<int64_t> p = zero_pads(g, ix, pad);
    const size_t rank = p.size() / 2;
    if (rank < 3 || p.size() % 2 || p[0] || p[1] || p[rank] || p[rank + 1]) continue;  // N and C unpadded
    if (std::any_of(p.begin(), p.end(), [](int64_t v) { return v < 0; })) continue;
    const size_t spatial = rank - 2;
    std::vector<int64_t> pads = reader.attr_ints("pads");
    if (pads.empty()) pads.assign(2 * spatial, 0);
    if (pads.size() != 2 * spatial) continue;
    const bool own_pads = std::any_of(pads.begin(), pads.end(), [](int64_t v) { return v != 0; });
    if (pool && own_pads && reader.attr_int("count_include_pad", 0) == 0) continue;  // its pads are not counted
    // (ceil_mode drops a last window that starts in the end padding: the Pad's zeros would become padding)
    if (pool && reader.attr_int("ceil_mode", 0) != 0) continue;
    for (size_t a = 0; a < spatial; ++a) {
      pads[a] += p[2 + a];
      pads[spatial + a] += p[rank + 2 + a];
    }
    Node f = reader;
    f.inputs[0] = pad.inputs[0];
    f.attrs["pads"] = ints_attr(pads);
    if (pool) f.attrs["count_include_pad"] = int_attr(1);
    f.name = reader.name + "/fused_Pad";
    replace_with_fused(g, {static_cast<int>(pi), ci}, std::move(f));
    return true;
  }
  return false;
}

}  // namespace

int fuse_pad(Graph& g) {
  int fused = 0;
  while (fuse_one(g)) ++fused;
  return fused;
}

}  // namespace normrt
