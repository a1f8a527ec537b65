// BatchNormalization (inference) folded into the Conv, ConvTranspose or Gemm
// that produces its input, when that producer has no other reader and every
// weight is a constant:
//   s = scale / √(var + ε)            (per output channel m)
//   W'[m, …] = W[m, …] · s[m]         (ConvTranspose: W[c, j, …] for m = g·M/G + j;
//                                      Gemm: column m of op(B))
//   b'[m] = (b[m] − mean[m]) · s[m] + B[m]
// The folded weights are new initializers (the originals may be shared); the
// BatchNormalization node disappears. Computed in fp64, stored as float32.
// A BatchNormalization that cannot fold but feeds Relu/Clip alone becomes one
// ai.normrt BatchNormalization that clamps as it writes (fuse_batch_norm_activation).
// The Conv epilogue fusions live here too: Conv → Add Z [→ Relu|Clip] (a
// residual connection, fuse_conv_residual) and Conv → Relu|Clip
// (fuse_conv_activation) become one ai.normrt Conv.
#include <cmath>

#include "optimizer.h"

namespace normrt {

namespace {

// A float32 initializer (not a Constant node: the folded one replaces it by name).
const Tensor* float_init(const Graph& g, const std::string& name) {
  auto it = g.initializers.find(name);
  return it != g.initializers.end() && it->second.dtype() == DType::Float32 ? &it->second : nullptr;
}

std::string fresh_name(const Graph& g, const std::string& base) {
  std::string n = base;
  for (int i = 1; g.initializers.count(n); ++i) n = base + "_" + std::to_string(i);
  return n;
}

bool fold_one(Graph& g) {
  GraphIndex ix(g);
  for (size_t bi = 0; bi < g.nodes.size(); ++bi) {
    const Node& bn = g.nodes[bi];
    if (!bn.domain.empty() || bn.op_type != "BatchNormalization" || bn.inputs.size() != 5) continue;
    if (bn.attr_int("training_mode", 0) != 0) continue;
    bool extra_outputs = false;
    for (size_t o = 1; o < bn.outputs.size(); ++o) extra_outputs = extra_outputs || !bn.outputs[o].empty();
    if (extra_outputs) continue;
    const Tensor *scale = float_init(g, bn.inputs[1]), *bias = float_init(g, bn.inputs[2]),
                 *mean = float_init(g, bn.inputs[3]), *var = float_init(g, bn.inputs[4]);
    if (!scale || !bias || !mean || !var) continue;
    const int64_t M = scale->numel();
    if (bias->numel() != M || mean->numel() != M || var->numel() != M) continue;
    const auto pit = ix.producer.find(bn.inputs[0]);
    if (pit == ix.producer.end() || sole_consumer(ix, bn.inputs[0]) != static_cast<int>(bi)) continue;
    const size_t pi = static_cast<size_t>(pit->second);
    const Node& p = g.nodes[pi];
    if (!p.domain.empty() || (p.op_type != "Conv" && p.op_type != "ConvTranspose" && p.op_type != "Gemm")) continue;
    if (p.inputs.size() < 2) continue;
    const Tensor* W = float_init(g, p.inputs[1]);
    const Tensor* b = p.inputs.size() > 2 && !p.inputs[2].empty() ? float_init(g, p.inputs[2]) : nullptr;
    if (!W || (p.inputs.size() > 2 && !p.inputs[2].empty() && !b)) continue;
    if (M == 0 || W->numel() == 0) continue;  // nothing to fold (and no per-channel division by 0)
    const double eps = bn.attr_float("epsilon", 1e-5f);
    std::vector<double> s(static_cast<size_t>(M));
    for (int64_t m = 0; m < M; ++m)
      s[m] = scale->data<float>()[m] / std::sqrt(static_cast<double>(var->data<float>()[m]) + eps);
    Tensor W2 = W->clone();
    std::vector<double> b0(static_cast<size_t>(M), 0.0);  // the producer's own bias per channel
    float* w = W2.data<float>();
    if (p.op_type == "Conv") {
      if (W->rank() < 3 || W->dim(0) != M) continue;
      const int64_t per = W->numel() / M;
      for (int64_t m = 0; m < M; ++m)
        for (int64_t i = 0; i < per; ++i) w[m * per + i] = static_cast<float>(w[m * per + i] * s[m]);
      if (b && b->numel() != M) continue;
    } else if (p.op_type == "ConvTranspose") {
      const int64_t G = p.attr_int("group", 1);
      // W->dim(1) · G == M, asked without the product (G comes from the model).
      if (W->rank() < 3 || G < 1 || M % G != 0 || W->dim(1) != M / G || W->dim(0) % G != 0) continue;
      const int64_t C = W->dim(0), mg = W->dim(1), per = W->numel() / (C * mg), cg = C / G;
      for (int64_t c = 0; c < C; ++c)
        for (int64_t j = 0; j < mg; ++j) {
          const double f = s[static_cast<size_t>((c / cg) * mg + j)];
          float* row = w + (c * mg + j) * per;
          for (int64_t i = 0; i < per; ++i) row[i] = static_cast<float>(row[i] * f);
        }
      if (b && b->numel() != M) continue;
    } else {  // Gemm: Y[:, m] = alpha·(A·op(B))[:, m] + beta·C[m]
      if (W->rank() != 2) continue;
      const bool tb = p.attr_int("transB", 0) != 0;
      const int64_t N = tb ? W->dim(0) : W->dim(1), K = tb ? W->dim(1) : W->dim(0);
      if (N != M) continue;
      for (int64_t k = 0; k < K; ++k)
        for (int64_t m = 0; m < M; ++m) {
          float& v = tb ? w[m * K + k] : w[k * M + m];
          v = static_cast<float>(v * s[m]);
        }
      const double beta = p.attr_float("beta", 1.f);
      if (b) {  // C must be one value per channel (or one value)
        if (b->numel() != M && b->numel() != 1) continue;
        if (b->numel() == M && b->rank() == 2 && b->dim(0) != 1) continue;
      }
      for (int64_t m = 0; m < M; ++m) b0[m] = b ? beta * b->data<float>()[b->numel() == 1 ? 0 : m] : 0.0;
    }
    if (p.op_type != "Gemm" && b)
      for (int64_t m = 0; m < M; ++m) b0[m] = b->data<float>()[m];
    Tensor B2(DType::Float32, {M});
    for (int64_t m = 0; m < M; ++m)
      B2.data<float>()[m] = static_cast<float>((b0[m] - mean->data<float>()[m]) * s[m] + bias->data<float>()[m]);
    const std::string wname = fresh_name(g, p.name + "/bn_folded_W"), bname = fresh_name(g, p.name + "/bn_folded_B");
    g.initializers[wname] = std::move(W2);
    g.initializers[bname] = std::move(B2);
    Node fused = p;
    fused.inputs.resize(3);
    fused.inputs[1] = wname;
    fused.inputs[2] = bname;
    fused.outputs[0] = bn.outputs[0];
    if (p.op_type == "Gemm") fused.attrs["beta"] = float_attr(1.f);
    g.nodes[pi] = std::move(fused);
    std::vector<char> dead(g.nodes.size(), 0);
    dead[bi] = 1;
    erase_nodes(g, dead);
    return true;
  }
  return false;
}

// Whether the optimizer may give node n a clamp on its output: inference BN
// with Y only, or Conv (float32: the kernel applies it in the GEMM epilogue).
bool takes_clamp(const Node& n, bool conv) {
  if (!n.domain.empty()) return false;
  if (conv) return n.op_type == "Conv";
  if (n.op_type != "BatchNormalization" || n.attr_int("training_mode", 0) != 0) return false;
  for (size_t o = 1; o < n.outputs.size(); ++o)
    if (!n.outputs[o].empty()) return false;
  return !((n.opset == 7 || n.opset == 8) && n.attr_int("spatial", 1) == 0);
}

// Whether node `act` is Relu, or Clip with constant bounds: its bounds.
bool clamp_bounds(const Graph& g, const GraphIndex& ix, const Node& act, double* lo, double* hi) {
  if (!act.domain.empty()) return false;
  if (act.op_type == "Relu") {
    *lo = 0;
    return true;
  }
  if (act.op_type != "Clip") return false;
  if (act.opset < 11) {
    *lo = act.attr_float("min", -3.402823466e38f);
    *hi = act.attr_float("max", 3.402823466e38f);
    return true;
  }
  if (act.inputs.size() > 1 && !act.inputs[1].empty() && !constant_scalar(g, ix, act.inputs[1], lo)) return false;
  if (act.inputs.size() > 2 && !act.inputs[2].empty() && !constant_scalar(g, ix, act.inputs[2], hi)) return false;
  return true;
}

void set_clamp(Node& f, double lo, double hi) {
  f.attrs["clip_min"] = float_attr(static_cast<float>(lo));
  f.attrs["clip_max"] = float_attr(static_cast<float>(hi));
}

// Conv whose sole reader is Add(Conv's y, Z) — a residual connection — and
// that Add's sole reader, if it is Relu or Clip with constant bounds →
// ai.normrt Conv(X, W, B, Z) with clip_min/clip_max: y = clamp(conv + Z) as
// the GEMM tasks write y (Z keeps Add's broadcasting; the planner checks it).
bool fuse_residual_one(Graph& g) {
  GraphIndex ix(g);
  for (size_t ai = 0; ai < g.nodes.size(); ++ai) {
    const Node& add = g.nodes[ai];
    // (Add before opset 7 broadcast along an `axis`: not numpy's rules, so not fused.)
    if (!is_onnx_op(g, static_cast<int>(ai), "Add") || add.opset < 7 || add.inputs.size() != 2 ||
        add.outputs.size() != 1)
      continue;
    for (int side = 0; side < 2; ++side) {
      const std::string &y = add.inputs[static_cast<size_t>(side)], &z = add.inputs[static_cast<size_t>(1 - side)];
      if (y == z || !ix.producer.count(y)) continue;
      const int ci = ix.producer.at(y);
      const Node& conv = g.nodes[static_cast<size_t>(ci)];
      if (!is_onnx_op(g, ci, "Conv") || conv.outputs.size() != 1 || sole_consumer(ix, y) != static_cast<int>(ai))
        continue;
      std::vector<int> pattern{ci, static_cast<int>(ai)};
      double lo = -INFINITY, hi = INFINITY;
      std::string out = add.outputs[0], name = conv.name + "/fused_Add";
      const int act = sole_consumer(ix, add.outputs[0]);
      if (act >= 0 && clamp_bounds(g, ix, g.nodes[static_cast<size_t>(act)], &lo, &hi)) {
        pattern.push_back(act);
        out = g.nodes[static_cast<size_t>(act)].outputs[0];
        name += "_" + g.nodes[static_cast<size_t>(act)].op_type;
      }
      Node f = conv;
      f.domain = "ai.normrt";
      f.opset = 1;
      f.name = name;
      f.inputs.resize(3);  // B may be absent ("")
      f.inputs.push_back(z);
      f.outputs = {out};
      set_clamp(f, lo, hi);
      replace_with_fused(g, pattern, std::move(f));
      return true;
    }
  }
  return false;
}

// BN (inference, Y only) or Conv whose sole reader is Relu or Clip with
// constant bounds → the ai.normrt op with clip_min/clip_max: the clamp is
// applied as the output is written.
bool fuse_activation_one(Graph& g, bool conv) {
  GraphIndex ix(g);
  for (size_t bi = 0; bi < g.nodes.size(); ++bi) {
    const Node& bn = g.nodes[bi];
    if (!takes_clamp(bn, conv)) continue;
    const int ai = sole_consumer(ix, bn.outputs[0]);
    if (ai < 0) continue;
    const Node& act = g.nodes[static_cast<size_t>(ai)];
    double lo = -INFINITY, hi = INFINITY;
    if (!clamp_bounds(g, ix, act, &lo, &hi)) continue;
    Node f = bn;
    f.domain = "ai.normrt";
    f.opset = 1;
    f.name = bn.name + "/fused_" + act.op_type;
    f.outputs = {act.outputs[0]};
    f.attrs.erase("training_mode");
    f.attrs.erase("spatial");
    f.attrs.erase("momentum");
    set_clamp(f, lo, hi);
    replace_with_fused(g, {static_cast<int>(bi), ai}, std::move(f));
    return true;
  }
  return false;
}

}  // namespace

int fuse_batch_norm_activation(Graph& g) {
  int fused = 0;
  while (fuse_activation_one(g, false)) ++fused;
  return fused;
}

int fuse_conv_activation(Graph& g) {
  int fused = 0;
  while (fuse_activation_one(g, true)) ++fused;
  return fused;
}

int fuse_conv_residual(Graph& g) {
  int fused = 0;
  while (fuse_residual_one(g)) ++fused;
  return fused;
}

int fold_batch_norm(Graph& g) {
  int folded = 0;
  while (fold_one(g)) ++folded;
  return folded;
}

}  // namespace normrt
