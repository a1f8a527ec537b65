#include "spatial.h"

namespace normrt {

std::vector<int64_t> Window::out_dims() const { return std::vector<int64_t>(out.begin() + (3 - rank), out.end()); }

namespace {

// ⌈a / b⌉ for a >= 0, b > 0, without a + b overflowing.
int64_t ceil_div(int64_t a, int64_t b) { return a / b + (a % b != 0); }

}  // namespace

Window conv_window(const PlanCtx& c, const Shape& in_spatial, const std::vector<int64_t>& kernel, bool ceil_mode) {
  const int r = static_cast<int>(in_spatial.size());
  if (r < 1 || r > 3) c.unsupported(std::to_string(r) + " spatial dims (normrt runs 1 to 3)");
  if (static_cast<int>(kernel.size()) != r) c.fail("kernel_shape must have one entry per spatial dim");
  Window w;
  w.rank = r;
  const auto ints = [&](const char* key, int64_t fallback, size_t n) {
    std::vector<int64_t> v = c.node.attr_ints(key);
    if (v.empty()) v.assign(n, fallback);
    if (v.size() != n) c.fail(std::string(key) + " must have " + std::to_string(n) + " entries");
    return v;
  };
  const std::vector<int64_t> strides = ints("strides", 1, r), dil = ints("dilations", 1, r);
  std::vector<int64_t> pads = ints("pads", 0, 2 * r);
  // Bounds that keep every window computation far from int64 overflow.
  constexpr int64_t kLimit = int64_t{1} << 31;
  for (const std::vector<int64_t>* v :
       std::initializer_list<const std::vector<int64_t>*>{&strides, &dil, &pads, &kernel})
    for (int64_t x : *v)
      if (x < 0 || x > kLimit) c.fail("kernel, strides, dilations and pads must be in [0, 2^31]");
  const std::string auto_pad = c.node.attr_string("auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "VALID" && auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER")
    c.fail("auto_pad '" + auto_pad + "' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER");
  for (int i = 0; i < r; ++i) {
    const int a = 3 - r + i;
    w.in[a] = in_spatial[i];
    w.k[a] = kernel[i];
    w.s[a] = strides[i];
    w.d[a] = dil[i];
    if (w.k[a] < 1 || w.s[a] < 1 || w.d[a] < 1) c.fail("kernel, strides and dilations must be >= 1");
    const int64_t extent = (w.k[a] - 1) * w.d[a] + 1;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      w.out[a] = ceil_div(w.in[a], w.s[a]);
      const int64_t total = std::max<int64_t>(0, ((w.out[a] - 1) * w.s[a] - w.in[a]) + extent);  // (…) in [−in, 0]
      w.pb[a] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      w.pe[a] = total - w.pb[a];
      continue;
    }
    if (auto_pad == "NOTSET") {
      w.pb[a] = pads[i];
      w.pe[a] = pads[i + r];
      if (w.pb[a] < 0 || w.pe[a] < 0) c.fail("pads must be >= 0");
    }
    // An 8-bit input's dim may be near 2^63 when another dim is 0.
    const int64_t span = checked_add(c, w.in[a], w.pb[a] + w.pe[a], "the padded input extent") - extent;
    if (span < 0) c.fail("the kernel is larger than the padded input");
    w.out[a] = (ceil_mode ? ceil_div(span, w.s[a]) : span / w.s[a]) + 1;
    // A ceil-mode window must start inside the input or its left padding:
    // (out − 1)·s < in + pb, asked without the product.
    if (ceil_mode && w.out[a] - 1 >= ceil_div(w.in[a] + w.pb[a], w.s[a])) --w.out[a];
  }
  // Kernels take products of the extents (k_size, out_size, in_size) and cost
  // out_size · k_size · 16 (conv_path.cpp): all of them must fit in int64.
  int64_t ksz = 1, osz = 1, isz = 1;
  for (int a = 0; a < 3; ++a) {
    ksz = checked_mul(c, ksz, w.k[a], "the kernel size (product of kernel_shape)");
    osz = checked_mul(c, osz, w.out[a], "the output size");
    isz = checked_mul(c, isz, w.in[a], "the input size");
  }
  checked_mul(c, checked_mul(c, osz, ksz, "output positions · kernel taps"), 16, "output positions · kernel taps");
  return w;
}

}  // namespace normrt
