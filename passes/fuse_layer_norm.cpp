// LayerNorm fusion: the decomposition exporters emit below opset 17,
//   mean = ReduceMean(X, axes)            axes: the last k axes, keepdims
//   D    = Sub(X, mean)                   (one Sub read twice, or two identical Subs)
//   V    = ReduceMean(Pow(D, 2) | Mul(D, D) [→ Cast], axes)
//   S    = Sqrt(Add(V, eps)) [→ Cast]     eps a constant scalar; Casts between float types
//                                         (mixed-precision statistics) are absorbed
//   N    = Div(D, S) | Mul(D, Reciprocal(S))
//   Y    = Add(Mul(N, scale), bias)       scale, bias constants over the normalized dims (both optional)
// becomes LayerNormalization(X, scale, bias; axis = -k, epsilon = eps), or
// LayerNormSimple (no gain, no bias) when there is no scale, in ai.normrt.
// Nothing is fused when an intermediate has another reader, is a graph
// output, or the constants do not fit.
#include <algorithm>

#include "optimizer.h"

namespace normrt {

namespace {

bool is_onnx_op_node(const Node& n, const char* op) { return n.domain.empty() && n.op_type == op; }

// A float constant that broadcasts over the last k dims only.
bool fits_normalized_dims(const Tensor* t, int k) {
  if (!t || !dtype_is_float(t->dtype())) return false;
  const int extra = t->rank() - k;
  for (int i = 0; i < extra; ++i)
    if (t->shape()[static_cast<size_t>(i)] != 1) return false;
  return true;
}

// A Cast between float types (float, float16, double) that is `value`'s only
// reader: mixed-precision exports compute the statistics in another float
// type. The fused kernel keeps float32 (or float64) statistics anyway.
int float_cast_after(const Graph& g, const GraphIndex& ix, const std::string& value) {
  const int c = sole_consumer(ix, value);
  if (c < 0 || !is_onnx_op_node(g.nodes[static_cast<size_t>(c)], "Cast")) return -1;
  int64_t to = 0;
  try {
    to = g.nodes[static_cast<size_t>(c)].attr_int("to", 0);
  } catch (const Error&) {
    return -1;
  }
  return to == 1 || to == 10 || to == 11 ? c : -1;
}

}  // namespace

int fuse_layer_norm(Graph& g) {
  int fused = 0;
  bool changed = true;
  while (changed) {  // one fusion per sweep: indices shift after each rewrite
    changed = false;
    GraphIndex ix(g);
    for (size_t mi = 0; mi < g.nodes.size() && !changed; ++mi) {
      const Node& mean = g.nodes[mi];
      if (!is_onnx_op_node(mean, "ReduceMean") || mean.inputs.empty()) continue;
      const int k = trailing_axes(reduce_mean_axes(g, ix, mean));
      if (!k) continue;
      const std::string X = mean.inputs[0];
      const std::string& mean_out = mean.outputs[0];
      // D = Sub(X, mean): one Sub read by the square and the division, or two Subs.
      std::vector<int> subs;
      for (int c : ix.consumers.count(mean_out) ? ix.consumers.at(mean_out) : std::vector<int>{}) {
        const Node& s = g.nodes[static_cast<size_t>(c)];
        if (is_onnx_op_node(s, "Sub") && s.inputs.size() == 2 && s.inputs[0] == X && s.inputs[1] == mean_out)
          subs.push_back(c);
      }
      if (subs.empty() || subs.size() > 2 || ix.uses(mean_out) != static_cast<int>(subs.size())) continue;
      // Find the square among the Subs' readers.
      int sq = -1, sq_sub = -1;
      for (int s : subs) {
        const std::string& d = g.nodes[static_cast<size_t>(s)].outputs[0];
        for (int c : ix.consumers.count(d) ? ix.consumers.at(d) : std::vector<int>{}) {
          const Node& n = g.nodes[static_cast<size_t>(c)];
          double e;
          if ((is_onnx_op_node(n, "Pow") && n.inputs[0] == d && constant_scalar(g, ix, n.inputs[1], &e) && e == 2.0) ||
              (is_onnx_op_node(n, "Mul") && n.inputs.size() == 2 && n.inputs[0] == d && n.inputs[1] == d)) {
            sq = c;
            sq_sub = s;
          }
        }
      }
      if (sq < 0) continue;
      std::vector<int> casts;  // optional float Casts inside the statistics
      std::string sq_out = g.nodes[static_cast<size_t>(sq)].outputs[0];
      if (const int c = float_cast_after(g, ix, sq_out); c >= 0) {
        casts.push_back(c);
        sq_out = g.nodes[static_cast<size_t>(c)].outputs[0];
      }
      const int var = sole_consumer(ix, sq_out);
      if (var < 0 || !is_onnx_op_node(g.nodes[static_cast<size_t>(var)], "ReduceMean") ||
          trailing_axes(reduce_mean_axes(g, ix, g.nodes[static_cast<size_t>(var)])) != k)
        continue;
      const int add = sole_consumer(ix, g.nodes[static_cast<size_t>(var)].outputs[0]);
      if (add < 0 || !is_onnx_op_node(g.nodes[static_cast<size_t>(add)], "Add")) continue;
      double eps;
      if (!constant_scalar(g, ix,
                           other_input(g.nodes[static_cast<size_t>(add)], g.nodes[static_cast<size_t>(var)].outputs[0]),
                           &eps) ||
          !(eps >= 0))
        continue;
      const int sqrt_n = sole_consumer(ix, g.nodes[static_cast<size_t>(add)].outputs[0]);
      if (sqrt_n < 0 || !is_onnx_op_node(g.nodes[static_cast<size_t>(sqrt_n)], "Sqrt")) continue;
      std::string std_out = g.nodes[static_cast<size_t>(sqrt_n)].outputs[0];
      if (const int c = float_cast_after(g, ix, std_out); c >= 0) {
        casts.push_back(c);
        std_out = g.nodes[static_cast<size_t>(c)].outputs[0];
      }
      // N = Div(D, S) or Mul(D, Reciprocal(S)), D from the same or the other Sub.
      int div = sole_consumer(ix, std_out), recip = -1;
      if (div < 0) continue;
      if (is_onnx_op_node(g.nodes[static_cast<size_t>(div)], "Reciprocal")) {
        recip = div;
        div = sole_consumer(ix, g.nodes[static_cast<size_t>(recip)].outputs[0]);
        if (div < 0 || !is_onnx_op_node(g.nodes[static_cast<size_t>(div)], "Mul")) continue;
      } else if (!is_onnx_op_node(g.nodes[static_cast<size_t>(div)], "Div") ||
                 g.nodes[static_cast<size_t>(div)].inputs[1] != std_out) {
        continue;
      }
      const Node& dn = g.nodes[static_cast<size_t>(div)];
      const std::string numer =
          recip >= 0 ? other_input(dn, g.nodes[static_cast<size_t>(recip)].outputs[0]) : dn.inputs[0];
      int num_sub = -1;
      for (int s : subs)
        if (g.nodes[static_cast<size_t>(s)].outputs[0] == numer) num_sub = s;
      if (num_sub < 0) continue;
      // Every intermediate is read only inside the pattern.
      const std::string& d_sq = g.nodes[static_cast<size_t>(sq_sub)].outputs[0];
      const int sq_reads = g.nodes[static_cast<size_t>(sq)].op_type == "Mul" ? 2 : 1;
      const int d_uses_expected = sq_reads + (sq_sub == num_sub ? 1 : 0);
      if (ix.uses(d_sq) != d_uses_expected) continue;
      if (num_sub != sq_sub && ix.uses(numer) != 1) continue;
      // Optional Mul(scale) then Add(bias).
      std::vector<int> pattern = subs;
      for (int n : {static_cast<int>(mi), sq, var, add, sqrt_n, div}) pattern.push_back(n);
      if (recip >= 0) pattern.push_back(recip);
      pattern.insert(pattern.end(), casts.begin(), casts.end());
      std::string out = dn.outputs[0], scale, bias;
      const int mul = sole_consumer(ix, out);
      if (mul >= 0 && is_onnx_op_node(g.nodes[static_cast<size_t>(mul)], "Mul")) {
        const std::string s = other_input(g.nodes[static_cast<size_t>(mul)], out);
        if (fits_normalized_dims(constant_tensor(g, ix, s), k)) {
          scale = s;
          pattern.push_back(mul);
          out = g.nodes[static_cast<size_t>(mul)].outputs[0];
          const int badd = sole_consumer(ix, out);
          if (badd >= 0 && is_onnx_op_node(g.nodes[static_cast<size_t>(badd)], "Add")) {
            const std::string b = other_input(g.nodes[static_cast<size_t>(badd)], out);
            if (fits_normalized_dims(constant_tensor(g, ix, b), k)) {
              bias = b;
              pattern.push_back(badd);
              out = g.nodes[static_cast<size_t>(badd)].outputs[0];
            }
          }
        }
      }
      const int64_t axis = -k;
      replace_with_fused(
          g, pattern,
          normrt_node(scale.empty() ? "LayerNormSimple" : "LayerNormalization", mean.name,
                      bias.empty() ? (scale.empty() ? std::vector<std::string>{X} : std::vector<std::string>{X, scale})
                                   : std::vector<std::string>{X, scale, bias},
                      {out}, &axis, static_cast<float>(eps)));
      ++fused;
      changed = true;
    }
  }
  return fused;
}

}  // namespace normrt
