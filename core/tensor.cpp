#include "normrt/tensor.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

#include "boxed_value.h"

namespace normrt {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::InvalidModel:
      return "invalid model";
    case ErrorCode::UnsupportedOp:
      return "unsupported operator";
    case ErrorCode::InvalidArgument:
      return "invalid argument";
    case ErrorCode::IO:
      return "I/O error";
    case ErrorCode::Internal:
      return "internal error";
  }
  return "error";
}

size_t dtype_size(DType t) {
  switch (t) {
    case DType::Float32:
    case DType::Int32:
    case DType::UInt32:
      return 4;
    case DType::UInt8:
    case DType::Int8:
    case DType::Bool:
      return 1;
    case DType::UInt16:
    case DType::Int16:
    case DType::Float16:
    case DType::BFloat16:
      return 2;
    case DType::Int64:
    case DType::Float64:
    case DType::UInt64:
      return 8;
    case DType::String:
      return sizeof(std::string);
    case DType::Undefined:
      return 0;
  }
  return 0;
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::Float32:
      return "float32";
    case DType::UInt8:
      return "uint8";
    case DType::Int8:
      return "int8";
    case DType::UInt16:
      return "uint16";
    case DType::Int16:
      return "int16";
    case DType::Int32:
      return "int32";
    case DType::Int64:
      return "int64";
    case DType::Bool:
      return "bool";
    case DType::Float16:
      return "float16";
    case DType::BFloat16:
      return "bfloat16";
    case DType::Float64:
      return "float64";
    case DType::UInt32:
      return "uint32";
    case DType::UInt64:
      return "uint64";
    case DType::String:
      return "string";
    case DType::Undefined:
      return "undefined";
  }
  return t == kBoxedDType ? "sequence/optional" : "undefined";
}

bool dtype_from_onnx(int onnx_type, DType* out) {
  switch (onnx_type) {
    case 1:
    case 2:
    case 3:
    case 4:
    case 5:
    case 6:
    case 7:
    case 8:
    case 9:
    case 10:
    case 11:
    case 12:
    case 13:
    case 16:
      *out = static_cast<DType>(onnx_type);
      return true;
    default:
      return false;
  }
}

const char* onnx_type_name(int onnx_type) {
  DType t;
  if (dtype_from_onnx(onnx_type, &t)) return dtype_name(t);
  switch (onnx_type) {
    case 0:
      return "undefined";
    case 14:
      return "complex64";
    case 15:
      return "complex128";
    default:
      return "unknown";
  }
}

bool dtype_is_float(DType t) {
  return t == DType::Float32 || t == DType::Float64 || t == DType::Float16 || t == DType::BFloat16;
}

float half_to_float(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: renormalise
      exp = 127 - 15 + 1;
      while ((mant & 0x400u) == 0) {
        mant <<= 1;
        --exp;
      }
      mant &= 0x3ffu;
      bits = sign | (exp << 23) | (mant << 13);
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t float_to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  uint32_t absx = x & 0x7fffffffu;
  if (absx >= 0x7f800000u) {  // inf or nan
    return static_cast<uint16_t>(sign | 0x7c00u | (absx > 0x7f800000u ? 0x200u : 0));
  }
  if (absx >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow → inf
  if (absx < 0x38800000u) {                                               // subnormal or zero in half
    if (absx < 0x33000000u) return sign;
    uint32_t mant = (absx & 0x7fffffu) | 0x800000u;
    int shift = 113 - static_cast<int>(absx >> 23) + 13;
    uint32_t half_mant = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1);
    uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (half_mant & 1))) ++half_mant;
    return static_cast<uint16_t>(sign | half_mant);
  }
  uint32_t r = absx + 0xfffu + ((absx >> 13) & 1u) - (0x70u << 23);  // round to nearest even
  return static_cast<uint16_t>(sign | (r >> 13));
}

float bfloat16_to_float(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t float_to_bfloat16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);  // NaN: keep it quiet
  x += 0x7fffu + ((x >> 16) & 1u);  // round to nearest even (a carry into the exponent is right, up to inf)
  return static_cast<uint16_t>(x >> 16);
}

int64_t shape_numel(const Shape& shape, DType t) {
  bool empty = false;
  for (int64_t d : shape) {
    if (d < 0)
      throw Error(ErrorCode::InvalidArgument,
                  "negative dimension " + std::to_string(d) + " in shape " + shape_str(shape));
    empty = empty || d == 0;
  }
  // The element count times the element size must fit in int64. A 0 dim makes
  // the count 0, but ops still multiply the other dims (outer·inner splits,
  // strides, work estimates): their product must fit too, for any element
  // size (8 bytes at most), so that every product of a shape's dims does.
  const size_t elem = empty ? 8 : dtype_size(t) ? dtype_size(t) : 1;
  const uint64_t limit = std::numeric_limits<int64_t>::max() / elem;
  uint64_t n = 1;
  for (int64_t d : shape) {
    if (d == 0) continue;
    if (n > limit / static_cast<uint64_t>(d))
      throw Error(ErrorCode::InvalidArgument, "shape " + shape_str(shape) + " is too large (element count overflows)");
    n *= static_cast<uint64_t>(d);
  }
  return empty ? 0 : static_cast<int64_t>(n);
}

std::string shape_str(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

// A single tensor larger than this is refused (a corrupt or hostile shape,
// not a real model): 64 GiB, or NORMRT_MAX_TENSOR_BYTES when set (the fuzz
// harnesses use 64 MiB).
size_t max_tensor_bytes() {
  static const size_t limit = [] {
    const char* env = std::getenv("NORMRT_MAX_TENSOR_BYTES");
    char* end = nullptr;
    const unsigned long long v = env ? std::strtoull(env, &end, 10) : 0;
    return env && *env && end && *end == '\0' && v > 0 ? static_cast<size_t>(v) : size_t{64} << 30;
  }();
  return limit;
}

static std::shared_ptr<void> aligned_buffer(size_t bytes, bool zero) {
  if (bytes > max_tensor_bytes())
    throw Error(ErrorCode::InvalidArgument, "a tensor of " + std::to_string(bytes) + " bytes exceeds the limit of " +
                                                std::to_string(max_tensor_bytes()) +
                                                " bytes per tensor (NORMRT_MAX_TENSOR_BYTES)");
  size_t rounded = (bytes + kTensorAlignment - 1) / kTensorAlignment * kTensorAlignment;
  if (rounded == 0) rounded = kTensorAlignment;
  void* p = std::aligned_alloc(kTensorAlignment, rounded);
  if (!p) throw Error(ErrorCode::InvalidArgument, "cannot allocate " + std::to_string(bytes) + " bytes for a tensor");
  if (zero) std::memset(p, 0, rounded);
  return std::shared_ptr<void>(p, [](void* q) { std::free(q); });
}

// n empty std::string objects in an aligned buffer, destroyed with it.
static std::shared_ptr<void> string_buffer(int64_t n) {
  std::shared_ptr<void> raw = aligned_buffer(static_cast<size_t>(n) * sizeof(std::string), false);
  auto* s = static_cast<std::string*>(raw.get());
  for (int64_t i = 0; i < n; ++i) new (s + i) std::string();  // noexcept
  return std::shared_ptr<void>(s, [raw, n](void* q) {
    auto* p = static_cast<std::string*>(q);
    for (int64_t i = 0; i < n; ++i) p[i].~basic_string();
  });
}

// A sequence or optional (boxed_value.h) exists only as made by box(): never
// allocated, stacked or copied as if it were a tensor of elements.
static void check_not_boxed(DType dtype) {
  if (dtype == kBoxedDType)
    throw Error(ErrorCode::InvalidModel, "a sequence or optional value is used where a tensor is needed");
}

Tensor::Tensor(DType dtype, Shape shape) : dtype_(dtype), shape_(std::move(shape)) {
  check_not_boxed(dtype);
  numel_ = shape_numel(shape_, dtype_);
  owner_ = dtype_ == DType::String ? string_buffer(numel_) : aligned_buffer(nbytes(), true);
  data_ = owner_.get();
}

Tensor Tensor::uninitialized(DType dtype, Shape shape) {
  check_not_boxed(dtype);
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.numel_ = shape_numel(t.shape_, dtype);
  t.owner_ = dtype == DType::String ? string_buffer(t.numel_) : aligned_buffer(t.nbytes(), false);
  t.data_ = t.owner_.get();
  return t;
}

Tensor Tensor::view(void* data, DType dtype, Shape shape) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.numel_ = shape_numel(t.shape_, dtype);
  if (!data && t.numel_ > 0) throw Error(ErrorCode::InvalidArgument, "Tensor::view of a null pointer");
  t.data_ = data;
  return t;
}

Tensor Tensor::shared_view(std::shared_ptr<void> owner, void* data, DType dtype, Shape shape) {
  Tensor t = view(data, dtype, std::move(shape));
  t.owner_ = std::move(owner);
  return t;
}

void Tensor::rebind(void* data, DType dtype, const Shape& shape) {
  const int64_t n = shape_numel(shape, dtype);
  if (!data && n > 0) throw Error(ErrorCode::InvalidArgument, "Tensor::rebind to a null pointer");
  owner_.reset();
  dtype_ = dtype;
  shape_ = shape;  // copy-assignment: reuses this tensor's shape storage
  numel_ = n;
  data_ = data;
}

void Tensor::assign_view(const Tensor& src, const Shape& shape) {
  if (shape_numel(shape, src.dtype_) != src.numel_)
    throw Error(ErrorCode::InvalidArgument, "cannot view " + shape_str(src.shape_) + " as " + shape_str(shape));
  owner_ = src.owner_;
  dtype_ = src.dtype_;
  shape_ = shape;
  numel_ = src.numel_;
  data_ = src.data_;
}

Tensor Tensor::reshaped(Shape shape) const {
  if (shape_numel(shape, dtype_) != numel_)
    throw Error(ErrorCode::InvalidArgument, "cannot reshape " + shape_str(shape_) + " to " + shape_str(shape));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::clone() const {
  Tensor t = uninitialized(dtype_, shape_);
  copy_elements_to(t.data_);
  return t;
}

void Tensor::copy_elements_to(void* dst) const {
  if (dtype_ == DType::String) {
    const auto* s = static_cast<const std::string*>(data_);
    std::copy(s, s + numel_, static_cast<std::string*>(dst));
  } else if (nbytes()) {
    std::memcpy(dst, data_, nbytes());
  }
}

}  // namespace normrt
