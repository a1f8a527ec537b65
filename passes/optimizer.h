// Graph optimizer: rewrites a validated graph at session creation, before
// planning. Passes run in this fixed order (each in its own file):
//   basic: 1. cleanup            — Identity/Dropout/zero-Pad removal, constant folding
//                                   (fold_constants.cpp: constants, and shapes when the
//                                   inputs' shapes are static), common-subexpression
//                                   merging (identical Shape/Constant/… nodes), dead nodes
//   all:   2. layer-norm fusion  — decomposed LayerNorm (ReduceMean, Sub, Pow|Mul,
//                                   ReduceMean, Add eps, Sqrt, Div|Reciprocal·Mul,
//                                   [Mul scale], [Add bias]) → LayerNormalization,
//                                   or ai.normrt LayerNormSimple without scale and bias
//          3. rms-norm fusion    — Pow 2, ReduceMean, Add eps, Sqrt, Div|Reciprocal·Mul,
//                                   Mul scale → RMSNormalization
//          4. xu-norm fusion     — Xu et al.'s LayerNorm-simple and AdaNorm with an
//                                   unbiased std and eps added to it → ai.normrt
//                                   LayerNormSimple / AdaNorm (std_mode unbiased_std_eps)
//          5. row hoisting       — row-wise work on Gather(X, t) over another axis
//                                   (an unrolled time loop's per-step MatMul,
//                                   LayerNorm, activation) done once on all of X
//                                   before the Gathers (hoist_gathered_rows.cpp)
//          6. batch-norm folding — inference BatchNormalization into the Conv,
//                                   ConvTranspose or Gemm producing its input
//                                   (fold_batch_norm.cpp); else BN → Relu|Clip →
//                                   ai.normrt BatchNormalization that clamps; then
//                                   Conv → Add Z [→ Relu|Clip] (a residual) and
//                                   Conv → Relu|Clip → ai.normrt Conv that adds Z and
//                                   clamps in its GEMM epilogue
//          7. skip-norm fusion   — Add feeding a LayerNormalization over the last
//                                   axis → SkipLayerNormalization (also writing the
//                                   sum when other nodes read it)
//          8. gelu fusion        — erf and tanh forms → ai.normrt Gelu (fuse_gelu.cpp)
//          9. matmul-bias fusion — MatMul(constant W) → Add(bias) [→ Relu | Gelu] →
//                                   ai.normrt FusedMatMul with a GEMM epilogue
//         10. attention fusion   — Transpose(Q)·Transpose(K) [→ scale] [→ Add mask |
//                                   Where] → Softmax → ·Transpose(V) → Transpose →
//                                   ai.normrt Attention reading the heads in place
//         11. dynamic-quant matmul fusion — DynamicQuantizeLinear → MatMulInteger
//                                   (constant int8 W) → Cast → Mul(Xs·Ws) [→ Add bias]
//                                   → com.microsoft DynamicQuantizeMatMul
//                                   (fuse_dynamic_quant_matmul.cpp); a Relu or Gelu after
//                                   it joins the epilogue (ai.normrt DynamicQuantizeMatMul)
//         12. sibling merging    — DynamicQuantizeMatMuls reading one X (Q, K, V) → one
//                                   product over the concatenated weights and a Split
//                                   (merge_sibling_matmuls.cpp)
//         13. cleanup again
// Fused nodes live in normrt's own domain `ai.normrt` (version 1), so they run
// whatever ai.onnx opset the model imports (the dynamic-quant fusion makes
// ORT's com.microsoft DynamicQuantizeMatMul instead). The planner also folds, per set
// of input shapes, every node whose inputs are known then.
#pragma once
#include <map>
#include <string>

#include "../core/graph.h"
#include "normrt/model_types.h"

namespace normrt {

struct KernelSet;

struct OptimizeStats {
  std::map<std::string, int> fired;  // pass or fusion name → times applied
};

// `kernels`: the session's kernel tables, which constant folding computes with.
void optimize_graph(Graph& g, OptimizationLevel level, const KernelSet& kernels, OptimizeStats* stats);

// The passes (graph_cleanup.cpp, fuse_layer_norm.cpp, fuse_rms_norm.cpp, fuse_skip_norm.cpp).
int remove_identities(Graph& g);
int fold_constants(Graph& g, const KernelSet& kernels);
int remove_dead_nodes(Graph& g);
int merge_duplicates(Graph& g);
int fuse_layer_norm(Graph& g);
int fuse_rms_norm(Graph& g);
int fuse_skip_norm(Graph& g);
int fuse_xu_norm(Graph& g);
int fold_batch_norm(Graph& g);
int fuse_batch_norm_activation(Graph& g);
int fuse_conv_residual(Graph& g);
int fuse_conv_activation(Graph& g);
int fuse_gelu(Graph& g);
int fuse_pad(Graph& g);    // Pad by zeros → the pads of the Conv / AveragePool reading it
int fuse_swish(Graph& g);  // Mul(x, Sigmoid(x)) → Swish, Mul(x, HardSigmoid(x)) → HardSwish
int fuse_matmul_bias(Graph& g);
int fuse_attention(Graph& g);
int hoist_gathered_rows(Graph& g);
int fuse_dynamic_quant_matmul(Graph& g);
int merge_sibling_matmuls(Graph& g);

// ---- helpers shared by the fusion passes (graph_match.cpp) -----------------
struct GraphIndex {
  std::map<std::string, int> producer;                // value → node index
  std::map<std::string, std::vector<int>> consumers;  // value → node indices (repeats per use)
  std::map<std::string, bool> is_graph_output;
  explicit GraphIndex(const Graph& g);
  const Node* producer_of(const Graph& g, const std::string& value, const char* op_type) const;
  int uses(const std::string& value) const;  // consumers + graph outputs
};
// The value of a scalar float constant (initializer or Constant node), if it is one.
bool constant_scalar(const Graph& g, const GraphIndex& ix, const std::string& value, double* out);
// A Pad node's pads ([begins…, ends…] of its axes: the attribute before opset 11, then a
// constant input 1), or empty when they are not known before running or the node is malformed.
std::vector<int64_t> constant_pads(const Graph& g, const GraphIndex& ix, const Node& pad);
// An initializer (or Constant node's tensor) named `value`, or nullptr.
const Tensor* constant_tensor(const Graph& g, const GraphIndex& ix, const std::string& value);
// A ReduceMean's axes (attribute or constant input) if keepdims=1, else empty.
std::vector<int64_t> reduce_mean_axes(const Graph& g, const GraphIndex& ix, const Node& n);
// Axes that are exactly the last k ([-k … -1], any order): k, else 0.
int trailing_axes(std::vector<int64_t> axes);
// The one node reading `value` when nothing else reads it (nor is it a graph output), else -1.
int sole_consumer(const GraphIndex& ix, const std::string& value);
// Node i is the ai.onnx op `op` (false for i < 0).
bool is_onnx_op(const Graph& g, int i, const char* op);
// The other input of a binary node (the one that is not `value`), or "".
std::string other_input(const Node& n, const std::string& value);
// An ai.normrt (version 1) node with optional int `axis` and float `epsilon` attributes.
Node normrt_node(const std::string& op_type, const std::string& name, std::vector<std::string> inputs,
                 std::vector<std::string> outputs, const int64_t* axis, float epsilon);
// Attribute values for the nodes the passes make.
Attribute float_attr(float v);
Attribute int_attr(int64_t v);
Attribute string_attr(std::string v);
// Replaces the pattern's nodes by `fused`, placed in the slot of the last of
// them (so topological order holds), and imports the ai.normrt domain.
void replace_with_fused(Graph& g, const std::vector<int>& pattern, Node fused);
// Removes the nodes whose indices are marked, keeping the order of the rest.
void erase_nodes(Graph& g, const std::vector<char>& dead);

}  // namespace normrt
