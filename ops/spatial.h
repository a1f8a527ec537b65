// Window geometry shared by Conv, ConvTranspose and the pools: per spatial
// axis the kernel extent, stride, dilation, begin/end padding and output
// size, from the attributes (auto_pad NOTSET/VALID/SAME_UPPER/SAME_LOWER,
// pads, strides, dilations). Up to 3 spatial axes; 1-D and 2-D ops are run
// as 3-D with leading axes of size 1.
#pragma once
#include <array>
#include <vector>

#include "op.h"

namespace normrt {

struct Window {
  int rank = 0;                         // spatial axes in the model (1..3)
  std::array<int64_t, 3> in{1, 1, 1};   // input extent, padded to 3 axes (leading 1s)
  std::array<int64_t, 3> k{1, 1, 1};    // kernel extent
  std::array<int64_t, 3> s{1, 1, 1};    // stride
  std::array<int64_t, 3> d{1, 1, 1};    // dilation
  std::array<int64_t, 3> pb{0, 0, 0};   // padding at the start
  std::array<int64_t, 3> pe{0, 0, 0};   // padding at the end
  std::array<int64_t, 3> out{1, 1, 1};  // output extent
  int64_t in_size() const { return in[0] * in[1] * in[2]; }
  int64_t out_size() const { return out[0] * out[1] * out[2]; }
  int64_t k_size() const { return k[0] * k[1] * k[2]; }
  std::vector<int64_t> out_dims() const;  // the model's spatial output dims
  // 2-D, 3×3, stride 2, undilated, padded by 1 before each axis (the
  // downsampling window of ResNet's pool and MobileNet's depthwise layers).
  bool is_3x3_stride2_pad1() const {
    return in[0] == 1 && k[0] == 1 && pb[0] == 0 && pe[0] == 0 && k[1] == 3 && k[2] == 3 && s[1] == 2 && s[2] == 2 &&
           d[1] == 1 && d[2] == 1 && pb[1] == 1 && pb[2] == 1;
  }
  // 2-D, 3×3, stride 1, undilated, padded by 1 on every side (output as large as the input).
  bool is_3x3_stride1_pad1() const {
    return in[0] == 1 && k[0] == 1 && pb[0] == 0 && pe[0] == 0 && k[1] == 3 && k[2] == 3 && s[1] == 1 && s[2] == 1 &&
           d[1] == 1 && d[2] == 1 && pb[1] == 1 && pb[2] == 1 && pe[1] == 1 && pe[2] == 1;
  }
};

// Calls f(k0, k1, i0, i1) for each kernel tap (k0, k1) of output row (o0, o1)
// whose input row (i0, i1) = (o·s − pb + k·d on axes 0 and 1) lies inside the
// input: the window walk of depthwise channels-last and MaxPool's row path.
template <class F>
inline void for_each_tap_row(const Window& w, int64_t o0, int64_t o1, F&& f) {
  for (int64_t k0 = 0; k0 < w.k[0]; ++k0) {
    const int64_t i0 = o0 * w.s[0] - w.pb[0] + k0 * w.d[0];
    if (i0 < 0 || i0 >= w.in[0]) continue;
    for (int64_t k1 = 0; k1 < w.k[1]; ++k1) {
      const int64_t i1 = o1 * w.s[1] - w.pb[1] + k1 * w.d[1];
      if (i1 >= 0 && i1 < w.in[1]) f(k0, k1, i0, i1);
    }
  }
}

// Reads kernel extents `kernel` (spatial dims only), strides, dilations, pads
// and auto_pad; computes the output extent of a convolution or (ceil_mode) pool.
Window conv_window(const PlanCtx& c, const Shape& in_spatial, const std::vector<int64_t>& kernel, bool ceil_mode);

}  // namespace normrt
