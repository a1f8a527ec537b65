// ONNX ModelProto → Graph. Reads initializers (typed fields, raw_data, external
// data confined to the model's folder), Constant-node attributes and opset
// imports; names unnamed nodes; validates and sorts the graph.
#pragma once
#include <string>

#include "../core/graph.h"

namespace normrt {

// `validate`: also check structure and sort nodes (validate_and_sort).
Graph load_onnx_model(const std::string& path, bool validate = true);
Graph load_onnx_model_from_bytes(const std::string& bytes, const std::string& base_dir, const std::string& label,
                                 bool validate = true);

}  // namespace normrt
