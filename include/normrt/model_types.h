// Plain types that describe a model and how it is prepared, shared by the
// public Session API and the internal graph: how far the optimizer rewrites
// the graph, and a graph input or output as the model declares it.
#pragma once
#include <string>
#include <vector>

#include "normrt/tensor.h"

namespace normrt {

enum class OptimizationLevel {
  None,   // run the graph as written (values computable from constants and shapes are still folded)
  Basic,  // + graph rewrites that never change results
  All,    // + normalization fusions
};

// A graph input or output as the model declares it. Unknown dims are -1 and
// carry their symbolic name (dim_param) where the model gives one.
struct ValueMeta {
  std::string name;
  DType dtype = DType::Undefined;
  bool has_shape = false;
  Shape shape;
  std::vector<std::string> dim_names;
};

}  // namespace normrt
