// Pad's row-copy path and the reductions' contiguous fast paths against direct
// fp64 / index references; the optimizer's zero-Pad removal; training-mode
// Dropout with ratio 0.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "model_builder.h"
#include "normrt/normrt.h"

using namespace normrt;
using test::ModelBuilder;
using test::random_tensor;

namespace {

int count(const ModelSummary& s, const std::string& op) {
  for (auto& [k, n] : s.op_counts)
    if (k == op) return n;
  return 0;
}

SessionOptions with(OptimizationLevel level, int threads = 1) {
  SessionOptions o;
  o.optimization = level;
  o.threads = threads;
  return o;
}

// ---- Pad --------------------------------------------------------------------

// The source index of output index o along an axis of size n (pad_begin pb),
// or -1 for the constant value: ONNX's definitions written out directly.
int64_t pad_source(int64_t o, int64_t pb, int64_t n, const std::string& mode) {
  int64_t i = o - pb;
  if (i >= 0 && i < n) return i;
  if (mode == "constant") return -1;
  if (mode == "edge") return i < 0 ? 0 : n - 1;
  if (mode == "wrap") return ((i % n) + n) % n;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;  // reflect
  return i;
}

// x (float32 or another dtype via its bytes) padded per `pads`, element by element.
Tensor pad_reference(const Tensor& x, const std::vector<int64_t>& pads, const std::string& mode, const void* value) {
  const Shape& in = x.shape();
  const size_t r = in.size(), es = dtype_size(x.dtype());
  Shape out(r);
  for (size_t d = 0; d < r; ++d) out[d] = in[d] + pads[d] + pads[d + r];
  Tensor y(x.dtype(), out);
  std::vector<int64_t> idx(r, 0);
  for (int64_t k = 0; k < y.numel(); ++k) {
    int64_t rem = k, src = 0, stride = 1;
    bool fill = false;
    for (size_t d = r; d-- > 0;) {
      idx[d] = rem % out[d];
      rem /= out[d];
      const int64_t i = pad_source(idx[d], pads[d], in[d], mode);
      fill = fill || i < 0;
      src += i * stride;
      stride *= in[d];
    }
    std::memcpy(static_cast<char*>(y.raw()) + k * es, fill ? value : static_cast<const char*>(x.raw()) + src * es, es);
  }
  return y;
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

onnx::TensorProto* scalar_init(ModelBuilder& m, const std::string& name, int elem, const void* v, size_t bytes) {
  auto* t = m.g->add_initializer();
  t->set_name(name);
  t->set_data_type(elem);
  t->set_raw_data(std::string(static_cast<const char*>(v), bytes));
  return t;
}

// Pads from -2 to 2 at both ends of the last axis (the row copy and its
// edges), with outer axes cropped, padded or left alone, in every mode and
// for 1-, 2-, 4- and 8-byte elements with a nonzero constant value.
TEST_CASE("Pad: row copies with edge pads -2..2 on every axis, every mode, against an index reference") {
  struct Elem {
    int onnx;
    DType dtype;
  };
  const std::vector<Elem> elems = {{1, DType::Float32}, {3, DType::Int8}, {5, DType::Int16}, {11, DType::Float64}};
  const std::vector<std::vector<int64_t>> outer = {
      {0, 0, 0, 0}, {1, 2, 2, 1}, {-1, 0, -2, 1}, {2, -2, 0, -1}, {0, 1, -1, 2}};
  const Shape shape = {3, 4, 5};
  for (const Elem& e : elems) {
    for (const std::string mode : {"constant", "reflect", "edge", "wrap"}) {
      ModelBuilder m(19);
      m.input("x", {3, 4, 5}, e.onnx).input("pads", {6}, 7).output("y", e.onnx);
      unsigned char value[8];
      for (unsigned char& b : value) b = 0x5a;  // a nonzero constant of every width
      scalar_init(m, "v", e.onnx, value, dtype_size(e.dtype));
      ModelBuilder::attr_s(m.node("Pad", {"x", "pads", "v"}, {"y"}), "mode", mode);
      auto dir = test::temp_dir("pad_rows");
      Session s(m.save(dir / "m.onnx"), with(OptimizationLevel::None));
      Tensor x(e.dtype, shape);
      std::mt19937 rng(7);
      for (size_t b = 0; b < x.nbytes(); ++b)
        static_cast<unsigned char*>(x.raw())[b] = static_cast<unsigned char>(rng());
      if (e.dtype == DType::Float64)  // finite doubles (NaN bit patterns still compare as bytes)
        for (int64_t i = 0; i < x.numel(); ++i) x.data<double>()[i] = static_cast<double>(i) - 7.5;
      for (const auto& o : outer) {
        for (int64_t lb = -2; lb <= 2; ++lb) {
          for (int64_t le = -2; le <= 2; ++le) {
            const std::vector<int64_t> pads = {o[0], o[1], lb, o[2], o[3], le};
            Tensor p(DType::Int64, {6});
            std::memcpy(p.raw(), pads.data(), 6 * sizeof(int64_t));
            CAPTURE(mode);
            const std::string dtype = dtype_name(e.dtype);
            CAPTURE(dtype);
            CAPTURE(lb);
            CAPTURE(le);
            CAPTURE(o[0]);
            auto got = s.run({{"x", x}, {"pads", p}});
            CHECK(same_bytes(got[0].second, pad_reference(x, pads, mode, value)));
          }
        }
      }
    }
  }
}

TEST_CASE("Pad by zero is removed by the optimizer (Constant, folded and attribute pads) / others stay") {
  ModelBuilder m(13);
  m.input("x", {2, 3, 4}).output("y").output("kept_out").output("z");
  auto* c = m.node("Constant", {}, {"zeros"});
  auto* a = c->add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto::TENSOR);
  a->mutable_t()->set_data_type(7);
  a->mutable_t()->add_dims(6);
  for (int i = 0; i < 6; ++i) a->mutable_t()->add_int64_data(0);
  ModelBuilder::attr_s(m.node("Pad", {"x", "zeros"}, {"p1"}), "mode", "reflect");
  m.init_i64("half", {0, 0, 0});
  // pads known only after constant folding:
  ModelBuilder::attr_i(m.node("Concat", {"half", "half"}, {"folded"}), "axis", 0);
  m.node("Pad", {"p1", "folded"}, {"p2"});
  m.node("Neg", {"p2"}, {"y"});
  m.node("Pad", {"x", "zeros"}, {"kept_out"});  // a graph output: kept
  m.init_i64("one", {0, 0, 1, 0, 0, 1});
  m.node("Pad", {"x", "one"}, {"z"});  // pads by one: kept
  auto dir = test::temp_dir("pad_zero");
  const std::string path = m.save(dir / "m.onnx");
  CHECK(count(summarize_model(path, false), "Pad") == 4);
  CHECK(count(summarize_model(path, true), "Pad") == 2);
  const NamedTensors in = {{"x", random_tensor({2, 3, 4}, 11)}};
  NamedTensors a0 = Session(path, with(OptimizationLevel::None)).run(in);
  NamedTensors a1 = Session(path, with(OptimizationLevel::All)).run(in);
  for (size_t k = 0; k < a0.size(); ++k) CHECK(same_bytes(a0[k].second, a1[k].second));
  for (int64_t i = 0; i < 24; ++i) CHECK(a1[0].second.data<float>()[i] == -in[0].second.data<float>()[i]);
  CHECK(a1[2].second.shape() == Shape{2, 3, 6});

  // Pad-2: pads as an attribute.
  ModelBuilder m2(10);
  m2.input("x", {2, 3}).output("y");
  ModelBuilder::attr_ints(m2.node("Pad", {"x"}, {"p"}), "pads", {0, 0, 0, 0});
  m2.node("Neg", {"p"}, {"y"});
  const std::string path2 = m2.save(dir / "m2.onnx");
  CHECK(count(summarize_model(path2, true), "Pad") == 0);
  Tensor x2 = random_tensor({2, 3}, 12);
  auto y2 = Session(path2).run({{"x", x2}});
  for (int64_t i = 0; i < 6; ++i) CHECK(y2[0].second.data<float>()[i] == -x2.data<float>()[i]);
}

// ---- Dropout in training mode -----------------------------------------------

ModelBuilder training_dropout(float ratio, bool with_ratio, bool mask, bool ratio_as_constant_node = false) {
  ModelBuilder m(13);
  m.input("x", {3, 4}).output("y");
  if (mask) m.output("mask", 9);
  const uint8_t t = 1;
  scalar_init(m, "training", 9, &t, 1);
  if (ratio_as_constant_node) {
    ModelBuilder::attr_f(m.node("Constant", {}, {"ratio"}), "value_float", ratio);
  } else if (with_ratio) {
    scalar_init(m, "ratio", 1, &ratio, 4);
  }
  std::vector<std::string> outs = {"d"};
  if (mask) outs.push_back("mask");
  m.node("Dropout", {"x", with_ratio ? "ratio" : "", "training"}, outs);
  m.node("Neg", {"d"}, {"y"});
  return m;
}

TEST_CASE("Dropout with training_mode=true and ratio 0 is the identity (mask all true) / other ratios fail clearly") {
  auto dir = test::temp_dir("dropout_training");
  const Tensor x = random_tensor({3, 4}, 13);
  for (OptimizationLevel level : {OptimizationLevel::None, OptimizationLevel::All}) {
    for (bool mask : {false, true}) {
      for (bool constant_node : {false, true}) {
        const std::string path = training_dropout(0.f, true, mask, constant_node).save(dir / "d.onnx");
        auto out = Session(path, with(level)).run({{"x", x}});
        REQUIRE(out.size() == (mask ? 2u : 1u));
        for (int64_t i = 0; i < 12; ++i) CHECK(out[0].second.data<float>()[i] == -x.data<float>()[i]);
        if (mask) {
          CHECK(out[1].second.dtype() == DType::Bool);
          for (int64_t i = 0; i < 12; ++i) CHECK(out[1].second.data<uint8_t>()[i] == 1);
        }
        if (!mask) CHECK(count(summarize_model(path, true), "Dropout") == 0);  // removed as an identity
      }
    }
    const std::string half = training_dropout(0.5f, true, false).save(dir / "half.onnx");
    CHECK(count(summarize_model(half, true), "Dropout") == 1);
    CHECK_THROWS_WITH_AS(Session(half, with(level)).run({{"x", x}}),
                         doctest::Contains("training_mode=true with ratio 0.5"), Error);
    const std::string deflt = training_dropout(0.f, false, false).save(dir / "default.onnx");
    CHECK_THROWS_WITH_AS(Session(deflt, with(level)).run({{"x", x}}),
                         doctest::Contains("training_mode=true with the default ratio 0.5"), Error);
  }
  // A ratio computed at run time (Abs of an input): the session plans the node
  // when the value is known (node by node), and refuses a nonzero one then.
  ModelBuilder m = training_dropout(0.f, false, false);
  m.input("r", {}).g->mutable_node(0)->set_input(1, "ratio");
  m.node("Abs", {"r"}, {"ratio"});
  Session computed(m.save(dir / "computed.onnx"));
  Tensor r(DType::Float32, {});
  r.data<float>()[0] = 0.f;
  auto out = computed.run({{"x", x}, {"r", r}});
  for (int64_t i = 0; i < 12; ++i) CHECK(out[0].second.data<float>()[i] == -x.data<float>()[i]);
  r.data<float>()[0] = -0.25f;
  CHECK_THROWS_WITH_AS(computed.run({{"x", x}, {"r", r}}), doctest::Contains("training_mode=true with ratio 0.25"),
                       Error);
}

// ---- Reductions ---------------------------------------------------------------

struct Kind {
  const char* op;
  double (*positive)(double);  // maps N(0,1) to the kind's domain
};

double any(double v) { return v; }
double positive(double v) { return std::fabs(v) + 0.25; }
double near_one(double v) { return 1.0 + 0.05 * v; }

const std::vector<Kind> kKinds = {{"ReduceSum", any},       {"ReduceMean", any},        {"ReduceMax", any},
                                  {"ReduceMin", any},       {"ReduceL1", any},          {"ReduceL2", any},
                                  {"ReduceSumSquare", any}, {"ReduceLogSum", positive}, {"ReduceLogSumExp", any},
                                  {"ReduceProd", near_one}};

// The fp64 reduction of xs (as ONNX defines each op).
double reduce_reference(const std::string& op, const std::vector<double>& xs) {
  double r = op == "ReduceProd" ? 1 : 0;
  if (op == "ReduceMax" || op == "ReduceMin") {
    r = xs[0];
    for (double v : xs) r = op == "ReduceMax" ? std::max(r, v) : std::min(r, v);
    return r;
  }
  double m = -std::numeric_limits<double>::infinity();
  for (double v : xs) m = std::max(m, v);
  for (double v : xs) {
    if (op == "ReduceProd")
      r *= v;
    else if (op == "ReduceL1")
      r += std::fabs(v);
    else if (op == "ReduceL2" || op == "ReduceSumSquare")
      r += v * v;
    else if (op == "ReduceLogSumExp")
      r += std::exp(v - m);
    else
      r += v;
  }
  if (op == "ReduceMean") return r / static_cast<double>(xs.size());
  if (op == "ReduceL2") return std::sqrt(r);
  if (op == "ReduceLogSum") return std::log(r);
  if (op == "ReduceLogSumExp") return std::log(r) + m;
  return r;
}

// x [A, R, B] reduced over R (the middle axis); checks y against the reference.
template <class T>
void check_reduction(const std::string& op, const Tensor& x, const Tensor& y, int64_t A, int64_t R, int64_t B) {
  REQUIRE(y.numel() == A * B);
  const double tol = std::is_same_v<T, float> ? 2e-6 : 1e-12;
  int bad = 0;
  for (int64_t a = 0; a < A; ++a)
    for (int64_t b = 0; b < B; ++b) {
      std::vector<double> xs;
      for (int64_t r = 0; r < R; ++r) xs.push_back(static_cast<double>(x.data<T>()[(a * R + r) * B + b]));
      const double want = reduce_reference(op, xs), got = static_cast<double>(y.data<T>()[a * B + b]);
      if (!(std::fabs(got - want) <= tol * std::max(1.0, std::fabs(want)))) ++bad;
    }
  CHECK(bad == 0);
}

template <class T>
Tensor reduce_input(const Shape& shape, const Kind& k, uint64_t seed) {
  Tensor t(std::is_same_v<T, float> ? DType::Float32 : DType::Float64, shape);
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g(0.0, 1.0);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<T>()[i] = static_cast<T>(k.positive(g(rng)));
  return t;
}

// One model per op, layout and keepdims; x has symbolic dims, so each shape re-plans.
// layout 0: [A, R] over axes [-1] (runs); 1: [A, 7, 7] over [-2, -1] (49-runs, as mnasnet);
// 2: [R, B] over [0] (columns); 3: [A, R, B] over [1] (middle).
template <class T>
void reduce_layout(const Kind& k, int layout, bool keepdims, int elem) {
  ModelBuilder m(11);  // axes as an attribute for every op
  const std::vector<std::vector<int64_t>> dims = {{-1, -2}, {-1, 7, 7}, {-1, -2}, {-1, -2, -3}};
  const std::vector<std::vector<int64_t>> axes = {{-1}, {-2, -1}, {0}, {1}};
  m.input("x", dims[static_cast<size_t>(layout)], elem).output("y", elem);
  auto* n = m.node(k.op, {"x"}, {"y"});
  ModelBuilder::attr_ints(n, "axes", axes[static_cast<size_t>(layout)]);
  ModelBuilder::attr_i(n, "keepdims", keepdims ? 1 : 0);
  auto dir = test::temp_dir("reduce_fast");
  Session s(m.save(dir / "m.onnx"), with(OptimizationLevel::None, 2));
  std::vector<int64_t> lengths;
  for (int64_t l = 1; l <= 33; ++l) lengths.push_back(l);
  lengths.push_back(49);
  uint64_t seed = 1;
  for (int64_t len : lengths) {
    for (int64_t other : {int64_t{1}, int64_t{3}, int64_t{70}, int64_t{300}}) {
      if (layout == 1 && len > 1) continue;  // the 7×7 run is fixed; vary A only
      Shape shape;
      int64_t A = 1, R = len, B = 1;
      if (layout == 0) shape = {A = other, len};
      if (layout == 1) shape = {A = other * 5, 7, 7}, R = 49;
      if (layout == 2) shape = {len, B = other};
      if (layout == 3) shape = {A = 2, len, B = other};
      const std::string op = k.op;
      CAPTURE(op);
      CAPTURE(layout);
      CAPTURE(keepdims);
      CAPTURE(len);
      CAPTURE(other);
      const Tensor x = reduce_input<T>(shape, k, seed++);
      auto out = s.run({{"x", x}});
      const Tensor& y = out[0].second;
      CHECK(y.shape().size() == (keepdims ? shape.size() : shape.size() - (layout == 1 ? 2 : 1)));
      check_reduction<T>(k.op, x, y, A, R, B);
    }
  }
}

TEST_CASE("Reductions over trailing, leading and middle axes (fast paths) against an fp64 reference") {
  for (const Kind& k : kKinds)
    for (int layout = 0; layout < 4; ++layout)
      for (bool keepdims : {false, true}) reduce_layout<float>(k, layout, keepdims, 1);
  for (const Kind& k : kKinds) {
    reduce_layout<double>(k, 0, false, 11);
    reduce_layout<double>(k, 2, true, 11);
  }
}

TEST_CASE("ReduceMax/ReduceMin propagate NaN on the fast paths / integer ReduceL1 sums absolute values") {
  auto dir = test::temp_dir("reduce_nan");
  for (const char* op : {"ReduceMax", "ReduceMin"}) {
    for (int64_t axis : {0, 1}) {
      ModelBuilder m(13);
      m.input("x", {3, 20}).output("y");
      ModelBuilder::attr_ints(m.node(op, {"x"}, {"y"}), "axes", {axis});
      Session s(m.save(dir / "m.onnx"));
      Tensor x = random_tensor({3, 20}, 5);
      x.data<float>()[1 * 20 + 13] = std::numeric_limits<float>::quiet_NaN();
      auto y = s.run({{"x", x}})[0].second;
      for (int64_t i = 0; i < y.numel(); ++i) {
        const bool nan_here = axis == 1 ? i == 1 : i == 13;
        CHECK(std::isnan(y.data<float>()[i]) == nan_here);
      }
    }
  }
  ModelBuilder m(13);
  m.input("x", {2, 3}, 6).output("y", 6);
  ModelBuilder::attr_ints(m.node("ReduceL1", {"x"}, {"y"}), "axes", {1});
  Tensor x(DType::Int32, {2, 3});
  const int32_t v[6] = {-3, 2, -4, 5, -6, 0};
  std::memcpy(x.raw(), v, sizeof v);
  auto y = Session(m.save(dir / "l1.onnx")).run({{"x", x}})[0].second;
  CHECK(y.data<int32_t>()[0] == 9);
  CHECK(y.data<int32_t>()[1] == 11);
}

}  // namespace
