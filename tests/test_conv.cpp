// Conv and ConvTranspose through one-node models against a direct fp64
// reference, over groups (incl. depthwise), strides, dilations, asymmetric
// pads, 1-D/2-D/3-D, and every path (indirect GEMM over stride phases, im2col
// into panels in both orientations, tap by tap on small planes, depthwise per
// plane and channels-last),
// with weights as inputs and as initializers, under the best ISA and SSE2;
// results identical at 1 and 2 threads.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "model_builder.h"
#include "normrt/normrt.h"

using namespace normrt;
using test::ModelBuilder;

namespace {

struct ConvCase {
  std::vector<int64_t> x;  // [N, C, spatial...]
  int64_t M, group;
  std::vector<int64_t> k, s, d, pads;
};

// y[n, m, o] = b[m] + Σ w[m, c, k] · x[n, g·cg + c, o·s − pb + k·d]
std::vector<double> conv_reference(const ConvCase& cc, const Tensor& X, const Tensor& W, const Tensor& B,
                                   std::vector<int64_t>* out_shape) {
  const size_t r = cc.k.size();
  std::vector<int64_t> in(cc.x.begin() + 2, cc.x.end()), out(r);
  for (size_t i = 0; i < r; ++i)
    out[i] = (in[i] + cc.pads[i] + cc.pads[i + r] - ((cc.k[i] - 1) * cc.d[i] + 1)) / cc.s[i] + 1;
  *out_shape = {cc.x[0], cc.M};
  out_shape->insert(out_shape->end(), out.begin(), out.end());
  int64_t osz = 1, isz = 1, ksz = 1;
  for (size_t i = 0; i < r; ++i) osz *= out[i], isz *= in[i], ksz *= cc.k[i];
  const int64_t C = cc.x[1], cg = C / cc.group, mg = cc.M / cc.group;
  std::vector<double> y(static_cast<size_t>(cc.x[0] * cc.M * osz));
  for (int64_t n = 0; n < cc.x[0]; ++n)
    for (int64_t m = 0; m < cc.M; ++m)
      for (int64_t o = 0; o < osz; ++o) {
        double acc = B.data<float>()[m];
        const int64_t g = m / mg;
        for (int64_t c = 0; c < cg; ++c)
          for (int64_t kk = 0; kk < ksz; ++kk) {
            int64_t orem = o, krem = kk, at = 0;
            bool inside = true;
            std::vector<int64_t> oi(r), ki(r);
            for (size_t i = r; i-- > 0;) {
              oi[i] = orem % out[i], orem /= out[i];
              ki[i] = krem % cc.k[i], krem /= cc.k[i];
            }
            for (size_t i = 0; i < r; ++i) {
              const int64_t p = oi[i] * cc.s[i] - cc.pads[i] + ki[i] * cc.d[i];
              inside = inside && p >= 0 && p < in[i];
              at = at * in[i] + p;
            }
            if (!inside) continue;
            acc += static_cast<double>(W.data<float>()[(m * cg + c) * ksz + kk]) *
                   X.data<float>()[((n * C) + g * cg + c) * isz + at];
          }
        y[static_cast<size_t>((n * cc.M + m) * osz + o)] = acc;
      }
  return y;
}

// One case per Conv path and geometry (see ops/conv.cpp).
const std::vector<ConvCase>& conv_cases() {
  static const std::vector<ConvCase> cases = {
      {{1, 3, 9, 11}, 5, 1, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}},
      {{2, 4, 10, 7}, 6, 2, {3, 2}, {2, 1}, {1, 2}, {0, 1, 2, 0}},
      {{1, 8, 12, 12}, 8, 8, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}},                  // depthwise, stride 2
      {{1, 8, 9, 9}, 8, 8, {5, 5}, {1, 1}, {2, 2}, {4, 3, 4, 3}},                    // depthwise, dilated
      {{1, 16, 7, 5}, 24, 1, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}},                  // 1×1 (x is the GEMM operand)
      {{2, 3, 17}, 4, 1, {4}, {3}, {1}, {2, 1}},                                     // 1-D
      {{1, 2, 5, 6, 4}, 3, 1, {2, 3, 2}, {1, 2, 1}, {1, 1, 2}, {1, 0, 1, 0, 1, 1}},  // 3-D
      {{1, 40, 2, 2}, 37, 1, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}},  // 2×2: indirect, positions on rows, K > 256
      {{1, 40, 3, 2}, 37, 1, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}},  // 1×1 narrow: x in place, positions on rows
      {{2, 24, 2, 3}, 40, 2, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}},  // the same with groups and batch 2
      {{1, 40, 4, 3}, 37, 1, {1, 1}, {2, 2}, {1, 1}, {0, 0, 0, 0}},  // 1×1 stride 2 narrow: im2col, positions on rows
      {{1, 8, 8, 8}, 24, 1, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}},   // 1×1, plane of whole B panels: x in place as B
      {{2, 8, 4, 8}, 12, 2, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}},   // the same with groups and batch 2
      {{1, 16, 8, 8}, 32, 1, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}},  // 8×8: indirect, positions on the rows (no waste)
      {{1, 20, 11, 9}, 20, 20, {3, 3}, {1, 2}, {1, 1}, {1, 0, 1, 2}},   // depthwise, channels not a vector multiple
      {{1, 9, 12, 12}, 9, 9, {9, 9}, {1, 1}, {1, 1}, {4, 4, 4, 4}},     // depthwise, 81 taps (> 64 per call)
      {{1, 3, 23, 21}, 16, 1, {7, 7}, {2, 2}, {1, 1}, {3, 3, 3, 3}},    // stem: stride 2, 7×7
      {{2, 12, 20, 41}, 12, 12, {3, 3}, {2, 2}, {1, 1}, {1, 0, 1, 2}},  // depthwise per plane, stride 2 (phases)
      {{1, 5, 9, 19}, 5, 5, {3, 5}, {1, 3}, {2, 1}, {2, 2, 1, 3}},      // depthwise per plane, stride 3, dilated
      {{2, 6, 16, 31}, 8, 2, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}},     // indirect GEMM: stride phases, groups, batch 2
      {{1, 4, 13, 30}, 24, 1, {3, 5}, {1, 1}, {2, 1}, {2, 2, 2, 2}},    // indirect GEMM: dilated rows, wide kernel
      {{1, 5, 14, 17}, 7, 1, {3, 3}, {3, 3}, {1, 1}, {2, 1, 0, 2}},     // indirect GEMM: stride 3 phases, uneven pads
      {{1, 4, 5, 2}, 6, 1, {2, 2}, {2, 3}, {1, 1}, {1, 1, 1, 1}},       // input narrower than the column stride
      {{1, 4, 32, 32}, 4, 4, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}},  // depthwise 3×3 stride 2 in place: whole vectors
      {{2, 3, 17, 37}, 3, 3, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}},  // the same, odd rows, scalar right columns
      {{1, 2, 16, 18}, 2, 2, {3, 3}, {2, 2}, {1, 1}, {1, 1, 0, 0}},  // the same, no end padding
      {{1, 2, 9, 15}, 2, 2, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}},   // the same, a row too short for a vector
      {{1, 3, 4, 5, 20}, 3, 3, {2, 3, 3}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1, 0, 1, 1}},  // depthwise 3-D per plane
      {{2, 3, 4, 5, 20}, 3, 3, {2, 3, 3}, {2, 1, 2}, {1, 2, 1}, {0, 1, 1, 1, 0, 1}},  // the same, column phases
      // Tap by tap on small planes (constant W; W as an input takes the indirect GEMM):
      {{1, 260, 3, 3}, 18, 1, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}},  // a tap's K > 256 (two depth blocks)
      {{1, 24, 4, 4}, 70, 1, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}},   // 4×4, 70 outputs (last panel partial)
      {{1, 16, 4, 4}, 33, 1, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}},   // stride 2 onto 2×2: taps reaching 1, 2 rows
      {{1, 6, 5, 5}, 20, 1, {3, 3}, {1, 1}, {2, 2}, {2, 2, 2, 2}},    // dilated: 25, 15, 9 rows (tile remainders)
      {{2, 8, 1, 1}, 10, 2, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}},    // 1×1 plane (the centre tap only), groups
      {{1, 4, 2, 3, 2}, 12, 1, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1, 1, 1, 1}},  // 3-D
      {{1, 16, 16, 16}, 16, 1, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}},  // one panel: 4 blocks of positions, interior
                                                                       // 14×14
      {{1, 12, 8, 9}, 40, 1, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}},  // 8×9, 40 outputs: 2 blocks of positions × panels
  };
  return cases;
}

}  // namespace

TEST_CASE("Conv matches the direct reference over groups, strides, dilations, pads and ranks") {
  int idx = 0;
  for (const ConvCase& cc : conv_cases())
    for (bool const_w : {false, true}) {  // weights packed per run, or once at session creation
      ModelBuilder m(13);
      std::vector<int64_t> w_shape{cc.M, cc.x[1] / cc.group};
      w_shape.insert(w_shape.end(), cc.k.begin(), cc.k.end());
      const Tensor W = test::random_tensor(Shape(w_shape.begin(), w_shape.end()), 20 + idx / 2);
      m.input("x", cc.x).input("b", {cc.M}).output("y");
      if (const_w)
        m.init_f("w", w_shape, std::vector<float>(W.data<float>(), W.data<float>() + W.numel()));
      else
        m.input("w", w_shape);
      auto* n = m.node("Conv", {"x", "w", "b"}, {"y"});
      ModelBuilder::attr_i(n, "group", cc.group);
      ModelBuilder::attr_ints(n, "strides", cc.s);
      ModelBuilder::attr_ints(n, "dilations", cc.d);
      ModelBuilder::attr_ints(n, "pads", cc.pads);
      const Tensor X = test::random_tensor(Shape(cc.x.begin(), cc.x.end()), 10 + idx / 2);
      const Tensor B = test::random_tensor({cc.M}, 30 + idx / 2);
      std::vector<int64_t> out_shape;
      const std::vector<double> ref = conv_reference(cc, X, W, B, &out_shape);
      const auto dir = test::temp_dir("conv" + std::to_string(idx));
      const std::string path = m.save(dir / "m.onnx");
      // The best ISA's kernels and SSE2's (where an ISA-only kernel has a portable fallback).
      for (const char* isa : {"", "sse2"}) {
        std::vector<Tensor> results;
        for (int threads : {1, 2}) {
          SessionOptions o;
          o.threads = threads;
          o.isa = isa;
          Session s(path, o);
          NamedTensors in{{"x", X}, {"b", B}};
          if (!const_w) in.push_back({"w", W});
          results.push_back(s.run(in)[0].second);
        }
        const Tensor& y = results[0];
        INFO("case " << idx / 2 << (const_w ? " (constant W)" : " (W an input)") << ", isa '" << isa << "'");
        REQUIRE(y.shape() == Shape(out_shape.begin(), out_shape.end()));
        double err = 0;
        for (int64_t i = 0; i < y.numel(); ++i) err = std::max(err, std::fabs(y.data<float>()[i] - ref[i]));
        CHECK(err < 1e-4);
        CHECK(std::memcmp(results[0].raw(), results[1].raw(), results[0].nbytes()) == 0);
      }
      ++idx;
    }
}

// Conv → Add Z → Relu runs as one ai.normrt Conv adding Z in its epilogue (every
// path), and Z that broadcasts (per channel; a batch larger than the Conv's)
// takes the pass after the Conv; against the reference, bitwise equal at 1 and 2 threads.
TEST_CASE("Conv with a residual Z and Relu fused matches the reference on every path") {
  int idx = 0;
  for (const ConvCase& cc : conv_cases())
    for (int z_kind = 0; z_kind < 3; ++z_kind) {  // Z as y, Z per channel [M, 1...], Z of batch 2
      if (z_kind > 0 && idx % 4 != 0) {           // the broadcast forms on every fourth case
        ++idx;
        continue;
      }
      ModelBuilder m(13);
      std::vector<int64_t> w_shape{cc.M, cc.x[1] / cc.group};
      w_shape.insert(w_shape.end(), cc.k.begin(), cc.k.end());
      const Tensor W = test::random_tensor(Shape(w_shape.begin(), w_shape.end()), 40 + idx);
      const Tensor X = test::random_tensor(Shape(cc.x.begin(), cc.x.end()), 50 + idx);
      const Tensor B = test::random_tensor({cc.M}, 60 + idx);
      std::vector<int64_t> conv_shape;
      const std::vector<double> ref = conv_reference(cc, X, W, B, &conv_shape);
      std::vector<int64_t> z_shape = conv_shape;
      if (z_kind == 1) {
        z_shape = {cc.M};
        z_shape.resize(conv_shape.size() - 1, 1);
      } else if (z_kind == 2) {
        if (conv_shape[0] != 1) continue;  // Z's batch 2 broadcasts only over the Conv's batch 1
        z_shape[0] = 2;
      }
      const Tensor Z = test::random_tensor(Shape(z_shape.begin(), z_shape.end()), 70 + idx);
      m.input("x", cc.x).input("b", {cc.M}).input("z", z_shape).output("y");
      m.init_f("w", w_shape, std::vector<float>(W.data<float>(), W.data<float>() + W.numel()));
      auto* n = m.node("Conv", {"x", "w", "b"}, {"c"});
      ModelBuilder::attr_i(n, "group", cc.group);
      ModelBuilder::attr_ints(n, "strides", cc.s);
      ModelBuilder::attr_ints(n, "dilations", cc.d);
      ModelBuilder::attr_ints(n, "pads", cc.pads);
      m.node("Add", {"c", "z"}, {"s"});
      m.node("Relu", {"s"}, {"y"});
      const auto dir = test::temp_dir("conv_residual" + std::to_string(idx));
      const std::string path = m.save(dir / "m.onnx");
      const ModelSummary opt = summarize_model(path, true);
      REQUIRE(std::count(opt.op_counts.begin(), opt.op_counts.end(),
                         std::pair<std::string, int>{"ai.normrt::Conv", 1}) == 1);
      REQUIRE(opt.op_counts.size() == 1);  // the Add and the Relu are gone
      std::vector<Tensor> results;
      for (int threads : {1, 2}) {
        SessionOptions o;
        o.threads = threads;
        results.push_back(Session(path, o).run({{"x", X}, {"b", B}, {"z", Z}})[0].second);
      }
      const Tensor& y = results[0];
      INFO("case " << idx / 3 << " Z kind " << z_kind);
      // y = max(0, conv + Z) over the broadcast shape (Z's batch may be larger: conv's n is 0 then).
      std::vector<int64_t> y_shape = conv_shape;
      if (z_kind == 2) y_shape[0] = z_shape[0];
      REQUIRE(y.shape() == Shape(y_shape.begin(), y_shape.end()));
      const int64_t per_image = static_cast<int64_t>(ref.size()) / conv_shape[0], osz = per_image / cc.M;
      double err = 0;
      for (int64_t i = 0; i < y.numel(); ++i) {
        const int64_t img = i / per_image, m_ch = i % per_image / osz;
        const double conv = ref[static_cast<size_t>((conv_shape[0] == 1 ? 0 : img) * per_image + i % per_image)];
        const double z = z_kind == 1 ? Z.data<float>()[m_ch] : Z.data<float>()[i];
        err = std::max(err, std::fabs(y.data<float>()[i] - std::max(0.0, conv + z)));
      }
      CHECK(err < 1e-4);
      CHECK(std::memcmp(results[0].raw(), results[1].raw(), results[0].nbytes()) == 0);
    }
}
