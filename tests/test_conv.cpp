// Conv through one-node models against the fp64 reference loop
// (ops/conv/conv_reference.h), over groups (incl. depthwise), strides,
// dilations, asymmetric pads, 1-D/2-D/3-D, and every path of conv_path.h
// (each case asserts the one the chooser takes, read from the run's profile),
// with weights as inputs and as initializers, on every ISA path this CPU runs
// (winograd: test_winograd.cpp);
// results identical at 1 and 2 threads.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "model_builder.h"
#include "normrt/normrt.h"
#include "ops/conv/conv_reference.h"
#include "ops/kernel_set.h"

using namespace normrt;
using test::ModelBuilder;

namespace {

struct ConvCase {
  std::vector<int64_t> x;  // [N, C, spatial...]
  int64_t M, group;
  std::vector<int64_t> k, s, d, pads;
  // The path the chooser takes (conv_path.h's names) with W an initializer, and
  // with W an input where that differs (nullptr: the same); each may name
  // another path for an ISA, "path isa:path" (see expected_path).
  const char* path = nullptr;
  const char* path_w_input = nullptr;
};

// The path expected on the kernel set k: the case's path, or `isa:path` for an
// ISA that takes another (its register tiles pad differently; SSE2 has no
// in-place depthwise 3×3 stride 2).
std::string expected_path(const ConvCase& cc, bool const_w, const KernelSet& k) {
  std::istringstream spec(const_w || !cc.path_w_input ? cc.path : cc.path_w_input);
  const std::string isa = std::string(k.isa) + ":";
  std::string path, other;
  spec >> path;
  while (spec >> other)
    if (other.rfind(isa, 0) == 0) return other.substr(isa.size());
  return path;
}

// The Conv node's path in a run's profile.
std::string conv_detail(const RunProfile& prof) {
  for (const NodeProfile& n : prof.nodes)
    if (n.op_type == "Conv" || n.op_type == "ai.normrt::Conv") return n.detail;
  return "(no Conv node)";
}

// The fp64 reference (conv::conv_reference, the plain loop) for case cc; its output shape in out_shape.
std::vector<double> conv_reference(const ConvCase& cc, const Tensor& X, const Tensor& W, const Tensor& B,
                                   std::vector<int64_t>* out_shape) {
  const size_t r = cc.k.size();
  Window w;
  w.rank = static_cast<int>(r);
  *out_shape = {cc.x[0], cc.M};
  for (size_t i = 0; i < r; ++i) {
    const size_t a = 3 - r + i;
    w.in[a] = cc.x[2 + i], w.k[a] = cc.k[i], w.s[a] = cc.s[i], w.d[a] = cc.d[i];
    w.pb[a] = cc.pads[i], w.pe[a] = cc.pads[i + r];
    w.out[a] = (w.in[a] + w.pb[a] + w.pe[a] - ((w.k[a] - 1) * w.d[a] + 1)) / w.s[a] + 1;
    out_shape->push_back(w.out[a]);
  }
  const auto f64 = [](const Tensor& t) { return std::vector<double>(t.data<float>(), t.data<float>() + t.numel()); };
  const std::vector<double> x = f64(X), wt = f64(W), b = f64(B);
  std::vector<double> y(static_cast<size_t>(cc.x[0] * cc.M * w.out_size()));
  conv::conv_reference<double>(x.data(), wt.data(), b.data(), w, conv::ConvShape{cc.x[0], cc.x[1], cc.M, cc.group},
                               y.data());
  return y;
}

// One case per Conv path and geometry (ops/conv/), with the path it takes.
const std::vector<ConvCase>& conv_cases() {
  static const std::vector<ConvCase> cases = {
      // 3 channels, constant W: direct rows (11 outputs a row: one partial vector)
      {{1, 3, 9, 11}, 5, 1, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, "direct-rows", "indirect-columns"},
      {{2, 4, 10, 7}, 6, 2, {3, 2}, {2, 1}, {1, 2}, {0, 1, 2, 0}, "indirect-rows avx2:taps sse2:taps", "indirect-rows"},
      // depthwise 3×3 stride 2, 6 outputs a row: the in-place kernel's masked block (sse2: channels last)
      {{1, 8, 12, 12}, 8, 8, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, "depthwise-3x3s2 sse2:depthwise-channels-last"},
      // 7 outputs a row from 14 (MobileNet's 14×14 → 7×7), batch 2
      {{2, 6, 14, 14}, 6, 6, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, "depthwise-3x3s2 sse2:depthwise-channels-last"},
      // depthwise, dilated (rows shrink: 3 + 3 < (5 − 1)·2)
      {{1, 8, 9, 9}, 8, 8, {5, 5}, {1, 1}, {2, 2}, {4, 3, 4, 3}, "depthwise-channels-last"},
      // the same with rows as wide as the input's (4 + 4 = (5 − 1)·2): flat
      {{1, 8, 9, 9}, 8, 8, {5, 5}, {1, 1}, {2, 2}, {3, 4, 2, 4}, "depthwise-flat"},
      // depthwise 3×3 padded by 1 on 14×14 (rows narrower than avx512's vector), batch 2: in place
      // (sse2: flat)
      {{2, 6, 14, 14}, 6, 6, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, "depthwise-3x3s1 sse2:depthwise-flat"},
      // the same in place on 7×7 (avx512: 8-lane blocks) and on rows of 4 vectors and 3 more (4 + 1 blocks)
      {{1, 5, 7, 7}, 5, 5, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, "depthwise-3x3s1 sse2:depthwise-flat"},
      {{1, 3, 5, 67}, 3, 3, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, "depthwise-3x3s1 sse2:depthwise-flat"},
      // one row, one column
      {{2, 2, 1, 9}, 2, 2, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, "depthwise-3x3s1 sse2:depthwise-flat"},
      {{1, 2, 9, 1}, 2, 2, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, "depthwise-3x3s1 sse2:depthwise-flat"},
      // depthwise flat: uneven pads (0 above, 2 below; 1 left, 3 right), rows of 9
      {{1, 4, 7, 9}, 4, 4, {3, 5}, {1, 1}, {1, 1}, {0, 1, 2, 3}, "depthwise-flat"},
      // depthwise flat: columns dilated by 2, rows of 23 (a vector and a part)
      {{1, 3, 5, 23}, 3, 3, {2, 3}, {1, 1}, {1, 2}, {1, 1, 0, 3}, "depthwise-flat"},
      // depthwise flat: one column (every vector wraps rows), 1-D
      {{1, 3, 10, 1}, 3, 3, {3, 1}, {1, 1}, {1, 1}, {1, 0, 1, 0}, "depthwise-flat"},
      {{2, 5, 37}, 5, 5, {3}, {1}, {1}, {1, 1}, "depthwise-flat"},
      // rows of whole 4-float vectors: per plane on sse2, in place on avx2 and avx512
      {{1, 4, 6, 16}, 4, 4, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, "depthwise-3x3s1 sse2:depthwise-planes"},
      // flat with zero rows past the bottom (pe = 2), batch 2, enough work for 2 threads
      {{2, 16, 30, 20}, 16, 16, {3, 3}, {1, 1}, {1, 1}, {1, 1, 2, 1}, "depthwise-flat sse2:depthwise-planes"},
      // the same dilated along the rows (taps 2 rows apart) and unpadded on top
      {{1, 12, 25, 18}, 12, 12, {3, 3}, {1, 1}, {2, 1}, {0, 1, 3, 1}, "depthwise-flat"},
      // depthwise, stride 1 unpadded (rows shrink to 10): per plane
      {{1, 8, 12, 12}, 8, 8, {3, 3}, {1, 1}, {1, 1}, {0, 0, 0, 0}, "depthwise-planes"},
      // 1×1 (x is the GEMM operand in place; 35 positions: the last ones copied into one panel)
      {{1, 16, 7, 5}, 24, 1, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, "pointwise-b avx512:pointwise-a"},
      // 1-D
      {{2, 3, 17}, 4, 1, {4}, {3}, {1}, {2, 1}, "indirect-columns avx2:taps sse2:taps", "indirect-columns"},
      // 3-D
      {{1, 2, 5, 6, 4}, 3, 1, {2, 3, 2}, {1, 2, 1}, {1, 1, 2}, {1, 0, 1, 0, 1, 1}, "taps", "im2col"},
      // 2×2: indirect, positions on rows, K > 256
      {{1, 40, 2, 2}, 37, 1, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, "taps", "indirect-rows"},
      // 1×1 narrow: x in place, positions on rows
      {{1, 40, 3, 2}, 37, 1, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, "pointwise-a"},
      // the same with groups and batch 2
      {{2, 24, 2, 3}, 40, 2, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, "pointwise-a sse2:pointwise-b"},
      // 1×1 stride 2 narrow: im2col, positions on rows
      {{1, 40, 4, 3}, 37, 1, {1, 1}, {2, 2}, {1, 1}, {0, 0, 0, 0}, "im2col-transposed"},
      // 1×1, plane of whole B panels: x in place as B
      {{1, 8, 8, 8}, 24, 1, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, "pointwise-b"},
      // the same with groups and batch 2
      {{2, 8, 4, 8}, 12, 2, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, "pointwise-b"},
      // 1×1, whole panels and a partial one (63 positions), K > 256 (two depth blocks)
      {{1, 300, 7, 9}, 96, 1, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, "pointwise-b"},
      // the same with groups and batch 2, 45 positions
      {{2, 24, 5, 9}, 36, 2, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, "pointwise-b"},
      // 8×8: indirect, positions on the rows (no waste)
      {{1, 12, 8, 8},
       32,
       1,
       {3, 3},
       {1, 1},
       {1, 1},
       {1, 1, 1, 1},
       "indirect-rows avx2:taps sse2:taps",
       "indirect-rows"},
      // depthwise, channels not a vector multiple
      {{1, 20, 11, 9}, 20, 20, {3, 3}, {1, 2}, {1, 1}, {1, 0, 1, 2}, "depthwise-channels-last"},
      // depthwise, 81 taps (> 64 per call)
      {{1, 9, 12, 12}, 9, 9, {9, 9}, {1, 1}, {1, 1}, {4, 4, 4, 4}, "depthwise-flat sse2:depthwise-planes"},
      // stem: stride 2, 7×7 (W an input: indirect)
      {{1, 3, 23, 21}, 16, 1, {7, 7}, {2, 2}, {1, 1}, {3, 3, 3, 3}, "direct-rows", "indirect-rows"},
      // direct rows: 37 output channels (not a whole tile), 34 outputs a row, two bands, batch 2
      {{2, 3, 20, 67},
       37,
       1,
       {3, 3},
       {2, 2},
       {1, 1},
       {1, 1, 1, 1},
       "direct-rows",
       "indirect-columns sse2:indirect-rows"},
      // one channel, uneven pads, rows of 200 (runs of vectors split evenly)
      {{1, 1, 9, 200}, 5, 1, {3, 3}, {1, 1}, {1, 1}, {0, 2, 1, 1}, "direct-rows", "indirect-columns"},
      // column stride 3 (three phases), uneven pads; a real stem's 112 outputs a row
      {{1, 4, 12, 52}, 9, 1, {2, 4}, {1, 3}, {1, 1}, {1, 0, 2, 3}, "direct-rows", "indirect-columns"},
      {{1, 3, 34, 224}, 6, 1, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, "direct-rows", "indirect-columns"},
      // 1-D, stride 3, dilated
      {{2, 2, 50}, 6, 1, {5}, {3}, {2}, {3, 2}, "direct-rows", "indirect-columns sse2:indirect-rows"},
      // depthwise per plane, stride 2 (phases)
      {{2, 12, 20, 41}, 12, 12, {3, 3}, {2, 2}, {1, 1}, {1, 0, 1, 2}, "depthwise-planes"},
      // depthwise, stride 3, dilated (5 outputs a row: channels last)
      {{1, 5, 9, 19}, 5, 5, {3, 5}, {1, 3}, {2, 1}, {2, 2, 1, 3}, "depthwise-channels-last"},
      // indirect GEMM: stride phases, groups, batch 2
      {{2, 6, 16, 31},
       8,
       2,
       {3, 3},
       {2, 2},
       {1, 1},
       {1, 1, 1, 1},
       "indirect-columns avx2:taps sse2:taps",
       "indirect-columns"},
      // dilated rows, wide kernel (W an input: indirect GEMM)
      {{1, 4, 13, 30},
       24,
       1,
       {3, 5},
       {1, 1},
       {2, 1},
       {2, 2, 2, 2},
       "direct-rows",
       "indirect-columns sse2:indirect-rows"},
      // the same on 5 channels: indirect GEMM
      {{1, 5, 13, 30},
       24,
       1,
       {3, 5},
       {1, 1},
       {2, 1},
       {2, 2, 2, 2},
       "indirect-columns avx2:taps sse2:taps",
       "indirect-columns sse2:indirect-rows"},
      // indirect GEMM: stride 3 phases, uneven pads
      {{1, 5, 14, 17},
       7,
       1,
       {3, 3},
       {3, 3},
       {1, 1},
       {2, 1, 0, 2},
       "indirect-columns avx2:taps sse2:taps",
       "indirect-columns sse2:indirect-rows"},
      // input narrower than the column stride
      {{1, 4, 5, 2}, 6, 1, {2, 2}, {2, 3}, {1, 1}, {1, 1, 1, 1}, "taps", "indirect-rows"},
      // depthwise 3×3 stride 2 in place: whole vectors
      {{1, 4, 32, 32}, 4, 4, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, "depthwise-3x3s2 sse2:depthwise-planes"},
      // the same, odd rows, scalar right columns
      {{2, 3, 17, 37}, 3, 3, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, "depthwise-3x3s2 sse2:depthwise-planes"},
      // the same, no end padding
      {{1, 2, 16, 18}, 2, 2, {3, 3}, {2, 2}, {1, 1}, {1, 1, 0, 0}, "depthwise-3x3s2 sse2:depthwise-planes"},
      // the same, a row too short for a vector
      {{1, 2, 9, 15}, 2, 2, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, "depthwise-3x3s2 sse2:depthwise-planes"},
      // depthwise 3-D per plane
      {{1, 3, 4, 5, 20}, 3, 3, {2, 3, 3}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1, 0, 1, 1}, "depthwise-planes"},
      // the same, column phases
      {{2, 3, 4, 5, 20}, 3, 3, {2, 3, 3}, {2, 1, 2}, {1, 2, 1}, {0, 1, 1, 1, 0, 1}, "depthwise-planes"},
      // Tap by tap on small planes (constant W; W as an input takes the indirect GEMM):
      // a tap's K > 256 (two depth blocks)
      {{1, 260, 3, 3}, 18, 1, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, "taps", "indirect-rows"},
      // 4×4, 70 outputs (last panel partial)
      {{1, 24, 4, 4}, 70, 1, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, "taps", "indirect-rows"},
      // stride 2 onto 2×2: taps reaching 1, 2 rows
      {{1, 16, 4, 4}, 33, 1, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, "taps", "indirect-rows"},
      // dilated: 25, 15, 9 rows (tile remainders)
      {{1, 6, 5, 5}, 20, 1, {3, 3}, {1, 1}, {2, 2}, {2, 2, 2, 2}, "taps", "indirect-rows"},
      // many groups (ResNeXt's 32, RegNet's 9): the (image, group) items split over the threads
      {{1, 64, 14, 14},
       64,
       32,
       {3, 3},
       {1, 1},
       {1, 1},
       {1, 1, 1, 1},
       "indirect-columns avx2:taps sse2:taps",
       "indirect-columns"},
      {{1, 64, 15, 15},
       64,
       32,
       {3, 3},
       {2, 2},
       {1, 1},
       {1, 1, 1, 1},
       "indirect-columns avx2:taps sse2:taps",
       "indirect-columns"},
      {{2, 72, 9, 9},
       36,
       9,
       {3, 3},
       {1, 1},
       {1, 1},
       {1, 1, 1, 1},
       "indirect-columns avx2:taps sse2:taps",
       "indirect-columns"},
      {{1, 96, 10, 10}, 48, 8, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, "pointwise-b"},
      // 1×1 plane (the centre tap only), groups
      {{2, 8, 1, 1}, 10, 2, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, "taps", "indirect-rows"},
      // 3-D
      {{1, 4, 2, 3, 2}, 12, 1, {3, 3, 3}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1, 1, 1, 1}, "taps", "im2col"},
      // 16×16 and 8×9 padded by 1 (a tenth, a sixth of the position-taps in the padding): the indirect GEMM on avx512
      // (12 input channels: with 16 and more, winograd)
      {{1, 12, 16, 16},
       16,
       1,
       {3, 3},
       {1, 1},
       {1, 1},
       {1, 1, 1, 1},
       "indirect-columns avx2:taps sse2:taps",
       "indirect-rows avx512:indirect-columns"},
      {{1, 12, 8, 9},
       40,
       1,
       {3, 3},
       {1, 1},
       {1, 1},
       {1, 1, 1, 1},
       "indirect-columns avx2:taps sse2:taps",
       "indirect-rows avx512:indirect-columns"},
      // dilated by 4, padded by 4 (a third in the padding): taps; one panel, 4 blocks of positions
      {{1, 16, 16, 16}, 16, 1, {3, 3}, {1, 1}, {4, 4}, {4, 4, 4, 4}, "taps", "indirect-rows"},
      // the same on 8×9, 40 outputs: 2 blocks of positions × panels
      {{1, 12, 8, 9}, 40, 1, {3, 3}, {1, 1}, {4, 4}, {4, 4, 4, 4}, "taps", "indirect-rows"},
  };
  return cases;
}

}  // namespace

TEST_CASE("Conv matches the direct reference over groups, strides, dilations, pads and ranks") {
  const std::vector<const KernelSet*> sets = available_kernel_sets();
  int idx = 0;  // case · 2 + const_w
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
      // Every ISA path this CPU runs (an ISA-only kernel must agree with the portable one).
      for (const KernelSet* k : sets) {
        std::vector<Tensor> results;
        std::vector<std::string> paths;
        for (int threads : {1, 2}) {
          SessionOptions o;
          o.threads = threads;
          o.isa = k->isa;
          Session s(path, o);
          NamedTensors in{{"x", X}, {"b", B}};
          if (!const_w) in.push_back({"w", W});
          RunProfile prof;
          results.push_back(s.run(in, &prof)[0].second);
          paths.push_back(conv_detail(prof));
        }
        const Tensor& y = results[0];
        INFO("case " << idx / 2 << (const_w ? " (constant W)" : " (W an input)") << ", isa " << std::string(k->isa));
        CHECK(paths[0] == expected_path(cc, const_w, *k));
        CHECK(paths[1] == paths[0]);
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
// path, every ISA), and Z that broadcasts (per channel; a batch larger than the
// Conv's) takes the pass after the Conv, on every fourth case; against the
// reference, bitwise equal at 1 and 2 threads.
TEST_CASE("Conv with a residual Z and Relu fused matches the reference on every path") {
  const std::vector<const KernelSet*> sets = available_kernel_sets();
  int ci = 0;  // the case's index
  for (const ConvCase& cc : conv_cases()) {
    for (int z_kind = 0; z_kind < 3; ++z_kind) {  // Z as y, Z per channel [M, 1...], Z of batch 2
      if (z_kind > 0 && ci % 4 != 0) continue;    // the broadcast forms on every fourth case
      const int idx = ci * 3 + z_kind;
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
      // y = max(0, conv + Z) over the broadcast shape (Z's batch may be larger: conv's n is 0 then).
      std::vector<int64_t> y_shape = conv_shape;
      if (z_kind == 2) y_shape[0] = z_shape[0];
      const int64_t per_image = static_cast<int64_t>(ref.size()) / conv_shape[0], osz = per_image / cc.M;
      for (const KernelSet* k : sets) {
        std::vector<Tensor> results;
        std::string conv_path;
        for (int threads : {1, 2}) {
          SessionOptions o;
          o.threads = threads;
          o.isa = k->isa;
          RunProfile prof;
          results.push_back(Session(path, o).run({{"x", X}, {"b", B}, {"z", Z}}, &prof)[0].second);
          conv_path = conv_detail(prof);
        }
        const Tensor& y = results[0];
        INFO("case " << ci << " Z kind " << z_kind << ", isa " << std::string(k->isa));
        CHECK(conv_path == expected_path(cc, true, *k));
        REQUIRE(y.shape() == Shape(y_shape.begin(), y_shape.end()));
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
    ++ci;
  }
}
