// Calls f(T{}) with the C++ type of a dtype, for the dtypes an op computes in.
#pragma once
#include <cstdint>
#include <string>

#include "normrt/tensor.h"

namespace normrt {

struct half_t {  // tag for float16 storage
  uint16_t bits;
};
struct bf16_t {  // tag for bfloat16 storage (Cast only; visit_numeric does not give it)
  uint16_t bits;
};

// Calls f(U{}) with the unsigned integer type of an element size (1, 2, 4 or
// 8 bytes): for ops that only move elements.
template <class F>
void by_element_size(size_t es, F&& f) {
  switch (es) {
    case 1:
      return f(uint8_t{});
    case 2:
      return f(uint16_t{});
    case 4:
      return f(uint32_t{});
    default:
      return f(uint64_t{});
  }
}

template <class F>
auto visit_numeric(DType t, F&& f) {
  switch (t) {
    case DType::Float32:
      return f(float{});
    case DType::Float64:
      return f(double{});
    case DType::Int32:
      return f(int32_t{});
    case DType::Int64:
      return f(int64_t{});
    case DType::Int8:
      return f(int8_t{});
    case DType::Int16:
      return f(int16_t{});
    case DType::UInt8:
      return f(uint8_t{});
    case DType::UInt16:
      return f(uint16_t{});
    case DType::UInt32:
      return f(uint32_t{});
    case DType::UInt64:
      return f(uint64_t{});
    case DType::Bool:
      return f(bool{});
    case DType::Float16:
      return f(half_t{});
    case DType::BFloat16:  // ops compute it in float32 (narrow_floats.cpp); Cast converts it itself
    case DType::String:    // string_ops.cpp
    case DType::Undefined:
      break;
  }
  throw Error(ErrorCode::Internal, std::string("visit_numeric: no computation in dtype ") + dtype_name(t));
}

}  // namespace normrt
