// Tensor: a dtype, a concrete shape and a 64-byte aligned buffer (owned, shared
// or a non-owning view of caller memory).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "normrt/error.h"

namespace normrt {

// Values are the ONNX TensorProto.DataType numbers.
enum class DType : int {
  Undefined = 0,
  Float32 = 1,
  UInt8 = 2,
  Int8 = 3,
  UInt16 = 4,
  Int16 = 5,
  Int32 = 6,
  Int64 = 7,
  Bool = 9,
  Float16 = 10,
  Float64 = 11,
  UInt32 = 12,
  UInt64 = 13,
};

size_t dtype_size(DType t);
const char* dtype_name(DType t);                  // "float32", "int64", ...
bool dtype_from_onnx(int onnx_type, DType* out);  // false if normrt cannot hold it
const char* onnx_type_name(int onnx_type);        // names unsupported ones too
bool dtype_is_float(DType t);

float half_to_float(uint16_t h);
uint16_t float_to_half(float f);

using Shape = std::vector<int64_t>;

// Element count of a shape; throws Error(InvalidArgument) on a negative dim or
// when count × element size would overflow size_t.
int64_t shape_numel(const Shape& shape, DType t = DType::Float32);
std::string shape_str(const Shape& shape);  // "[2,3,4]"

inline constexpr size_t kTensorAlignment = 64;

class Tensor {
 public:
  Tensor() = default;
  // Owning tensor, contents zero-initialised.
  Tensor(DType dtype, Shape shape);
  // Non-owning view of caller memory; the caller keeps it alive.
  static Tensor view(void* data, DType dtype, Shape shape);
  // Owning tensor with uninitialised contents (for kernels that write all of it).
  static Tensor uninitialized(DType dtype, Shape shape);

  bool defined() const { return dtype_ != DType::Undefined; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t dim(int i) const { return shape_.at(static_cast<size_t>(i)); }
  int64_t numel() const { return numel_; }
  size_t nbytes() const { return static_cast<size_t>(numel_) * dtype_size(dtype_); }

  void* raw() { return data_; }
  const void* raw() const { return data_; }
  template <class T>
  T* data() {
    return static_cast<T*>(data_);
  }
  template <class T>
  const T* data() const {
    return static_cast<const T*>(data_);
  }

  // Same buffer, another shape with the same element count.
  Tensor reshaped(Shape shape) const;
  // A deep copy with its own buffer.
  Tensor clone() const;

 private:
  std::shared_ptr<void> owner_;
  void* data_ = nullptr;
  DType dtype_ = DType::Undefined;
  Shape shape_;
  int64_t numel_ = 0;
};

}  // namespace normrt
