// Graph → ONNX model file.
#pragma once
#include <string>

#include "../core/graph.h"

namespace normrt {

// Writes g as an ONNX model (initializers as raw_data). Throws Error(IO).
void save_onnx_model(const Graph& g, const std::string& path);

}  // namespace normrt
