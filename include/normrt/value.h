// Value: what flows along a graph edge — a tensor, a sequence of tensors, or an
// optional (empty, or holding a tensor or a sequence). Session::run_values takes
// and returns them; ordinary tensor models use Session::run with Tensors.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "normrt/export.h"
#include "normrt/model_types.h"
#include "normrt/tensor.h"

namespace normrt {

class NORMRT_API Value {
 public:
  Value() = default;  // an undefined tensor
  Value(Tensor t);    // a tensor value (implicit, so a Tensor passes where a Value is wanted)
  // A sequence; `elem_dtype` types an empty one (else it is the items' dtype,
  // which must all be the same: Error(InvalidArgument) otherwise).
  static Value sequence(std::vector<Tensor> items, DType elem_dtype = DType::Undefined);
  // An optional holding a tensor or a sequence (not another optional).
  static Value optional(Value contents);
  // An empty optional of tensors or sequences of `elem_dtype`.
  static Value none(DType elem_dtype = DType::Undefined, ValueKind of = ValueKind::Tensor);

  ValueKind kind() const { return kind_; }
  bool is_tensor() const { return kind_ == ValueKind::Tensor; }
  bool is_sequence() const { return kind_ == ValueKind::Sequence; }
  bool is_optional() const { return kind_ == ValueKind::Optional; }
  // The tensor (kind Tensor), the items (kind Sequence), whether an optional
  // holds something and what; each throws Error(InvalidArgument) on another kind.
  const Tensor& tensor() const;
  const std::vector<Tensor>& items() const;
  bool has_value() const;
  const Value& contents() const;  // also throws when the optional is empty
  // The tensor's dtype, the sequence's element dtype, or the optional's
  // contents' (Undefined when unknown).
  DType elem_dtype() const { return dtype_; }
  // For an optional: whether it holds (or would hold) a tensor or a sequence.
  ValueKind optional_of() const { return of_; }
  // "tensor(float32)", "seq(tensor(int64))", "optional(seq(tensor(float32)))".
  std::string type_str() const;

 private:
  ValueKind kind_ = ValueKind::Tensor;
  ValueKind of_ = ValueKind::Tensor;
  DType dtype_ = DType::Undefined;
  Tensor tensor_;
  std::vector<Tensor> items_;
  std::shared_ptr<const Value> contents_;  // optional: null when empty
};

// The declared type of a graph input or output, written as Value::type_str
// does ("seq(tensor(float32))"; "tensor(float32)" for a plain tensor).
NORMRT_API std::string type_str(const ValueMeta& m);

// A value file: a TensorProto, SequenceProto or OptionalProto (.pb, as the
// ONNX test data has them), read as `kind`. Sequences of tensors only.
NORMRT_API Value read_value_pb(const std::string& path, ValueKind kind);
NORMRT_API Value parse_value_pb(const std::string& bytes, const std::string& label, ValueKind kind);

using NamedValues = std::vector<std::pair<std::string, Value>>;

}  // namespace normrt
