// Dynamic int8 quantization of an ONNX model's MatMul/Gemm weights, written
// with standard ONNX ops exactly as ONNX Runtime's quantize_dynamic writes
// them, so that any runtime runs the result:
//   DynamicQuantizeLinear(X) → (Xq uint8, Xs, Xzp)
//   MatMulInteger(Xq, Wq int8, Xzp, Wzp) → Cast(float) → Mul(·, Mul(Xs, Ws)) [→ Add(C) for Gemm]
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "normrt/export.h"

namespace normrt {

struct QuantizeOptions {
  // One weight scale per output column (else one per weight tensor).
  bool per_channel = false;
  // Node names left in float32.
  std::vector<std::string> exclude;
  // Weights with fewer elements stay float32.
  int64_t min_size = 4096;
};

struct QuantizedNode {
  std::string name;     // the MatMul/Gemm node's name
  std::string op_type;  // "MatMul" or "Gemm"
  std::vector<int64_t> weight_shape;
  bool per_channel = false;
};

struct QuantizeReport {
  std::vector<QuantizedNode> quantized;
  // MatMul/Gemm nodes with a constant weight that were left float32, and why.
  std::vector<std::pair<std::string, std::string>> skipped;
  int64_t activation_quantizers = 0;           // DynamicQuantizeLinear nodes added (shared by nodes reading one X)
  int64_t opset_before = 0, opset_after = 0;   // ai.onnx opset import
  uint64_t bytes_before = 0, bytes_after = 0;  // the model files' sizes (external data included)
  std::vector<std::string> notes;              // e.g. "subgraphs are not quantized"
};

// Reads `in_path`, rewrites it and writes `out_path` (weights inline; an
// Error if that exceeds protobuf's 2 GiB). Everything else in the model —
// metadata, opset imports, names, value_info, doc strings — is kept. Nodes
// inside subgraphs (If/Loop/Scan bodies) are not quantized. Throws
// normrt::Error (IO, InvalidModel) on unreadable or malformed input.
NORMRT_API QuantizeReport quantize_dynamic(const std::string& in_path, const std::string& out_path,
                                           const QuantizeOptions& options = {});

}  // namespace normrt
