// MaxUnpool (versions 9, 11, 22): the partial inverse of MaxPool.
//   inferred[d] = (X[d] − 1)·stride + kernel − pad_begin − pad_end  (spatial d)
//   Y = 0;  Y[coords of I[i] in the inferred shape] = X[i]
// I holds flat indices into the inferred [N, C, spatial...] tensor (MaxPool's
// Indices output). With the output_shape input (every dim at least the
// inferred one) the values keep their coordinates and Y is zero-padded at the
// end of each axis, as in the ONNX tests. One pass zeroing Y, one scattering X;
// an index outside the inferred tensor throws from the kernel.
#include <cstring>
#include <vector>

#include "op.h"

namespace normrt {

namespace {

void plan_max_unpool(PlanCtx& c) {
  c.require_inputs(2, 3);
  c.require_dtype(0, {DType::Float32, DType::Float16, DType::Float64});
  c.require_dtype(1, {DType::Int64});
  const Shape& X = c.input(0).shape;
  if (X.size() < 3) c.fail("X must be [N, C, spatial...]");
  if (c.input(1).shape != X) c.fail("I must have X's shape");
  const size_t dims = X.size() - 2;
  const std::vector<int64_t> kernel = c.node.attr_ints("kernel_shape");
  if (kernel.size() != dims) c.fail("kernel_shape must give one extent per spatial axis");
  std::vector<int64_t> strides = c.node.attr_ints("strides");
  if (strides.empty()) strides.assign(dims, 1);
  std::vector<int64_t> pads = c.node.attr_ints("pads");
  if (pads.empty()) pads.assign(2 * dims, 0);
  if (strides.size() != dims) c.fail("strides must give one value per spatial axis");
  if (pads.size() != 2 * dims) c.fail("pads must give two values per spatial axis");
  Shape inferred{X[0], X[1]};
  for (size_t d = 0; d < dims; ++d) {
    if (kernel[d] <= 0) c.fail("kernel_shape values must be positive");
    if (strides[d] <= 0) c.fail("strides must be positive");
    if (pads[d] < 0 || pads[d + dims] < 0) c.fail("pads must not be negative");
    int64_t v = checked_mul(c, X[d + 2] > 0 ? X[d + 2] - 1 : 0, strides[d], "the unpooled extent");
    v = checked_add(c, v, kernel[d], "the unpooled extent");
    v = checked_add(c, v, -pads[d], "the unpooled extent");
    v = checked_add(c, v, -pads[d + dims], "the unpooled extent");
    if (v < 0) c.fail("the pads exceed the unpooled extent of spatial axis " + std::to_string(d));
    inferred.push_back(X[d + 2] == 0 ? 0 : v);
  }
  Shape out = inferred;
  if (c.has_input(2)) {
    out = int_values(c, 2, "output_shape");
    if (out.size() != X.size()) c.fail("output_shape must have X's rank");
    for (size_t d = 0; d < out.size(); ++d)
      if (out[d] < inferred[d] || (d < 2 && out[d] != inferred[d]))
        c.fail("output_shape " + std::to_string(out[d]) + " on axis " + std::to_string(d) +
               " is smaller than the unpooled extent " + std::to_string(inferred[d]) + " (or changes N or C)");
  }
  c.set_output(0, c.input(0).dtype, out);
  const int64_t total = shape_numel(inferred);
  const size_t esize = dtype_size(c.input(0).dtype);
  const std::string where = c.node.where();
  c.kernel = [=](KernelIO& io) {
    const char* x = static_cast<const char*>(io.in[0]->raw());
    const int64_t* ind = io.in[1]->data<int64_t>();
    char* y = static_cast<char*>(io.out[0]->raw());
    std::memset(y, 0, io.out[0]->nbytes());
    const int64_t n = io.in[0]->numel();
    for (int64_t i = 0; i < n; ++i) {
      int64_t idx = ind[i];
      if (idx < 0 || idx >= total)
        throw Error(ErrorCode::InvalidArgument, where + ": index " + std::to_string(idx) +
                                                    " is outside the unpooled tensor of " + std::to_string(total) +
                                                    " elements");
      // the same coordinates in the (possibly larger) output shape
      int64_t at = 0, scale = 1;
      for (size_t d = out.size(); d-- > 0;) {
        at += (idx % inferred[d]) * scale;
        idx /= inferred[d];
        scale *= out[d];
      }
      std::memcpy(y + at * static_cast<int64_t>(esize), x + i * static_cast<int64_t>(esize), esize);
    }
  };
}

}  // namespace

void register_unpool_ops(OpRegistry& r) { r.add("", "MaxUnpool", {9, 11, 22}, plan_max_unpool); }

}  // namespace normrt
