// Hostile but valid values (issue #22): extreme attributes and input values
// that the spec allows must plan and run to the spec's result, with no
// signed overflow on the way (the refused ones are in tests/corpus/malformed).
// Pow on int32 (UB: an out-of-range double → int32) and QuantizeLinear's
// block_size (the block count overflowed, refusing a valid scale) failed
// before issue #22; the others lock in the clamping that keeps them defined.
#include <doctest/doctest.h>

#include <atomic>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "model_builder.h"
#include "normrt/normrt.h"
#include "ops/parallel.h"

using namespace normrt;
using test::ModelBuilder;

namespace {

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

NamedTensors run(ModelBuilder& m, const NamedTensors& in, const std::string& tag) {
  auto dir = test::temp_dir(tag);
  Session s(m.save(dir / "m.onnx"));
  return s.run(in);
}

Tensor iota_floats(const Shape& shape) {
  Tensor t(DType::Float32, shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = static_cast<float>(i + 1);
  return t;
}

std::vector<float> values(const Tensor& t) { return {t.data<float>(), t.data<float>() + t.numel()}; }

Tensor slice(int64_t start, int64_t end, int64_t step, const std::string& tag) {
  ModelBuilder m(13);
  m.input("x", {2, 4}).output("y");
  m.init_i64("b", {start});
  m.init_i64("e", {end});
  m.init_i64("a", {1});
  m.init_i64("p", {step});
  m.node("Slice", {"x", "b", "e", "a", "p"}, {"y"});
  return run(m, {{"x", iota_floats({2, 4})}}, tag)[0].second;
}

std::vector<float> trilu(bool upper, int64_t k, const std::string& tag) {
  ModelBuilder m(14);
  m.input("x", {3, 3}).output("y");
  m.init_i64("k", {k})->clear_dims();  // a scalar
  ModelBuilder::attr_i(m.node("Trilu", {"x", "k"}, {"y"}), "upper", upper ? 1 : 0);
  return values(run(m, {{"x", iota_floats({3, 3})}}, tag)[0].second);
}

}  // namespace

TEST_CASE("Slice with int64 extremes for starts, ends and steps") {
  // x = [[1 2 3 4] [5 6 7 8]]: a step of −2^63 from the end takes the last column only.
  const Tensor back = slice(kMax, kMin, kMin, "slice_min_step");
  CHECK(back.shape() == Shape{2, 1});
  CHECK(values(back) == std::vector<float>{4, 8});
  const Tensor front = slice(kMin, kMax, kMax, "slice_max_step");
  CHECK(front.shape() == Shape{2, 1});
  CHECK(values(front) == std::vector<float>{1, 5});
  CHECK(slice(kMin, kMin, 1, "slice_empty").shape() == Shape{2, 0});
}

TEST_CASE("Trilu with k = ±2^63") {
  const std::vector<float> all{1, 2, 3, 4, 5, 6, 7, 8, 9}, none(9, 0.f);
  CHECK(trilu(true, kMin, "trilu_up_min") == all);
  CHECK(trilu(true, kMax, "trilu_up_max") == none);
  CHECK(trilu(false, kMin, "trilu_lo_min") == none);
  CHECK(trilu(false, kMax, "trilu_lo_max") == all);
}

TEST_CASE("EyeLike with k = ±2^63 has no diagonal inside") {
  for (int64_t k : {kMin, kMax}) {
    ModelBuilder m(9);
    m.input("x", {3, 4}).output("y");
    ModelBuilder::attr_i(m.node("EyeLike", {"x"}, {"y"}), "k", k);
    CHECK(values(run(m, {{"x", iota_floats({3, 4})}}, "eyelike")[0].second) == std::vector<float>(12, 0.f));
  }
}

TEST_CASE("Pow on int32 wraps like numpy where the power leaves int32") {
  ModelBuilder m(15);
  m.input("x", {3}, 6).input("e", {3}, 6).output("y", 6);
  m.node("Pow", {"x", "e"}, {"y"});
  Tensor x(DType::Int32, {3}), e(DType::Int32, {3});
  const int32_t xv[] = {10, 2, -3}, ev[] = {10, 31, 21};
  std::memcpy(x.raw(), xv, sizeof xv);
  std::memcpy(e.raw(), ev, sizeof ev);
  const Tensor y = run(m, {{"x", x}, {"e", e}}, "pow_i32")[0].second;
  // numpy.power(int32): 10^10 mod 2^32 = 1410065408, 2^31 → −2^31, (−3)^21 = −10460353203 → −2165451699 + 2^32.
  CHECK(y.data<int32_t>()[0] == 1410065408);
  CHECK(y.data<int32_t>()[1] == std::numeric_limits<int32_t>::min());
  CHECK(y.data<int32_t>()[2] == static_cast<int32_t>(int64_t{-10460353203} & 0xffffffff));
}

TEST_CASE("Split into num_outputs parts of a dim near 2^60 (its tensor empty)") {
  const int64_t dim = (int64_t{1} << 60) - 1;  // the largest an empty shape's other dims may multiply to
  ModelBuilder m(18);
  m.input("x", {0, dim}, 2).output("a", 2).output("b", 2);
  auto* n = m.node("Split", {"x"}, {"a", "b"});
  ModelBuilder::attr_i(n, "axis", 1);
  ModelBuilder::attr_i(n, "num_outputs", 2);
  const NamedTensors out = run(m, {{"x", Tensor(DType::UInt8, {0, dim})}}, "split_huge");
  CHECK(out[0].second.shape() == Shape{0, int64_t{1} << 59});
  CHECK(out[1].second.shape() == Shape{0, (int64_t{1} << 59) - 1});
}

TEST_CASE("an output over the per-tensor limit is refused as its op plans it, naming the op") {
  // [1,1,2^24,2^24] floats (1 PiB): each axis within Resize's 2^24, so before
  // set_output checked the limit Resize built 2 × 2^24 taps (512 MB) first.
  ModelBuilder m(13);
  m.input("x", {1, 1, 4, 4}).output("y");
  m.init_f("s", {4}, {1.f, 1.f, 4194304.f, 4194304.f});
  m.node("Resize", {"x", "", "s"}, {"y"});
  auto dir = test::temp_dir("resize_over_limit");
  try {
    Session s(m.save(dir / "m.onnx"));
    FAIL("the session was created");
  } catch (const Error& e) {
    const std::string what = e.what();
    INFO(what);
    CHECK(e.code() == ErrorCode::InvalidArgument);
    CHECK(what.find("Resize") != std::string::npos);
    CHECK(what.find("output 0 float32[1,1,16777216,16777216] needs 1125899906842624 bytes, over the limit") !=
          std::string::npos);
  }
}

TEST_CASE("QuantizeLinear with block_size 2^63 − 1 is one block per row") {
  ModelBuilder m(21);
  m.input("x", {2, 4}).output("y", 2);
  m.init_f("s", {2, 1}, {1.f, 2.f});
  auto* n = m.node("QuantizeLinear", {"x", "s"}, {"y"});
  ModelBuilder::attr_i(n, "axis", 1);
  ModelBuilder::attr_i(n, "block_size", kMax);
  const Tensor y = run(m, {{"x", iota_floats({2, 4})}}, "quant_block_huge")[0].second;
  const std::vector<uint8_t> want{1, 2, 3, 4, 2, 3, 4, 4};  // 5..8 / 2, half to even
  CHECK(std::vector<uint8_t>(y.data<uint8_t>(), y.data<uint8_t>() + 8) == want);
}

TEST_CASE("shape_numel refuses a shape whose nonzero dims overflow, even with a 0") {
  CHECK(shape_numel({0, int64_t{1} << 40, int64_t{1} << 19}) == 0);
  CHECK_THROWS_AS(shape_numel({0, int64_t{1} << 40, int64_t{1} << 40}), Error);
  CHECK_THROWS_AS(shape_numel({int64_t{1} << 40, int64_t{1} << 40, 0}), Error);
  // Empty: the other dims times any element size (8 at most) must fit.
  CHECK(shape_numel({0, (int64_t{1} << 60) - 1}, DType::UInt8) == 0);
  CHECK_THROWS_AS(shape_numel({0, int64_t{1} << 60}, DType::UInt8), Error);
  // Not empty: the count times this dtype's size.
  CHECK(shape_numel({int64_t{1} << 62}, DType::UInt8) == int64_t{1} << 62);
  CHECK_THROWS_AS(shape_numel({int64_t{1} << 62}, DType::Float32), Error);
}

TEST_CASE("parallel_rows splits and sizes work without overflowing") {
  CHECK(part_start(kMax, 3, 4) == kMax / 4 * 3 + kMax % 4 * 3 / 4);
  CHECK(part_start(kMax, 4, 4) == kMax);
  CHECK(part_start(10, 3, 4) == 7);
  CHECK(work_mul(int64_t{1} << 40, int64_t{1} << 40) == kMax);
  CHECK(work_mul(3, 5) == 15);
  std::atomic<int64_t> covered{0};
  parallel_rows(1000, kMax, [&](int64_t first, int64_t last) { covered += last - first; });
  CHECK(covered == 1000);
}

// Issue #22, the ops added after the first audit (run-time values that must
// not drive an allocation, and work estimates that must not overflow).
TEST_CASE("Multinomial of an empty batch with 2^59 classes allocates nothing per class") {
  ModelBuilder m(7);
  m.input("x", {0, int64_t{1} << 59}).output("y", 6);
  ModelBuilder::attr_i(m.node("Multinomial", {"x"}, {"y"}), "sample_size", 3);
  auto out = run(m, {{"x", Tensor(DType::Float32, {0, int64_t{1} << 59})}}, "hostile_multinomial");
  CHECK(out[0].second.shape() == Shape{0, 3});
}

TEST_CASE("TfIdfVectorizer of no rows with 2^31 columns counts nothing") {
  ModelBuilder m(9);
  m.input("x", {0, 4}, 7).output("y");
  auto* n = m.node("TfIdfVectorizer", {"x"}, {"y"});
  ModelBuilder::attr_s(n, "mode", "TF");
  ModelBuilder::attr_i(n, "min_gram_length", 1);
  ModelBuilder::attr_i(n, "max_gram_length", 1);
  ModelBuilder::attr_i(n, "max_skip_count", 0);
  ModelBuilder::attr_ints(n, "pool_int64s", {5});
  ModelBuilder::attr_ints(n, "ngram_counts", {0});
  ModelBuilder::attr_ints(n, "ngram_indexes", {(int64_t{1} << 31) - 1});
  auto out = run(m, {{"x", Tensor(DType::Int64, {0, 4})}}, "hostile_tfidf");
  CHECK(out[0].second.shape() == Shape{0, int64_t{1} << 31});  // column 2^31 − 1 is the last
}

TEST_CASE("LRN with size 2^63 − 1 sums every channel") {
  // The window covers all 3 channels: y = x / (1 + 1/size · Σ x²)^0.75 ≈ x.
  ModelBuilder m(13);
  m.input("x", {1, 3, 1, 2}).output("y");
  ModelBuilder::attr_i(m.node("LRN", {"x"}, {"y"}), "size", kMax);
  const std::vector<float> y = values(run(m, {{"x", iota_floats({1, 3, 1, 2})}}, "hostile_lrn")[0].second);
  CHECK(y == values(iota_floats({1, 3, 1, 2})));
}
