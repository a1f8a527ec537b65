// BitShift (uint8/16/32/64) with numpy broadcasting: y = x << s (LEFT) or
// x >> s (RIGHT); a shift of the element width or more gives 0. One pass over
// memory (broadcast_binary).
#include <type_traits>

#include "broadcast.h"
#include "dispatch.h"
#include "op.h"
#include "parallel.h"

namespace normrt {

namespace {

void plan_bitshift(PlanCtx& c) {
  c.require_inputs(2, 2);
  c.require_dtype(0, {DType::UInt8, DType::UInt16, DType::UInt32, DType::UInt64});
  if (c.input(1).dtype != c.input(0).dtype) c.fail("X and Y differ in dtype");
  const std::string dir = c.node.attr_string("direction", "");
  if (dir != "LEFT" && dir != "RIGHT") c.fail("direction '" + dir + "' is not LEFT or RIGHT");
  const bool left = dir == "LEFT";
  Shape out;
  if (!broadcast_shapes(c.input(0).shape, c.input(1).shape, &out))
    c.fail("shapes " + shape_str(c.input(0).shape) + " and " + shape_str(c.input(1).shape) + " do not broadcast");
  const DType t = c.input(0).dtype;
  c.set_output(0, t, out);
  c.kernel = [t, left](KernelIO& io) {
    visit_numeric(t, [&](auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_unsigned_v<T> && !std::is_same_v<T, bool>) {
        constexpr T width = static_cast<T>(8 * sizeof(T));
        const auto shift = [left](T x, T s) -> T {
          if (s >= width) return T(0);
          return left ? static_cast<T>(static_cast<uint64_t>(x) << s) : static_cast<T>(x >> s);
        };
        broadcast_binary<T, T, T>(*io.in[0], *io.in[1], *io.out[0], shift,
                                  [](int64_t rows, int64_t work, auto&& body) { parallel_rows(rows, work, body); });
      }
    });
  };
}

}  // namespace

void register_bitshift_ops(OpRegistry& r) { r.add("", "BitShift", {11}, plan_bitshift); }

}  // namespace normrt
