// normrt::Value (tensor | sequence | optional) and its boxed form (boxed_value.h).
#include <utility>

#include "boxed_value.h"

namespace normrt {

namespace {
std::string tensor_type_str(DType t) { return std::string("tensor(") + dtype_name(t) + ")"; }
}  // namespace

Value::Value(Tensor t) : dtype_(t.dtype()), tensor_(std::move(t)) {}

Value Value::sequence(std::vector<Tensor> items, DType elem_dtype) {
  Value v;
  v.kind_ = ValueKind::Sequence;
  v.dtype_ = elem_dtype;
  for (const Tensor& t : items) {
    if (!t.defined()) throw Error(ErrorCode::InvalidArgument, "a sequence item is an undefined tensor");
    if (is_boxed(t)) throw Error(ErrorCode::InvalidArgument, "a sequence item is itself a sequence or an optional");
    if (v.dtype_ == DType::Undefined) v.dtype_ = t.dtype();
    if (t.dtype() != v.dtype_)
      throw Error(ErrorCode::InvalidArgument, std::string("a sequence of ") + dtype_name(v.dtype_) +
                                                  " tensors cannot hold a " + dtype_name(t.dtype()) + " tensor");
  }
  v.items_ = std::move(items);
  return v;
}

Value Value::optional(Value contents) {
  if (contents.is_optional()) throw Error(ErrorCode::InvalidArgument, "an optional cannot hold an optional");
  if (contents.is_tensor() && !contents.tensor().defined())
    throw Error(ErrorCode::InvalidArgument, "an optional cannot hold an undefined tensor (use Value::none)");
  Value v;
  v.kind_ = ValueKind::Optional;
  v.of_ = contents.kind();
  v.dtype_ = contents.elem_dtype();
  v.contents_ = std::make_shared<const Value>(std::move(contents));
  return v;
}

Value Value::none(DType elem_dtype, ValueKind of) {
  if (of == ValueKind::Optional) throw Error(ErrorCode::InvalidArgument, "an optional cannot hold an optional");
  Value v;
  v.kind_ = ValueKind::Optional;
  v.of_ = of;
  v.dtype_ = elem_dtype;
  return v;
}

static void expect(const Value& v, ValueKind k, const char* what) {
  if (v.kind() != k)
    throw Error(ErrorCode::InvalidArgument, std::string("Value::") + what + " on a " + v.type_str() + " value");
}

const Tensor& Value::tensor() const {
  expect(*this, ValueKind::Tensor, "tensor");
  return tensor_;
}
const std::vector<Tensor>& Value::items() const {
  expect(*this, ValueKind::Sequence, "items");
  return items_;
}
bool Value::has_value() const {
  expect(*this, ValueKind::Optional, "has_value");
  return contents_ != nullptr;
}
const Value& Value::contents() const {
  expect(*this, ValueKind::Optional, "contents");
  if (!contents_) throw Error(ErrorCode::InvalidArgument, "Value::contents of an empty optional");
  return *contents_;
}

std::string Value::type_str() const {
  ValueMeta m;
  m.kind = kind_;
  m.optional_of = of_;
  m.dtype = dtype_;
  return normrt::type_str(m);
}

std::string type_str(const ValueMeta& m) {
  const std::string t = tensor_type_str(m.dtype);
  switch (m.kind) {
    case ValueKind::Tensor:
      return t;
    case ValueKind::Sequence:
      return "seq(" + t + ")";
    case ValueKind::Optional:
      return "optional(" + (m.optional_of == ValueKind::Sequence ? "seq(" + t + ")" : t) + ")";
  }
  return t;
}

Tensor box(Value v) {
  if (v.is_tensor()) return v.tensor();
  auto owner = std::make_shared<const Value>(std::move(v));
  void* data = const_cast<Value*>(owner.get());
  return Tensor::shared_view(std::const_pointer_cast<Value>(owner), data, kBoxedDType, {});
}

const Value& boxed_value(const Tensor& t) {
  if (!is_boxed(t) || !t.raw())
    throw Error(ErrorCode::Internal,
                std::string("expected a sequence or optional, got a ") + dtype_name(t.dtype()) + " tensor");
  return *static_cast<const Value*>(t.raw());
}

Value unbox(const Tensor& t) { return is_boxed(t) ? boxed_value(t) : Value(t); }

}  // namespace normrt
