// numpy-style broadcasting helpers shared by the elementwise ops and by the
// normalization ops' Scale/B inputs.
#pragma once
#include <vector>

#include "normrt/tensor.h"

namespace normrt {

// Multidirectional broadcast of a and b; false if incompatible.
bool broadcast_shapes(const Shape& a, const Shape& b, Shape* out);
// True if `from` broadcasts to `to` (unidirectional).
bool broadcasts_to(const Shape& from, const Shape& to);
// Element strides of `in` viewed in `out`'s index space (0 along broadcast dims).
std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out);
// A contiguous copy of t broadcast to `out` (any dtype).
Tensor expand_to(const Tensor& t, const Shape& out);

}  // namespace normrt
