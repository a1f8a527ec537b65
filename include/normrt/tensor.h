// Tensor: a dtype, a concrete shape and a 64-byte aligned buffer (owned, shared
// or a non-owning view of caller memory).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "normrt/error.h"
#include "normrt/export.h"

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
  String = 8,  // elements are std::string objects (UTF-8 bytes); see Tensor
  Bool = 9,
  Float16 = 10,
  Float64 = 11,
  UInt32 = 12,
  UInt64 = 13,
  BFloat16 = 16,
};

NORMRT_API size_t dtype_size(DType t);
NORMRT_API const char* dtype_name(DType t);                  // "float32", "int64", ...
NORMRT_API bool dtype_from_onnx(int onnx_type, DType* out);  // false if normrt cannot hold it
NORMRT_API const char* onnx_type_name(int onnx_type);        // names unsupported ones too
NORMRT_API bool dtype_is_float(DType t);

NORMRT_API float half_to_float(uint16_t h);
NORMRT_API uint16_t float_to_half(float f);
// bfloat16: the upper 16 bits of a float32. Rounds to nearest even; NaN stays
// NaN (quiet), values past the largest bfloat16 become ±inf.
NORMRT_API float bfloat16_to_float(uint16_t b);
NORMRT_API uint16_t float_to_bfloat16(float f);

using Shape = std::vector<int64_t>;

// Element count of a shape; throws Error(InvalidArgument) on a negative dim or
// when count × element size would overflow int64, or, for an empty shape, the
// product of its other dims × 8 would ([0, 2^40, 2^40] is refused too: any
// product of a valid shape's dims, times any element size, fits).
NORMRT_API int64_t shape_numel(const Shape& shape, DType t = DType::Float32);
// The most bytes one tensor (or kernel scratch buffer) may take: 64 GiB, or
// NORMRT_MAX_TENSOR_BYTES when set. Larger requests are errors, not attempts.
NORMRT_API size_t max_tensor_bytes();
NORMRT_API std::string shape_str(const Shape& shape);  // "[2,3,4]"

inline constexpr size_t kTensorAlignment = 64;

// Whether C++ type T holds elements of dtype t (uint16_t also holds float16
// and bfloat16 bits, uint8_t also bool, std::string the strings of String).
template <class T>
constexpr bool holds(DType t) {
  if constexpr (std::is_same_v<T, float>) return t == DType::Float32;
  if constexpr (std::is_same_v<T, double>) return t == DType::Float64;
  if constexpr (std::is_same_v<T, int8_t>) return t == DType::Int8;
  if constexpr (std::is_same_v<T, int16_t>) return t == DType::Int16;
  if constexpr (std::is_same_v<T, int32_t>) return t == DType::Int32;
  if constexpr (std::is_same_v<T, int64_t>) return t == DType::Int64;
  if constexpr (std::is_same_v<T, uint8_t>) return t == DType::UInt8 || t == DType::Bool;
  if constexpr (std::is_same_v<T, uint16_t>) return t == DType::UInt16 || t == DType::Float16 || t == DType::BFloat16;
  if constexpr (std::is_same_v<T, uint32_t>) return t == DType::UInt32;
  if constexpr (std::is_same_v<T, uint64_t>) return t == DType::UInt64;
  if constexpr (std::is_same_v<T, bool>) return t == DType::Bool;
  if constexpr (std::is_same_v<T, std::string>) return t == DType::String;
  return false;
}

// A typed view of a tensor's elements (Tensor::span). The public headers need
// only C++17; under C++20 a Span converts to std::span (it is a contiguous,
// sized range).
template <class T>
class Span {
 public:
  Span(T* data, size_t size) : data_(data), size_(size) {}
  T* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](size_t i) const { return data_[i]; }
  T* begin() const { return data_; }
  T* end() const { return data_ + size_; }

 private:
  T* data_;
  size_t size_;
};

// String tensors (DType::String) hold one std::string object per element:
// an owning string tensor constructs them (empty) and destroys them with its
// buffer, and span<std::string>() reads and writes them
//   Tensor t(DType::String, {2});  t.span<std::string>()[0] = "hello";
// A view of caller memory (view, rebind) must point at constructed
// std::string objects. Copies between tensors assign the strings
// (copy_elements_to, clone); raw bytes of a string tensor are never copied.
class NORMRT_API Tensor {
 public:
  Tensor() = default;
  // Owning tensor, contents zero-initialised (empty strings for String).
  Tensor(DType dtype, Shape shape);
  // Non-owning view of caller memory; the caller keeps it alive.
  static Tensor view(void* data, DType dtype, Shape shape);
  // Owning tensor with uninitialised contents (for kernels that write all of
  // it); a String tensor's strings are constructed empty.
  // A view of `data` that keeps `owner` (whatever holds the memory) alive as long as it lives.
  static Tensor shared_view(std::shared_ptr<void> owner, void* data, DType dtype, Shape shape);
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

  // The elements as a typed span; Error(InvalidArgument) if T does not hold
  // this tensor's dtype.
  template <class T>
  Span<T> span() {
    check_holds<T>();
    return {data<T>(), static_cast<size_t>(numel_)};
  }
  template <class T>
  Span<const T> span() const {
    check_holds<T>();
    return {data<T>(), static_cast<size_t>(numel_)};
  }

  // Same buffer, another shape with the same element count.
  Tensor reshaped(Shape shape) const;
  // A deep copy with its own buffer.
  Tensor clone() const;
  // Copies the elements to `dst`, which holds numel() elements of this dtype
  // (for String: constructed std::string objects, assigned here).
  void copy_elements_to(void* dst) const;
  // Make this tensor a non-owning view of `data`, or share `src`'s storage with
  // another shape of the same element count. Both reuse this tensor's shape
  // storage (no allocation when a slot is refilled with a shape of the same rank).
  void rebind(void* data, DType dtype, const Shape& shape);
  void assign_view(const Tensor& src, const Shape& shape);
  // Drops the storage (becomes undefined) but keeps the shape's capacity, so
  // that a reused tensor slot is refilled without allocating.
  void release() {
    owner_.reset();
    data_ = nullptr;
    dtype_ = DType::Undefined;
    numel_ = 0;
    shape_.clear();
  }

 private:
  template <class T>
  void check_holds() const {
    if (!holds<std::remove_const_t<T>>(dtype_))
      throw Error(ErrorCode::InvalidArgument,
                  std::string("tensor of dtype ") + dtype_name(dtype_) + " viewed with another element type");
  }

  std::shared_ptr<void> owner_;
  void* data_ = nullptr;
  DType dtype_ = DType::Undefined;
  Shape shape_;
  int64_t numel_ = 0;
};

}  // namespace normrt
