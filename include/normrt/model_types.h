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

// What a value is: a tensor, a sequence of tensors, or an optional (empty, or
// holding a tensor or a sequence). See normrt/value.h.
enum class ValueKind { Tensor, Sequence, Optional };

// A graph input or output as the model declares it. Unknown dims are -1 and
// carry their symbolic name (dim_param) where the model gives one.
// A sequence or optional has kind Sequence/Optional, `dtype` its tensors'
// element type (Undefined when the model leaves it open), and the shape (if
// any) of those tensors; an optional's contents are a tensor or a sequence
// (`optional_of`).
struct ValueMeta {
  std::string name;
  DType dtype = DType::Undefined;
  bool has_shape = false;
  Shape shape;
  std::vector<std::string> dim_names;
  ValueKind kind = ValueKind::Tensor;
  ValueKind optional_of = ValueKind::Tensor;
};

}  // namespace normrt
