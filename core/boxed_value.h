// Sequences and optionals inside the executor: the graph's value slots, kernel
// inputs/outputs and subgraph calls all carry Tensors, so a sequence or an
// optional travels as a "boxed" Tensor — dtype kBoxedDType, shape [], no
// elements — whose storage owner is an immutable normrt::Value. Ops that take
// or make sequences (ops/sequence.cpp) unbox and box; every other op refuses
// the dtype like any it does not know. Graphs with boxed values run node by
// node (the static planner refuses them).
#pragma once
#include "normrt/value.h"

namespace normrt {

// Not an ONNX data type: a box holding a sequence or an optional.
inline constexpr DType kBoxedDType = static_cast<DType>(0x5e90);

inline bool is_boxed(const Tensor& t) { return t.dtype() == kBoxedDType; }
// A tensor value stays the tensor; a sequence or optional is boxed.
Tensor box(Value v);
// The inverse: a boxed tensor's Value, or a tensor value.
Value unbox(const Tensor& t);
// The Value inside a boxed tensor (Error(Internal) if it is not one).
const Value& boxed_value(const Tensor& t);

// The dtype a planner sees for a declared value: its dtype for a tensor, else kBoxedDType.
inline DType planning_dtype(const ValueMeta& m) { return m.kind == ValueKind::Tensor ? m.dtype : kBoxedDType; }

}  // namespace normrt
