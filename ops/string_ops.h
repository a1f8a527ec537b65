// String tensors in ops: what the ops that take them share (string_ops.cpp,
// string_cast.cpp).
#pragma once
#include "op.h"

namespace normrt {

// Cast / CastLike where the source or the target is String (string_cast.cpp).
void plan_string_cast(PlanCtx& c, DType src, DType dst);

}  // namespace normrt
