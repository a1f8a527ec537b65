// The per-tensor size limit at planning time (core/tensor.cpp's
// max_tensor_bytes): the op registry checks each output an op plans, the
// planner every value of the plan.
#pragma once
#include <cstdint>
#include <string>

#include "normrt/tensor.h"

namespace normrt {

// Error(InvalidArgument) "WHAT DTYPE[SHAPE] needs N bytes, over the limit of M"
// when a planned value of `bytes` exceeds max_tensor_bytes() (a hostile shape:
// refused before anything of its size is built or allocated).
void require_within_tensor_limit(uint64_t bytes, const std::string& what, DType dtype, const Shape& shape);

}  // namespace normrt
