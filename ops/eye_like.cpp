// EyeLike: a 2-D tensor of the input's shape (dtype from the attribute, else
// the input's) with ones where column − row = k and zeros elsewhere. One pass
// over the output.
#include <cstring>
#include <type_traits>

#include "dispatch.h"
#include "op.h"

namespace normrt {

namespace {

void plan_eye_like(PlanCtx& c) {
  c.require_inputs(1, 1);
  const Shape& s = c.input(0).shape;
  if (s.size() != 2) c.fail("input must be 2-D, got " + shape_str(s));
  DType dt = c.input(0).dtype;
  if (c.node.has_attr("dtype")) {
    const int64_t code = c.node.attr_int("dtype", 0);
    if (code < 0 || code > 1000 || !dtype_from_onnx(static_cast<int>(code), &dt))
      c.unsupported("dtype " + std::to_string(code) + " (" + onnx_type_name(static_cast<int>(code)) + ")");
  }
  const int64_t k = c.node.attr_int("k", 0);
  c.set_output(0, dt, s);
  const int64_t rows = s[0], cols = s[1];
  c.kernel = [=](KernelIO& io) {
    Tensor& Y = *io.out[0];
    std::memset(Y.raw(), 0, Y.nbytes());
    if (k >= cols || k <= -rows) return;  // no diagonal inside (and i + k cannot overflow below)
    if (dt == DType::BFloat16) {
      uint16_t* y = Y.data<uint16_t>();
      for (int64_t i = 0; i < rows; ++i)
        if (i + k >= 0 && i + k < cols) y[i * cols + i + k] = float_to_bfloat16(1.f);
      return;
    }
    visit_numeric(dt, [&](auto tag) {
      using T = decltype(tag);
      T one;
      if constexpr (std::is_same_v<T, half_t>)
        one.bits = float_to_half(1.f);
      else
        one = static_cast<T>(1);
      T* y = static_cast<T*>(Y.raw());
      for (int64_t i = 0; i < rows; ++i) {
        const int64_t j = i + k;
        if (j >= 0 && j < cols) y[i * cols + j] = one;
      }
    });
  };
}

}  // namespace

void register_eye_like_ops(OpRegistry& r) { r.add("", "EyeLike", {9, 22}, plan_eye_like); }

}  // namespace normrt
