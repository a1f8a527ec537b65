// Pad fusion (passes/fuse_pad.cpp): Pad by zeros on the spatial axes before a
// Conv or an AveragePool becomes the reader's pads (the pool then counts them:
// count_include_pad = 1), with outputs as the unfused graph's; a Pad with a
// nonzero value, on the channel axis, of another mode, with a second reader,
// or before a pool whose own pads are not counted or that has ceil_mode stays.
#include <doctest/doctest.h>

#include "model_builder.h"
#include "normrt/normrt.h"
#include "optimized_vs_plain.h"

using namespace normrt;
using test::ModelBuilder;

namespace {

test::OptimizedVsPlain compare(ModelBuilder& m, const std::string& tag, const NamedTensors& in) {
  const auto dir = test::temp_dir("padfuse_" + tag);
  return test::run_optimized_vs_plain(m.save(dir / "m.onnx"), in);
}

}  // namespace

TEST_CASE("Pad fusion: zero Pads fold into the Conv's and the AveragePool's pads") {
  ModelBuilder m(13);
  m.input("x", {1, 4, 9, 11}).output("c").output("a").output("a2");
  m.init_i64("p1", {0, 0, 1, 2, 0, 0, 2, 0});
  m.init_f("w", {3, 4, 3, 3}, std::vector<float>(108, 0.1f));
  m.node("Pad", {"x", "p1"}, {"xp1"});
  auto* conv = m.node("Conv", {"xp1", "w"}, {"c"});
  ModelBuilder::attr_ints(conv, "pads", {1, 0, 0, 1});  // its own pads add up with the Pad's
  m.init_i64("p2", {0, 0, 1, 1, 0, 0, 1, 1});
  m.node("Pad", {"x", "p2"}, {"xp2"});
  auto* pool = m.node("AveragePool", {"xp2"}, {"a"});  // the padded zeros are counted
  ModelBuilder::attr_ints(pool, "kernel_shape", {3, 3});
  m.init_i64("p3", {0, 0, 0, 1, 0, 0, 2, 1});
  m.node("Pad", {"x", "p3"}, {"xp3"});
  auto* pool2 = m.node("AveragePool", {"xp3"}, {"a2"});  // own pads, counted too
  ModelBuilder::attr_ints(pool2, "kernel_shape", {2, 3});
  ModelBuilder::attr_ints(pool2, "strides", {2, 2});
  ModelBuilder::attr_ints(pool2, "pads", {1, 0, 0, 1});
  ModelBuilder::attr_i(pool2, "count_include_pad", 1);
  const auto r = compare(m, "fuse", {{"x", test::random_tensor({1, 4, 9, 11}, 21)}});
  CHECK(test::op_count(r, "Pad") == 0);
  CHECK(test::op_count(r, "Conv") == 1);
  CHECK(test::op_count(r, "AveragePool") == 2);
  CHECK(r.max_diff <= 1e-6);
}

TEST_CASE("Pad fusion does not fire where it must not") {
  ModelBuilder m(13);
  m.input("x", {1, 4, 6, 7}).output("a").output("b").output("c").output("d").output("xp4").output("e");
  m.init_i64("p", {0, 0, 1, 1, 0, 0, 1, 1});
  m.init_i64("pc", {0, 1, 0, 0, 0, 0, 0, 0});  // pads a channel
  m.init_f("one", {}, {1.f});
  const auto pool = [&](const char* in, const char* out, bool own_pads) {
    auto* n = m.node("AveragePool", {in}, {out});
    ModelBuilder::attr_ints(n, "kernel_shape", {3, 3});
    if (own_pads) ModelBuilder::attr_ints(n, "pads", {1, 1, 1, 1});  // not counted (count_include_pad 0)
  };
  m.node("Pad", {"x", "p", "one"}, {"xp1"});  // pads with ones
  pool("xp1", "a", false);
  m.node("Pad", {"x", "pc"}, {"xp2"});
  pool("xp2", "b", false);
  auto* refl = m.node("Pad", {"x", "p"}, {"xp3"});
  ModelBuilder::attr_s(refl, "mode", "reflect");
  pool("xp3", "c", false);
  m.node("Pad", {"x", "p"}, {"xp4"});  // also a graph output
  pool("xp4", "d", true);
  m.node("Pad", {"x", "p"}, {"xp5"});
  auto* ceil = m.node("AveragePool", {"xp5"}, {"e"});  // ceil_mode: a window starting in the Pad's zeros is kept
  ModelBuilder::attr_ints(ceil, "kernel_shape", {3, 3});
  ModelBuilder::attr_ints(ceil, "strides", {2, 2});
  ModelBuilder::attr_i(ceil, "ceil_mode", 1);
  const auto r = compare(m, "nofuse", {{"x", test::random_tensor({1, 4, 6, 7}, 22)}});
  CHECK(test::op_count(r, "Pad") == 5);
  CHECK(r.max_diff == 0);
}
