// Pad (any dtype): modes constant, reflect, edge, wrap; pads as attribute
// (Pad-2) or input (Pad-11+, optional constant_value, Pad-18 axes). Negative
// pads crop. Each output element maps to one source index per axis:
//   i = o − pad_begin; outside [0, n): constant → value, edge → clamp,
//   reflect → mirror without repeating the edge, wrap → i mod n.
// One pass writing the output; rows split over threads. Each innermost row is
// a fill, or edges around one block copied from its source row.
#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "op.h"
#include "parallel.h"

namespace normrt {

namespace {

enum class Mode { Constant, Reflect, Edge, Wrap };

// The source index along an axis of size n, or -1 for the constant value.
int64_t source_index(int64_t i, int64_t n, Mode mode) {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case Mode::Constant:
      return -1;
    case Mode::Edge:
      return i < 0 ? 0 : n - 1;
    case Mode::Wrap:
      return ((i % n) + n) % n;
    case Mode::Reflect: {
      if (n == 1) return 0;
      const int64_t period = 2 * (n - 1);
      int64_t m = ((i % period) + period) % period;
      return m < n ? m : period - m;
    }
  }
  return -1;
}

// count copies of the es-byte `value` at dst.
void fill_value(char* dst, int64_t count, const char* value, size_t es) {
  if (count <= 0) return;
  bool zero = true;
  for (size_t b = 0; b < es; ++b) zero = zero && value[b] == 0;
  if (zero || es == 1) {
    std::memset(dst, zero ? 0 : value[0], static_cast<size_t>(count) * es);
    return;
  }
  const auto typed = [&](auto tag) {
    using U = decltype(tag);
    U v;
    std::memcpy(&v, value, sizeof v);
    for (int64_t i = 0; i < count; ++i) std::memcpy(dst + static_cast<size_t>(i) * sizeof v, &v, sizeof v);
  };
  if (es == 2)
    typed(uint16_t{});
  else if (es == 4)
    typed(uint32_t{});
  else if (es == 8)
    typed(uint64_t{});
  else
    for (int64_t i = 0; i < count; ++i) std::memcpy(dst + static_cast<size_t>(i) * es, value, es);
}

void plan_pad(PlanCtx& c) {
  const Shape& in = c.input(0).shape;
  const int64_t r = static_cast<int64_t>(in.size());
  if (r == 0) c.fail("X must have rank >= 1");
  const std::string mode_s = c.node.attr_string("mode", "constant");
  Mode mode;
  if (mode_s == "constant")
    mode = Mode::Constant;
  else if (mode_s == "reflect")
    mode = Mode::Reflect;
  else if (mode_s == "edge")
    mode = Mode::Edge;
  else if (mode_s == "wrap" && c.version >= 19)
    mode = Mode::Wrap;
  else
    c.fail("mode '" + mode_s + "' is not supported");
  std::vector<int64_t> pads(static_cast<size_t>(2 * r), 0);
  std::vector<char> value(dtype_size(c.input(0).dtype), 0);
  if (c.version < 11) {
    c.require_inputs(1, 1);
    const std::vector<int64_t> p = c.node.attr_ints("pads");
    if (static_cast<int64_t>(p.size()) != 2 * r) c.fail("pads must have 2·rank entries");
    pads = p;
    const float v = c.node.attr_float("value", 0.f);
    if (c.input(0).dtype != DType::Float32) c.unsupported("Pad-2 on a non-float tensor");
    std::memcpy(value.data(), &v, sizeof v);
  } else {
    c.require_inputs(2, 4);
    const std::vector<int64_t> p = int_values(c, 1, "pads");
    std::vector<int64_t> axes;
    if (c.has_input(3)) {
      axes = int_values(c, 3, "axes");
    } else {
      for (int64_t a = 0; a < r; ++a) axes.push_back(a);
    }
    if (p.size() != 2 * axes.size()) c.fail("pads must have 2 entries per padded axis");
    for (size_t k = 0; k < axes.size(); ++k) {
      const size_t a = static_cast<size_t>(normalize_axis(c, axes[k], r, "axes entry"));
      pads[a] = p[k];
      pads[a + static_cast<size_t>(r)] = p[k + axes.size()];
    }
    if (c.has_input(2)) {
      const Tensor& v = c.constant_input(2);
      if (v.numel() != 1 || v.dtype() != c.input(0).dtype) c.fail("constant_value must be a scalar of X's dtype");
      std::memcpy(value.data(), v.raw(), value.size());
    }
  }
  Shape out(in.size());
  for (int64_t d = 0; d < r; ++d) {
    const size_t a = static_cast<size_t>(d);
    out[a] = checked_add(c, checked_add(c, in[a], pads[a], "the padded shape"), pads[a + static_cast<size_t>(r)],
                         "the padded shape");
    if (out[a] < 0) c.fail("pads crop more than axis " + std::to_string(d) + " holds");
    // The kernel reads source index o − pad_begin for o in [0, out): it must fit too.
    if (pads[a] == std::numeric_limits<int64_t>::min()) c.fail("pad_begin -2^63 overflows int64");
    checked_add(c, out[a], -pads[a], "the padded shape minus pad_begin");
    if (in[a] == 0 && out[a] > 0 && mode != Mode::Constant) c.fail("cannot " + mode_s + "-pad an empty axis");
  }
  c.set_output(0, c.input(0).dtype, out);
  const size_t es = dtype_size(c.input(0).dtype);
  const size_t rr = in.size();
  std::vector<int64_t> st(rr);  // the input's strides
  int64_t s = 1;
  for (size_t d = rr; d-- > 0;) {
    st[d] = s;
    s *= in[d];
  }
  // Innermost rows: outputs [lo, hi) copy x[o − pad_begin] as one block; the
  // edges [0, lo) and [hi, inner) are filled (constant) or mapped per element.
  const int64_t inner = out[rr - 1], nl = in[rr - 1], pb = pads[rr - 1];
  const int64_t lo = std::clamp<int64_t>(pb, 0, inner);
  const int64_t hi = std::clamp<int64_t>(pb + nl, lo, inner);  // in + pad_begin fits: checked above
  c.kernel = [=](KernelIO& io) {
    const int64_t n = io.out[0]->numel();
    if (n == 0) return;
    const char* x = static_cast<const char*>(io.in[0]->raw());
    char* y = static_cast<char*>(io.out[0]->raw());
    const auto edge = [&](char* yr, int64_t from, int64_t to, int64_t off) {
      if (mode == Mode::Constant) {
        fill_value(yr + static_cast<size_t>(from) * es, to - from, value.data(), es);
        return;
      }
      for (int64_t o = from; o < to; ++o)
        std::memcpy(yr + static_cast<size_t>(o) * es,
                    x + static_cast<size_t>(off + source_index(o - pb, nl, mode)) * es, es);
    };
    parallel_rows(n / inner, inner, [&](int64_t first, int64_t last) {
      for (int64_t row = first; row < last; ++row) {
        int64_t rem = row, off = 0;
        bool fill = false;
        for (size_t d = rr - 1; d-- > 0;) {
          const int64_t o = rem % out[d];
          rem /= out[d];
          const int64_t i = source_index(o - pads[d], in[d], mode);
          if (i < 0) fill = true;
          off += i * st[d];
        }
        char* yr = y + static_cast<size_t>(row * inner) * es;
        if (fill) {
          fill_value(yr, inner, value.data(), es);
          continue;
        }
        edge(yr, 0, lo, off);
        if (hi > lo)
          std::memcpy(yr + static_cast<size_t>(lo) * es, x + static_cast<size_t>(off + lo - pb) * es,
                      static_cast<size_t>(hi - lo) * es);
        edge(yr, hi, inner, off);
      }
    });
  };
}

}  // namespace

void register_pad_ops(OpRegistry& r) { r.add("", "Pad", {2, 11, 13, 18, 19, 21}, plan_pad); }

}  // namespace normrt
