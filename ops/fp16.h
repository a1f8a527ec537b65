// float16 is a storage type: ops that accept it convert to float32, compute,
// and convert the result back.
#pragma once
#include "normrt/tensor.h"

namespace normrt {

// A float32 copy of a float16 tensor; other tensors are returned as they are.
inline Tensor to_float32(const Tensor& t) {
  if (t.dtype() != DType::Float16) return t;
  Tensor r = Tensor::uninitialized(DType::Float32, t.shape());
  const uint16_t* s = t.data<uint16_t>();
  float* d = r.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) d[i] = half_to_float(s[i]);
  return r;
}

// Writes float32 `src` into `dst` (float16 or float32, same shape).
inline void store_from_float32(const Tensor& src, Tensor& dst) {
  if (dst.raw() == src.raw()) return;
  if (dst.dtype() == DType::Float32) {
    std::copy(src.data<float>(), src.data<float>() + src.numel(), dst.data<float>());
    return;
  }
  const float* s = src.data<float>();
  uint16_t* d = dst.data<uint16_t>();
  for (int64_t i = 0; i < src.numel(); ++i) d[i] = float_to_half(s[i]);
}

// The float32 tensor a kernel writes for `out`: `out` itself, or a scratch
// tensor to be stored back with store_from_float32.
inline Tensor float32_target(Tensor& out) {
  return out.dtype() == DType::Float32 ? out : Tensor::uninitialized(DType::Float32, out.shape());
}

}  // namespace normrt
