// RMSNorm fusion: the decomposition of T5/LLaMA-style exports,
//   S = Sqrt(Add(ReduceMean(Pow(X, 2), axes), eps))      axes: the last k, keepdims
//   Y = Mul(Div(X, S) | Mul(X, Reciprocal(S)), scale)     scale a constant over the normalized dims
// becomes ai.normrt RMSNormalization(X, scale; axis = -k, epsilon = eps).
#include "optimizer.h"

namespace normrt {

int fuse_rms_norm(Graph& g) {
  int fused = 0;
  bool changed = true;
  while (changed) {
    changed = false;
    GraphIndex ix(g);
    for (size_t pi = 0; pi < g.nodes.size() && !changed; ++pi) {
      const Node& pw = g.nodes[pi];
      double e;
      if (!is_onnx_op(g, static_cast<int>(pi), "Pow") || !constant_scalar(g, ix, pw.inputs[1], &e) || e != 2.0)
        continue;
      const std::string X = pw.inputs[0];
      const int rm = sole_consumer(ix, pw.outputs[0]);
      if (!is_onnx_op(g, rm, "ReduceMean")) continue;
      const int k = trailing_axes(reduce_mean_axes(g, ix, g.nodes[static_cast<size_t>(rm)]));
      if (!k) continue;
      const int add = sole_consumer(ix, g.nodes[static_cast<size_t>(rm)].outputs[0]);
      double eps;
      if (!is_onnx_op(g, add, "Add") ||
          !constant_scalar(g, ix,
                           other_input(g.nodes[static_cast<size_t>(add)], g.nodes[static_cast<size_t>(rm)].outputs[0]),
                           &eps) ||
          !(eps >= 0))
        continue;
      const int sq = sole_consumer(ix, g.nodes[static_cast<size_t>(add)].outputs[0]);
      if (!is_onnx_op(g, sq, "Sqrt")) continue;
      const std::string& s_out = g.nodes[static_cast<size_t>(sq)].outputs[0];
      int div = sole_consumer(ix, s_out), recip = -1;
      if (is_onnx_op(g, div, "Reciprocal")) {
        recip = div;
        div = sole_consumer(ix, g.nodes[static_cast<size_t>(recip)].outputs[0]);
        if (!is_onnx_op(g, div, "Mul") ||
            other_input(g.nodes[static_cast<size_t>(div)], g.nodes[static_cast<size_t>(recip)].outputs[0]) != X)
          continue;
      } else if (!is_onnx_op(g, div, "Div") || g.nodes[static_cast<size_t>(div)].inputs[0] != X ||
                 g.nodes[static_cast<size_t>(div)].inputs[1] != s_out) {
        continue;
      }
      const int mul = sole_consumer(ix, g.nodes[static_cast<size_t>(div)].outputs[0]);
      if (!is_onnx_op(g, mul, "Mul")) continue;
      const std::string scale =
          other_input(g.nodes[static_cast<size_t>(mul)], g.nodes[static_cast<size_t>(div)].outputs[0]);
      const Tensor* st = constant_tensor(g, ix, scale);
      if (!st || !dtype_is_float(st->dtype()) || st->rank() > k) continue;
      std::vector<int> pattern = {static_cast<int>(pi), rm, add, sq, div, mul};
      if (recip >= 0) pattern.push_back(recip);
      const int64_t axis = -k;
      replace_with_fused(g, pattern,
                         normrt_node("RMSNormalization", pw.name, {X, scale},
                                     {g.nodes[static_cast<size_t>(mul)].outputs[0]}, &axis, static_cast<float>(eps)));
      ++fused;
      changed = true;
    }
  }
  return fused;
}

}  // namespace normrt
