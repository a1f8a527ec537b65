// float16 is a storage type: ops that accept it convert to float32, compute,
// and convert the result back. The float32 views below refer to the tensor
// itself when it already is float32 (no copy, no allocation) and own a
// converted copy otherwise.
#pragma once
#include <algorithm>
#include <utility>

#include "normrt/tensor.h"

namespace normrt {

class Float32View {
 public:
  explicit Float32View(const Tensor* t) : ptr_(t) {}
  explicit Float32View(Tensor owned) : own_(std::move(owned)), ptr_(&own_) {}
  Float32View(const Float32View&) = delete;
  Float32View& operator=(const Float32View&) = delete;
  template <class T>
  T* data() const {
    return const_cast<Tensor*>(ptr_)->data<T>();
  }
  const Tensor& tensor() const { return *ptr_; }
  operator Tensor() const { return *ptr_; }  // a copy (shares storage), for code outside the run path
  const Shape& shape() const { return ptr_->shape(); }
  int64_t numel() const { return ptr_->numel(); }
  DType dtype() const { return ptr_->dtype(); }
  const void* raw() const { return ptr_->raw(); }
  bool defined() const { return ptr_->defined(); }

 private:
  Tensor own_;
  const Tensor* ptr_;
};

// A float32 copy of a float16 tensor; other tensors are returned as they are.
inline Tensor float32_copy(const Tensor& t) {
  if (t.dtype() != DType::Float16) return t;
  Tensor r = Tensor::uninitialized(DType::Float32, t.shape());
  const uint16_t* s = t.data<uint16_t>();
  float* d = r.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) d[i] = half_to_float(s[i]);
  return r;
}

// `t` as float32: itself (no copy) unless it is float16. An rvalue is kept alive inside.
inline Float32View to_float32(const Tensor& t) {
  return t.dtype() == DType::Float16 ? Float32View(float32_copy(t)) : Float32View(&t);
}
inline Float32View to_float32(Tensor&& t) {
  return Float32View(t.dtype() == DType::Float16 ? float32_copy(t) : std::move(t));
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
inline void store_from_float32(const Float32View& src, Tensor& dst) { store_from_float32(src.tensor(), dst); }

// The float32 tensor a kernel writes for `out`: `out` itself, or a scratch
// tensor to be stored back with store_from_float32.
inline Float32View float32_target(Tensor& out) {
  return out.dtype() == DType::Float32 ? Float32View(&out)
                                       : Float32View(Tensor::uninitialized(DType::Float32, out.shape()));
}

}  // namespace normrt
